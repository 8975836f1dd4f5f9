"""Wire model tests: canonical round trips, normalisation, and that bad input only ever
raises ModelError naming the offending field (meteorgui.model, PROTOCOL.md "Entities")."""

from __future__ import annotations

import copy
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meteorgui import model
from meteorgui.model import (
    MAX_FILE_SIZE,
    MAX_STRING,
    MAX_TIME_MS,
    CameraStatus,
    Event,
    FileRecord,
    Location,
    Meta,
    ModelError,
    Orientation,
)

PROPS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings(PROPS, max_examples=150)
CORRUPT = settings(PROPS, max_examples=250)


def canon(value: Any) -> str:
    """Type-exact comparison key: 5, 5.0 and True all differ, unlike with ==."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------- strategies

hex32 = st.binary(min_size=16, max_size=16).map(bytes.hex)
camera_ids = st.one_of(
    st.binary(min_size=6, max_size=6).map(bytes.hex),  # what real nodes use: a MAC address
    st.from_regex(r"[A-Za-z0-9_.:\-]{1,64}", fullmatch=True),
)
times = st.integers(0, MAX_TIME_MS)
free_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\x00"), max_size=40
)
_ns_part = st.text(
    st.characters(min_codepoint=0x20, exclude_categories=("Cs", "Cc"), exclude_characters=":"),
    min_size=1,
    max_size=12,
)
_ns_value = st.one_of(
    st.sampled_from(
        [
            "meteor",
            "triggers/event/maxBrightness/lensCorr",
            "triggers/event/bgrdSub",
            "timelapse/frame/lensCorr",
            "duration",
            "a:b:c",
        ]
    ),
    st.text(
        st.characters(min_codepoint=0x20, exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
    ),
)
nsstrings = st.builds(lambda ns, v: f"{ns}:{v}", st.just("meteorpi") | _ns_part, _ns_value)
bare_ns_values = _ns_value.filter(lambda v: ":" not in v)
mime_types = st.sampled_from(
    ["image/png", "video/mp4", "application/json", "text/plain"]
) | st.from_regex(r"[A-Za-z0-9!#$&^_.+\-]{1,20}/[A-Za-z0-9!#$&^_.+\-]{1,20}", fullmatch=True)


def finite(lo: float | None = None, hi: float | None = None):
    ints = st.integers(
        -(2**63) if lo is None else math.ceil(lo), 2**63 if hi is None else math.floor(hi)
    )
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False) | ints


metas = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("string"),
            "key": nsstrings,
            "value": st.text(
                st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\x00"),
                max_size=60,
            ),
        }
    ),
    st.fixed_dictionaries({"type": st.just("number"), "key": nsstrings, "value": finite()}),
    st.fixed_dictionaries({"type": st.just("date"), "key": nsstrings, "value": times}),
)
meta_lists = st.lists(metas, max_size=3)
locations = st.fixed_dictionaries(
    {},
    optional={
        "lat": finite(-90.0, 90.0),
        "long": finite(-180.0, 360.0),
        "gps": st.booleans(),
        "error": finite(0.0, 1e8),
    },
)
orientations = st.fixed_dictionaries(
    {},
    optional={
        "alt": finite(-90.0, 90.0),
        "az": finite(-360.0, 360.0),
        "rot": finite(-360.0, 360.0),
        "error": finite(0.0, 360.0),
        "width": finite(0.0, 360.0),
    },
)
pixels = st.integers(-(2**20), 2**20)
regions = st.lists(
    st.lists(st.fixed_dictionaries({"x": pixels, "y": pixels}), max_size=5), max_size=3
)


@st.composite
def status_dicts(draw):
    d = draw(
        st.fixed_dictionaries(
            {"status_id": hex32, "camera_id": camera_ids, "valid_from": times, "regions": regions},
            optional={
                "lens": free_text,
                "sensor": free_text,
                "inst_name": free_text,
                "inst_url": free_text,
                "software_version": st.integers(0, 2**31),
                "location": locations,
                "orientation": orientations,
            },
        )
    )
    if draw(st.booleans()):
        d["valid_to"] = draw(st.integers(d["valid_from"], MAX_TIME_MS))
    return d


file_dicts = st.fixed_dictionaries(
    {
        "file_id": hex32,
        "camera_id": camera_ids,
        "status_id": hex32,
        "file_time": times,
        "file_size": st.integers(0, MAX_FILE_SIZE),
        "mime_type": mime_types,
        "md5": hex32,
        "meta": meta_lists,
    },
    optional={
        "semantic_type": nsstrings,
        "file_name": st.text(
            st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\x00"), max_size=60
        ),
    },
)
event_dicts = st.fixed_dictionaries(
    {
        "event_id": hex32,
        "camera_id": camera_ids,
        "status_id": hex32,
        "event_time": times,
        "event_type": nsstrings,
        "files": st.lists(file_dicts, max_size=3, unique_by=lambda f: f["file_id"]),
        "meta": meta_lists,
    }
).filter(lambda d: d["event_id"] not in {f["file_id"] for f in d["files"]})


@dataclass(frozen=True)
class Kind:
    name: str  # also the root of every error path ("event.files[0].md5")
    parse: Any
    valid: Any


KINDS = {
    "meta": Kind("meta", Meta.from_dict, metas),
    "location": Kind("location", lambda d: Location.from_dict(d, "location"), locations),
    "orientation": Kind(
        "orientation", lambda d: Orientation.from_dict(d, "orientation"), orientations
    ),
    "status": Kind("status", CameraStatus.from_dict, status_dicts()),
    "file": Kind("file", FileRecord.from_dict, file_dicts),
    "event": Kind("event", Event.from_dict, event_dicts),
}
ALL = list(KINDS)
TOP = ["status", "file", "event"]


# --------------------------------------------------------------------------- field map


def _bad_float(lo: float | None, hi: float | None) -> list:
    bad = [math.nan, math.inf, -math.inf, "1.0", True, False, [], {}, 10**400, -(10**400)]
    if lo is not None:
        bad.append(lo - 1)
    if hi is not None:
        bad.append(hi + 1)
    return bad


_BAD_TEXT = [5, 1.5, True, [], {}, "a\x00b", "x" * (MAX_STRING + 1), "lone \ud800 surrogate"]
_BAD_TIME = [
    -1,
    MAX_TIME_MS + 1,
    10**30,
    1.5,
    1_443_234_567_891.0,
    "1443234567891",
    True,
    False,
    [],
    {},
    math.nan,
]
BAD: dict[str, list] = {
    "uuid": [
        "",
        "not-a-uuid",
        "g" * 32,
        "a" * 31,
        "a" * 33,
        "a" * 32 + "\x00",
        12345,
        1.5,
        True,
        [],
        {},
        "0x" + "a" * 30,
        " " + "a" * 31,
        "+" + "a" * 31,
        "\uff11" * 32,
    ],
    "camera_id": [
        "",
        "has space",
        "x" * 65,
        "bad/slash",
        "a\x00b",
        "caf\u00e9",
        7,
        True,
        ["a"],
        {},
    ],
    "time": _BAD_TIME,
    "size": [-1, MAX_FILE_SIZE + 1, 2**63, 1.0, "10", True, False, [], {}, math.inf],
    "md5": ["", "z" * 32, "a" * 31, "a" * 33, "a" * 31 + "\x00", " " + "a" * 31, 5, True, [], {}],
    "mime": [
        "",
        "png",
        "image/",
        "/png",
        "image/png; charset=x",
        "image /png",
        "a\x00/b",
        5,
        [],
        True,
    ],
    "nsstring": [
        "",
        ":",
        ":value",
        "ns:",
        "ns:a\nb",
        "n\x00s:v",
        "a" * 3000,
        "x:" + "y" * 1025,
        "bad\ud800",
        5,
        1.5,
        True,
        [],
        {},
    ],
    "text": _BAD_TEXT,
    "file_name": _BAD_TEXT + ["x" * 256],
    "bool": [1, 0, "true", "false", 1.0, [], {}],
    "version": [-1, 2**31 + 1, True, 1.5, "3", [], {}],
    "pixel": [2**20 + 1, -(2**20) - 1, True, 1.5, "1", [], {}],
    "dict": [[], "x", "", 5, 0, 1.5, True, False, [{}]],
    "list": [{}, {"a": 1}, "x", "", 5, 0, 1.5, True, False],
    "meta_type": ["blob", "", "STRING", "int", 5, True, [], {}],
    "meta_value:string": _BAD_TEXT,
    "meta_value:number": _bad_float(None, None),
    "meta_value:date": _BAD_TIME,
}
FLOATS = {
    "location": {"lat": (-90.0, 90.0), "long": (-180.0, 360.0), "error": (0.0, 1e8)},
    "orientation": {
        "alt": (-90.0, 90.0),
        "az": (-360.0, 360.0),
        "rot": (-360.0, 360.0),
        "error": (0.0, 360.0),
        "width": (0.0, 360.0),
    },
}
for _kind, _fields in FLOATS.items():
    for _key, (_lo, _hi) in _fields.items():
        BAD[f"{_kind}.{_key}"] = _bad_float(_lo, _hi)

# (key, kind of bad value, required)
FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    "meta": [("type", "meta_type", True), ("key", "nsstring", True)],
    "location": [(k, f"location.{k}", False) for k in FLOATS["location"]]
    + [("gps", "bool", False)],
    "orientation": [(k, f"orientation.{k}", False) for k in FLOATS["orientation"]],
    "status": [
        ("status_id", "uuid", True),
        ("camera_id", "camera_id", True),
        ("valid_from", "time", True),
        ("valid_to", "time", False),
        ("lens", "text", False),
        ("sensor", "text", False),
        ("inst_name", "text", False),
        ("inst_url", "text", False),
        ("software_version", "version", False),
        ("location", "dict", False),
        ("orientation", "dict", False),
        ("regions", "list", False),
    ],
    "file": [
        ("file_id", "uuid", True),
        ("camera_id", "camera_id", True),
        ("status_id", "uuid", True),
        ("file_time", "time", True),
        ("file_size", "size", True),
        ("mime_type", "mime", True),
        ("md5", "md5", True),
        ("semantic_type", "nsstring", False),
        ("file_name", "file_name", False),
        ("meta", "list", False),
    ],
    "event": [
        ("event_id", "uuid", True),
        ("camera_id", "camera_id", True),
        ("status_id", "uuid", True),
        ("event_time", "time", True),
        ("event_type", "nsstring", True),
        ("files", "list", False),
        ("meta", "list", False),
    ],
}


@dataclass
class Slot:
    container: Any  # the dict or list holding the field
    key: Any
    path: str  # the field's name as ModelError must report it
    bad: str  # key into BAD
    required: bool


def slots(kind: str, d: dict, where: str):
    """Every field of a valid wire dict, nested entities included."""
    for key, bad, required in FIELDS[kind]:
        yield Slot(d, key, f"{where}.{key}", bad, required)
    if kind == "meta":
        yield Slot(d, "value", f"{where}.value", f"meta_value:{d['type']}", True)
    for sub in ("location", "orientation"):
        if kind == "status" and sub in d:
            yield from slots(sub, d[sub], f"{where}.{sub}")
    if kind == "status":
        for i, poly in enumerate(d["regions"]):
            yield Slot(d["regions"], i, f"{where}.regions[{i}]", "list", False)
            for j, pt in enumerate(poly):
                pw = f"{where}.regions[{i}][{j}]"
                yield Slot(poly, j, pw, "dict", False)
                yield Slot(pt, "x", f"{pw}.x", "pixel", True)
                yield Slot(pt, "y", f"{pw}.y", "pixel", True)
    if kind == "event":
        for i, f in enumerate(d["files"]):
            yield Slot(d["files"], i, f"{where}.files[{i}]", "dict", False)
            yield from slots("file", f, f"{where}.files[{i}]")
    if kind in ("file", "event"):
        for i, m in enumerate(d["meta"]):
            yield Slot(d["meta"], i, f"{where}.meta[{i}]", "dict", False)
            yield from slots("meta", m, f"{where}.meta[{i}]")


DROP = object()


@st.composite
def corrupted(draw, kind: str):
    """A valid dict with exactly one field made invalid, and that field's error path."""
    d = copy.deepcopy(draw(KINDS[kind].valid))
    slot = draw(st.sampled_from(list(slots(kind, d, kind))))
    choice = draw(st.sampled_from(BAD[slot.bad] + ([DROP, None] if slot.required else [])))
    if choice is DROP:
        del slot.container[slot.key]
    else:
        slot.container[slot.key] = copy.deepcopy(choice)
    return d, slot.path


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from([10**400, -(10**400), 2**63, -1, 0, "", "\x00", "\ud800", "a" * 40]),
)
all_keys = sorted({key for fields in FIELDS.values() for key, _, _ in fields} | {"value", "x", "y"})
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(all_keys) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=20,
)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", ALL)
@PROPS
@given(data=st.data())
def test_canonical_dict_round_trips_exactly(kind, data):
    k = KINDS[kind]
    d = data.draw(k.valid)
    obj = k.parse(d)
    assert canon(obj.to_dict()) == canon(d)
    wire = model.loads(model.dumps(d))
    assert canon(wire) == canon(d)
    again = k.parse(wire)
    assert again == obj
    assert canon(again.to_dict()) == canon(d)


@pytest.mark.parametrize(
    "ms", [0, 1, 1_443_234_567_891, 4_102_444_800_123, MAX_TIME_MS - 1, MAX_TIME_MS]
)
def test_millisecond_times_survive_exactly(ms):
    d = {
        "event_id": "a" * 32,
        "camera_id": "aabbccddeeff",
        "status_id": "b" * 32,
        "event_time": ms,
        "event_type": "meteorpi:meteor",
        "files": [],
        "meta": [{"type": "date", "key": "meteorpi:peak", "value": ms}],
    }
    out = Event.from_dict(model.loads(model.dumps(d).encode())).to_dict()
    assert type(out["event_time"]) is int and out["event_time"] == ms
    assert type(out["meta"][0]["value"]) is int and out["meta"][0]["value"] == ms
    status = {
        "status_id": "c" * 32,
        "camera_id": "cam",
        "valid_from": ms,
        "valid_to": ms,
        "regions": [],
    }
    assert CameraStatus.from_dict(model.loads(model.dumps(status))).to_dict() == status


def test_realistic_event_from_a_camera():
    """What a node sends (PROTOCOL.md): a clip, stills, JSON path, meta; some ids dashed."""
    status_id = uuid.uuid4()
    files = [
        {
            "file_id": str(uuid.uuid4()).upper(),
            "camera_id": "b827eb2bd02a",
            "status_id": status_id.hex,
            "file_time": 1_443_234_567_891 + i,
            "file_size": 1000 * i,
            "file_name": name,
            "mime_type": mime,
            "semantic_type": sem,
            "md5": "D41D8CD98F00B204E9800998ECF8427E",
            "meta": [],
        }
        for i, (name, mime, sem) in enumerate(
            [
                ("clip.mp4", "video/mp4", "triggers/event/video"),
                ("max.png", "image/png", "meteorpi:triggers/event/maxBrightness/lensCorr"),
                ("bg.png", "image/png", "triggers/event/bgrdSub"),
                ("path.json", "application/json", "meteorpi:triggers/event/path"),
            ]
        )
    ]
    body = model.dumps(
        {
            "type": "event",
            "event": {
                "event_id": str(uuid.uuid4()),
                "camera_id": "b827eb2bd02a",
                "status_id": str(status_id),
                "event_time": 1_443_234_567_891,
                "event_type": "meteor",
                "files": files,
                "meta": [
                    {"type": "number", "key": "duration", "value": 1.25},
                    {"type": "number", "key": "meteorpi:frames", "value": 31},
                    {"type": "string", "key": "meteorpi:camera", "value": "south"},
                ],
            },
        }
    )
    event = Event.from_dict(model.loads(body.encode("utf-8"))["event"])
    assert event.event_type == "meteorpi:meteor"
    assert event.status_id == status_id.hex
    assert [f.mime_type for f in event.files] == [
        "video/mp4",
        "image/png",
        "image/png",
        "application/json",
    ]
    assert [f.semantic_type for f in event.files] == [
        "meteorpi:triggers/event/video",
        "meteorpi:triggers/event/maxBrightness/lensCorr",
        "meteorpi:triggers/event/bgrdSub",
        "meteorpi:triggers/event/path",
    ]
    assert all(len(f.file_id) == 32 and f.file_id == f.file_id.lower() for f in event.files)
    assert {f.md5 for f in event.files} == {"d41d8cd98f00b204e9800998ecf8427e"}
    assert [m.key for m in event.meta] == [
        "meteorpi:duration",
        "meteorpi:frames",
        "meteorpi:camera",
    ]
    assert Event.from_dict(event.to_dict()) == event


# --------------------------------------------------------------------------- normalisation

UUID_FORMS = [
    str,
    lambda u: str(u).upper(),
    lambda u: u.hex.upper(),
    lambda u: "{" + str(u) + "}",
    lambda u: "urn:uuid:" + str(u),
]


@pytest.mark.parametrize("kind", ["meta", "status", "file", "event"])
@PROPS
@given(data=st.data())
def test_non_canonical_input_is_normalised(kind, data):
    k = KINDS[kind]
    expected = data.draw(k.valid)
    raw = copy.deepcopy(expected)
    changed = 0
    for exp, got in zip(slots(kind, expected, kind), slots(kind, raw, kind), strict=True):
        if not data.draw(st.booleans()):
            continue
        if exp.bad == "uuid":
            form = data.draw(st.sampled_from(UUID_FORMS))
            got.container[got.key] = form(uuid.UUID(hex=exp.container[exp.key]))
        elif exp.bad == "md5":
            got.container[got.key] = exp.container[exp.key].upper()
        elif exp.bad == "nsstring" and exp.key in exp.container:
            bare = data.draw(bare_ns_values)
            got.container[got.key] = bare
            exp.container[exp.key] = f"meteorpi:{bare}"
        else:
            continue
        changed += 1
    obj = k.parse(raw)
    assert canon(obj.to_dict()) == canon(expected)
    assert k.parse(obj.to_dict()) == obj
    if changed == 0:
        assert canon(raw) == canon(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "0123456789ABCDEF0123456789ABCDEF",
        "01234567-89ab-cdef-0123-456789abcdef",
        "01234567-89AB-CDEF-0123-456789ABCDEF",
        "{01234567-89ab-cdef-0123-456789abcdef}",
        "urn:uuid:01234567-89ab-cdef-0123-456789abcdef",
    ],
)
def test_uuid_spellings_accepted(raw):
    assert model.parse_uuid(raw, "event.event_id") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "raw",
    [
        " 123456789abcdef0123456789abcdef",  # int() would strip the blank
        "+123456789abcdef0123456789abcdef",  # ...accept a sign
        "0x23456789abcdef0123456789abcdef",  # ...or a 0x prefix
        "0_23456789abcdef0123456789abcdef",  # ...or underscores
        "\uff10" * 32,  # ...or full-width digits
        "0123456789abcdef0123456789abcdef\n",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "-0123456789abcdef0123456789abcdef",
        "01234567-89abcdef-0123-456789abcdef-",
        "{01234567-89ab-cdef-0123-456789abcdef",
        "g123456789abcdef0123456789abcdef",
        "",
    ],
)
def test_uuid_lookalikes_rejected(raw):
    with pytest.raises(ModelError, match=r"^event\.event_id: "):
        model.parse_uuid(raw, "event.event_id")


def test_nsstring_rules():
    assert model.parse_nsstring("meteor", "e") == "meteorpi:meteor"
    assert model.parse_nsstring("x:y:z", "e") == "x:y:z"
    for bad in ("", ":", ":a", "a:", "a:\x01", "\x1f:a"):
        with pytest.raises(ModelError, match=r"^event\.event_type: "):
            model.parse_nsstring(bad, "event.event_type")


# --------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize("kind", ALL)
@CORRUPT
@given(data=st.data())
def test_each_corruption_raises_model_error_naming_the_field(kind, data):
    d, path = data.draw(corrupted(kind))
    with pytest.raises(ModelError) as info:
        KINDS[kind].parse(d)
    assert str(info.value).startswith(path + ":"), (path, str(info.value))


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("value", [None, [], "event", 5, 1.5, True, [{"a": 1}]])
def test_non_object_entity_rejected(kind, value):
    with pytest.raises(ModelError, match=rf"^{kind}: expected an object"):
        KINDS[kind].parse(value)


@pytest.mark.parametrize("value", [0, False, "", {}, 0.0])
def test_falsy_non_lists_are_not_taken_as_empty(value):
    status = {"status_id": "a" * 32, "camera_id": "c", "valid_from": 0, "regions": value}
    with pytest.raises(ModelError, match=r"^status\.regions: expected a list"):
        CameraStatus.from_dict(status)
    event = {
        "event_id": "a" * 32,
        "camera_id": "c",
        "status_id": "b" * 32,
        "event_time": 0,
        "event_type": "meteor",
        "files": value,
        "meta": [],
    }
    with pytest.raises(ModelError, match=r"^event\.files: expected a list"):
        Event.from_dict(event)


def test_absent_or_null_lists_mean_empty():
    status = CameraStatus.from_dict(
        {"status_id": "a" * 32, "camera_id": "c", "valid_from": 0, "regions": None}
    )
    assert status.regions == () and status.to_dict()["regions"] == []
    event = Event.from_dict(
        {
            "event_id": "a" * 32,
            "camera_id": "c",
            "status_id": "b" * 32,
            "event_time": 0,
            "event_type": "meteor",
        }
    )
    assert event.files == () and event.meta == ()
    assert event.to_dict()["files"] == [] and event.to_dict()["meta"] == []


def test_file_size_bounds():
    base = {
        "file_id": "a" * 32,
        "camera_id": "c",
        "status_id": "b" * 32,
        "file_time": 0,
        "mime_type": "image/png",
        "md5": "c" * 32,
        "meta": [],
    }
    assert FileRecord.from_dict(base | {"file_size": MAX_FILE_SIZE}).file_size == 2**40
    assert FileRecord.from_dict(base | {"file_size": 0}).file_size == 0
    for bad in (MAX_FILE_SIZE + 1, -1, True, 10.0):
        with pytest.raises(ModelError, match=r"^file\.file_size: "):
            FileRecord.from_dict(base | {"file_size": bad})


def test_duplicate_file_in_event_rejected():
    f = {
        "file_id": "a" * 32,
        "camera_id": "c",
        "status_id": "b" * 32,
        "file_time": 0,
        "file_size": 1,
        "mime_type": "image/png",
        "md5": "c" * 32,
        "meta": [],
    }
    dashed = f | {"file_id": str(uuid.UUID(hex="a" * 32))}  # same id, other spelling
    event = {
        "event_id": "d" * 32,
        "camera_id": "c",
        "status_id": "b" * 32,
        "event_time": 0,
        "event_type": "meteor",
        "files": [f, dashed],
        "meta": [],
    }
    with pytest.raises(ModelError, match=r"^event\.files\[1\]\.file_id: appears twice"):
        Event.from_dict(event)
    own = event | {"files": [f | {"file_id": str(uuid.UUID(hex="d" * 32))}]}
    with pytest.raises(ModelError, match=r"^event\.files\[0\]\.file_id: is the event's own id"):
        Event.from_dict(own)


def test_status_valid_to_before_valid_from_rejected():
    d = {"status_id": "a" * 32, "camera_id": "c", "valid_from": 10, "valid_to": 9, "regions": []}
    with pytest.raises(ModelError, match=r"^status\.valid_to: "):
        CameraStatus.from_dict(d)


def test_meta_number_beyond_double_range_rejected():
    """A JSON integer like 1e400-as-digits parses to a Python int no float can hold."""
    for value in (10**309, -(10**309), 10**5000):
        with pytest.raises(ModelError, match=r"^meta\.value: "):
            Meta.from_dict({"type": "number", "key": "k", "value": value})
    with pytest.raises(ModelError, match=r"^location\.lat: "):
        Location.from_dict({"lat": 10**400}, "location")
    big = Meta.from_dict({"type": "number", "key": "k", "value": 10**300})
    assert big.to_dict()["value"] == 10**300


def test_lone_surrogates_rejected():
    """They cannot be written as UTF-8, so the archive (SQLite) could not store them."""
    with pytest.raises(ModelError, match=r"^status\.lens: "):
        CameraStatus.from_dict(
            model.loads(
                '{"status_id": "%s", "camera_id": "c", "valid_from": 0, "lens": "a\\ud800"}'
                % ("a" * 32)
            )
        )
    # a proper pair is one astral character and is fine
    status = CameraStatus.from_dict(
        model.loads(
            '{"status_id": "%s", "camera_id": "c", "valid_from": 0, "lens": "\\ud83c\\udf20"}'
            % ("a" * 32)
        )
    )
    assert status.lens == "\U0001f320"


@pytest.mark.parametrize("kind", ALL)
@FUZZ
@given(value=json_values)
def test_arbitrary_json_only_raises_model_error(kind, value):
    _only_model_error(KINDS[kind], value)


@pytest.mark.parametrize("kind", ALL)
@FUZZ
@given(data=st.data())
def test_one_field_replaced_by_arbitrary_json_only_raises_model_error(kind, data):
    k = KINDS[kind]
    d = copy.deepcopy(data.draw(k.valid))
    targets = [(s.container, s.key) for s in slots(kind, d, kind)] + [(d, "unknown_extension")]
    container, key = data.draw(st.sampled_from(targets))
    container[key] = data.draw(json_values)
    _only_model_error(k, d)


def _only_model_error(k: Kind, value: Any) -> None:
    try:
        obj = k.parse(value)
    except ModelError as exc:
        assert str(exc).startswith(k.name), str(exc)
        return
    # accepted: the output is canonical, strict JSON, and parses back to the same thing
    out = obj.to_dict()
    assert canon(model.loads(model.dumps(out))) == canon(out)
    again = k.parse(out)
    assert again == obj
    assert canon(again.to_dict()) == canon(out)


# --------------------------------------------------------------------------- loads


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        '{"lat": NaN}',
        "[1, Infinity]",
        '{"a": [-Infinity]}',
        "1e400",
        "-1e400",
        '{"value": 1E999}',
    ],
)
def test_loads_rejects_non_finite_numbers(text):
    for data in (text, text.encode()):
        with pytest.raises(ModelError, match=r"^JSON: "):
            model.loads(data)


@pytest.mark.parametrize(
    "data",
    [
        "",
        " ",
        "{",
        "}",
        '{"a":1,}',
        "[1 2]",
        "{'a': 1}",
        "nul",
        '{"a": 1}x',
        '"abc',
        "\x00",
        '{"a": "\x01"}',
        "[" * 100_000,
        b"",
        b'{"a": "\xff"}',
        b"\xff\xfe\xfd",
        b'"\xc0\xaf"',
        b'"\xe2\x82"',
        b'"\xed\xa0\x80"',
        b'{"lens": "\xed\xb0\x80"}',
        b"\x80",
    ],
)
def test_loads_rejects_malformed_json_and_invalid_utf8(data):
    with pytest.raises(ModelError, match=r"^JSON: "):
        model.loads(data)


def test_loads_accepts_utf8_and_keeps_numbers_exact():
    body = '{"a": "M\u00e9t\u00e9ore \U0001f320", "t": 1443234567891, "f": 0.1, "n": -0.0}'
    for data in (body, body.encode("utf-8"), bytearray(body.encode("utf-8"))):
        parsed = model.loads(data)
        assert parsed["a"] == "M\u00e9t\u00e9ore \U0001f320"
        assert type(parsed["t"]) is int and parsed["t"] == 1_443_234_567_891
        assert parsed["f"] == 0.1 and math.copysign(1, parsed["n"]) == -1


def test_dumps_refuses_nan():
    with pytest.raises(ValueError):
        model.dumps({"value": math.nan})


@FUZZ
@given(data=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_loads_on_arbitrary_bytes_only_raises_model_error(data):
    try:
        value = model.loads(data)
    except ModelError as exc:
        assert str(exc).startswith("JSON: ")
        return
    assert model.loads(model.dumps(value)) == value
