"""The importer's entity cache, bounded in bytes across every login.

The protocol lets an exporter say ``cached_entity`` instead of resending an
offer, so the importer keeps the offers it has seen (the seed: an LRU of 128).
Offers are a camera's to size: one login sending large events it never
completes once grew the 2015 design to gigabytes. Here every entry is costed
in bytes, each login has a share and all logins together a total; the oldest
entries go first. An entry that is evicted only costs the exporter a resend
(``continue-nocache``), which the protocol provides for.

Small offers (almost all of them) are kept parsed; large ones are kept as
their compressed canonical JSON and parsed again when recalled, since parsed
objects take several times the bytes of their text.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict

from ..model import ENTITY_KINDS, Entity, dumps, entity_kind, loads

TOTAL_BYTES = 64 << 20  # all logins together
LOGIN_BYTES = 16 << 20  # one login's share
LOGIN_ENTRIES = 128  # as the seed's LRU, per login
# Offers whose JSON is at most this long stay parsed (costed at PARSED_FACTOR times it).
KEEP_PARSED = 16 << 10
PARSED_FACTOR = 6
ENTRY_OVERHEAD = 256


class _Packed:
    """An offer kept as compressed canonical JSON."""

    __slots__ = ("kind", "data")

    def __init__(self, entity: Entity):
        self.kind = entity_kind(entity)
        self.data = zlib.compress(dumps(entity.to_dict()).encode("utf-8"), 1)

    def unpack(self) -> Entity:
        return ENTITY_KINDS[self.kind].from_dict(loads(zlib.decompress(self.data)), self.kind)


class EntityCache:
    """(login, entity id) -> entity, with byte budgets per login and in total."""

    def __init__(
        self,
        total_bytes: int = TOTAL_BYTES,
        login_bytes: int = LOGIN_BYTES,
        login_entries: int = LOGIN_ENTRIES,
    ):
        self.total_bytes, self.login_bytes = total_bytes, login_bytes
        self.login_entries = login_entries
        self._all: OrderedDict[tuple[str, str], tuple[Entity | _Packed, int]] = OrderedDict()
        self._per_login: dict[str, OrderedDict[str, int]] = {}
        self._login_cost: dict[str, int] = {}
        self.bytes = 0
        self._lock = threading.Lock()

    def put(self, user: str, key: str, entity: Entity, size: int | None = None) -> None:
        """Remember an offer. ``size``: the length of its JSON, if known."""
        if size is None or size > KEEP_PARSED:
            text_len = size
            if text_len is None:
                text_len = len(dumps(entity.to_dict()))
            if text_len > KEEP_PARSED:
                packed = _Packed(entity)
                value: Entity | _Packed = packed
                cost = len(packed.data) + ENTRY_OVERHEAD
            else:
                value, cost = entity, text_len * PARSED_FACTOR + ENTRY_OVERHEAD
        else:
            value, cost = entity, size * PARSED_FACTOR + ENTRY_OVERHEAD
        with self._lock:
            self._drop(user, key)
            if cost > self.login_bytes:
                return  # never worth keeping: it would push out everything else
            self._all[(user, key)] = (value, cost)
            mine = self._per_login.setdefault(user, OrderedDict())
            mine[key] = cost
            self._login_cost[user] = self._login_cost.get(user, 0) + cost
            self.bytes += cost
            while len(mine) > self.login_entries or self._login_cost[user] > self.login_bytes:
                self._drop(user, next(iter(mine)))
            while self.bytes > self.total_bytes and self._all:
                self._drop(*next(iter(self._all)))

    def get(self, user: str, key: str) -> Entity | None:
        with self._lock:
            found = self._all.get((user, key))
            if found is None:
                return None
            self._all.move_to_end((user, key))
            self._per_login[user].move_to_end(key)
        value = found[0]
        return value.unpack() if isinstance(value, _Packed) else value

    def _drop(self, user: str, key: str) -> None:
        found = self._all.pop((user, key), None)
        if found is None:
            return
        cost = found[1]
        mine = self._per_login[user]
        del mine[key]
        self._login_cost[user] -= cost
        self.bytes -= cost
        if not mine:
            del self._per_login[user], self._login_cost[user]

    def __len__(self) -> int:
        return len(self._all)
