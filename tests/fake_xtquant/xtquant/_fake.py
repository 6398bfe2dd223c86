"""The fake terminal and market data a test drives (one per import of the fake package)."""

from __future__ import annotations

from typing import Any

from xtquant._terminal import FakeTerminal

_current: FakeTerminal | None = None

# xtdata's state: {code: tick}, {code: instrument detail}, {(code, period): [bar, ...]}.
ticks: dict[str, dict[str, Any]] = {}
details: dict[str, dict[str, Any]] = {}
bars: dict[tuple[str, str], list[dict[str, Any]]] = {}
downloads: list[tuple[str, str, str]] = []
sectors: dict[str, list[str]] = {}


def install(terminal: FakeTerminal) -> FakeTerminal:
    global _current
    _current = terminal
    return terminal


def terminal() -> FakeTerminal:
    if _current is None:
        raise RuntimeError("no fake terminal installed; use the fake_xtquant fixture")
    return _current
