"""What a script draws with `C.paint` / `C.draw_text` / `C.draw_number`: kept for the result.

QMT draws these on its chart; here each `paint` name becomes a series of (bar time, value)
points and each draw_* call a mark, returned in the run's result (`paint`, `marks`) so a UI
can plot them beside the equity curve. Bounded: a script painting every bar of a long
minute run keeps the newest points only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

MAX_SERIES: Final = 20
MAX_POINTS: Final = 5000
MAX_MARKS: Final = 2000


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:  # a one-element array or Series (QMT's draw_number gets `close` series too)
            number = float(value[-1])
        except (TypeError, ValueError, IndexError, KeyError):
            return None
    return number if math.isfinite(number) else None


@dataclass(slots=True)
class Paints:
    series: dict[str, list[tuple[int, float | None]]] = field(default_factory=dict)
    marks: list[dict[str, Any]] = field(default_factory=list)

    def paint(self, name: str, when: int, value: Any) -> None:
        points = self.series.get(name)
        if points is None:
            if len(self.series) >= MAX_SERIES:
                return
            points = self.series[name] = []
        if points and points[-1][0] == when:
            points[-1] = (when, _number(value))  # repainting the same bar replaces it
        else:
            points.append((when, _number(value)))
        if len(points) > MAX_POINTS:
            del points[: len(points) - MAX_POINTS]

    def mark(self, kind: str, when: int, **what: Any) -> None:
        # Scripts pass numpy scalars or arrays here; the result must stay plain JSON.
        plain = {k: v if isinstance(v, str) else _number(v) for k, v in what.items()}
        self.marks.append({"kind": kind, "time": when, **plain})
        if len(self.marks) > MAX_MARKS:
            del self.marks[: len(self.marks) - MAX_MARKS]
