"""Row ids as clients may send them (paths, cursors): positive, and small enough for every
database. SQLite and PostgreSQL `BIGINT` stop at 2**63 - 1; a larger cursor overflowed the
SQLite driver (a 500). Ids are capped lower, at 2**62, the bound the path parameters state."""

from __future__ import annotations

MAX_ID = 2**62


def id_from_text(text: str) -> int | None:
    """The id `text` spells in ASCII digits, or None when it is not one in 1..MAX_ID."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
