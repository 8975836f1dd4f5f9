"""WHERE clauses shared by the archive's listings, browsing and export selections."""

from __future__ import annotations


def camera_and_time(camera_col: str, time_col: str, camera_id: str | None,
                    after: int | None, before: int | None) -> tuple[list[str], list]:
    """Clauses (joined with AND by the caller) and their arguments: one camera, and
    a time range from ``after`` (included) to ``before`` (excluded); None = any."""
    clauses: list[str] = []
    args: list = []
    if camera_id is not None:
        clauses.append(f"{camera_col} = ?")
        args.append(camera_id)
    if after is not None:
        clauses.append(f"{time_col} >= ?")
        args.append(after)
    if before is not None:
        clauses.append(f"{time_col} < ?")
        args.append(before)
    return clauses, args
