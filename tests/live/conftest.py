"""Live-mode tests without Windows: the fake `xtquant` package goes on sys.path here only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR

FAKE_ROOT = Path(__file__).resolve().parents[1] / "fake_xtquant"


def _purge_xtquant() -> None:
    for name in [m for m in sys.modules if m == "xtquant" or m.startswith("xtquant.")]:
        del sys.modules[name]


@pytest.fixture
def fake_xtquant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh fake MiniQMT terminal, importable as `xtquant`; fails the test on a deadlock,
    a trader built on a loop thread, or a callback that raised."""
    for name in [m for m in sys.modules if m == "xtquant" or m.startswith("xtquant.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(FAKE_ROOT))
    from xtquant import _fake
    from xtquant._terminal import FakeTerminal

    terminal = _fake.install(FakeTerminal())
    yield terminal
    terminal.shutdown()
    DEFAULT_CALENDAR.forget_terminal_years()
    _purge_xtquant()
    problems = [*terminal.deadlocks, *terminal.violations]
    problems += [f"callback raised {e!r}" for e in terminal.callback_errors]
    if problems:
        pytest.fail("fake xtquant: " + "; ".join(problems), pytrace=False)
