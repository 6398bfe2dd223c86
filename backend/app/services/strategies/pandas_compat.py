"""Frames that behave as QMT's bundled (older) numpy/pandas did, for scripts written there.

QMT ships an old Python with numpy 1.x and pandas 1.x; published scripts rely on two things
that newer versions removed:

* `float(df.values)` / `int(close_list[-1])` on a one-element array (numpy 2 raises "only
  0-dimensional arrays can be converted to Python scalars") — `QmtArray` converts any
  one-element array, as numpy 1 did;
* `df.close[-1]` on a Series indexed by timetags (pandas 3 treats an int as a label and raises
  KeyError) — `QmtSeries` falls back to the position for int keys the index does not hold,
  as pandas 1 did.

Everything else is plain pandas: the classes only override these two behaviours, and frames
derived from them (slices, arithmetic, `np.log(df.close)`) keep them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]


class QmtArray(np.ndarray):
    """An ndarray whose one-element instances convert to float/int (numpy 1 behaviour)."""

    def _scalar(self) -> Any:
        if self.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        return np.asarray(self).reshape(-1)[0]

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        return int(self._scalar())


def _compat_values(values: Any) -> Any:
    return values.view(QmtArray) if isinstance(values, np.ndarray) else values


class QmtSeries(pd.Series):  # type: ignore[misc]
    @property
    def _constructor(self) -> type[QmtSeries]:
        return QmtSeries

    @property
    def _constructor_expanddim(self) -> type[QmtFrame]:
        return QmtFrame

    @property
    def values(self) -> Any:
        return _compat_values(super().values)

    def __getitem__(self, key: Any) -> Any:
        if (
            isinstance(key, int | np.integer)
            and not isinstance(key, bool)
            and not pd.api.types.is_integer_dtype(self.index.dtype)
            and key not in self.index
        ):
            return self.iloc[int(key)]
        return super().__getitem__(key)


class QmtFrame(pd.DataFrame):  # type: ignore[misc]
    @property
    def _constructor(self) -> type[QmtFrame]:
        return QmtFrame

    @property
    def _constructor_sliced(self) -> type[QmtSeries]:
        return QmtSeries

    @property
    def values(self) -> Any:
        return _compat_values(super().values)
