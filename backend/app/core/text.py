"""Text a client sends, judged once at the edge, and text a client sent, made safe to echo or log.

Pure functions, no I/O. Three kinds of character never enter the system:

- NUL: PostgreSQL text columns cannot hold it (a 500 there, stored as is on SQLite);
- lone surrogates (U+D800..U+DFFF unpaired, e.g. JSON `"\\ud800"`): not encodable as UTF-8,
  so neither the database driver nor the JSON encoder of the error response can write them;
- other C0 controls and DEL: no field of this API means them, and in a log line they forge
  lines (CR/LF) or terminal escapes (ESC). Multi-line text fields (a remark, a reason) may
  keep TAB, LF and CR; one-line values (paths, query strings, headers, usernames) may not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_ONE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LOG_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ECHO_MAX_CHARS = 64  # of a client's value quoted back in an error
_ECHO_MAX_ITEMS = 8
_ECHO_MAX_DEPTH = 3


def bad_char(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with `text` (e.g. "control character U+0000 at 3"), or None when fine."""
    m = (_MULTI_LINE_BAD if multiline else _ONE_LINE_BAD).search(text)
    if m is None:
        return None
    code = ord(m.group())
    kind = "lone surrogate" if 0xD800 <= code <= 0xDFFF else "control character"
    return f"{kind} U+{code:04X} at {m.start()}"


def walk_strings(
    value: Any, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in parsed JSON (keys included), with where it sits."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            key = str(k)
            yield (*loc, key), key
            yield from walk_strings(v, (*loc, key))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from walk_strings(v, (*loc, i))


def escape_for_log(text: str) -> str:
    """One line whatever `text` holds: CR/LF/TAB as `\\r \\n \\t`, other controls as `\\xNN`."""
    if _LOG_UNSAFE.search(text) is None:
        return text
    return _LOG_UNSAFE.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def clip(value: Any, *, depth: int = 0) -> Any:
    """A client's value, small and encodable, for quoting back in an error: long strings cut
    to ECHO_MAX_CHARS, collections to a few items, unencodable characters escaped."""
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        if len(text) > ECHO_MAX_CHARS:
            return f"{text[:ECHO_MAX_CHARS]}…({len(value)} chars)"
        return text
    if isinstance(value, bytes):
        return clip(value.decode("utf-8", "replace"), depth=depth)
    if isinstance(value, Mapping):
        if depth >= _ECHO_MAX_DEPTH:
            return f"{{…{len(value)} keys}}"
        items = list(value.items())
        out = {clip(str(k)): clip(v, depth=depth + 1) for k, v in items[:_ECHO_MAX_ITEMS]}
        if len(items) > _ECHO_MAX_ITEMS:
            out["…"] = f"{len(items) - _ECHO_MAX_ITEMS} more keys"
        return out
    if isinstance(value, list | tuple):
        if depth >= _ECHO_MAX_DEPTH:
            return f"[…{len(value)} items]"
        out_list = [clip(v, depth=depth + 1) for v in value[:_ECHO_MAX_ITEMS]]
        if len(value) > _ECHO_MAX_ITEMS:
            out_list.append(f"…{len(value) - _ECHO_MAX_ITEMS} more items")
        return out_list
    return value
