"""Row ids as clients may send them (paths, cursors): positive, and small enough for every
database. SQLite and PostgreSQL `BIGINT` stop at 2**63 - 1; a larger cursor overflowed the
SQLite driver (a 500). Ids are capped lower, at 2**53, the bound the path parameters state:
every JSON parser (a double) holds it exactly, and the fuzzer's bounds stay exact."""

from __future__ import annotations

MAX_ID = 2**53  # JSON-safe: a double holds every id up to here
# A page cursor as the OpenAPI document states it: an id of at most 15 digits (< MAX_ID).
CURSOR_PATTERN = r"^[1-9][0-9]{0,14}$"


def id_from_text(text: str) -> int | None:
    """The id `text` spells in ASCII digits, or None when it is not one in 1..MAX_ID."""
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
