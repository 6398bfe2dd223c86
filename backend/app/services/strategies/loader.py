"""Finding and loading strategy files: `<STRATEGY_DIR>/<name>.py`, never code from a request.

A name is `^[A-Za-z0-9_\\-]+$` and the resolved path must stay inside the directory (no
`..`, no symlink out). The script is executed in a fresh module namespace that already holds
the QMT functions as globals, the way qmttools' stgentry execs a script into a module that did
`from .functions import *`.
"""

from __future__ import annotations

import ast
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from backend.app.services.strategies.guard import StrategyError, script_error_text

NAME_RE: Final = re.compile(r"^[A-Za-z0-9_\-]+$")
MAX_SCRIPT_BYTES: Final = 1_000_000


class StrategyNotFound(LookupError):
    """No such strategy file (or an invalid name, which is reported the same way)."""


@dataclass(frozen=True, slots=True)
class StrategyFile:
    name: str
    path: Path
    description: str


@dataclass(slots=True)
class LoadedStrategy:
    name: str
    filename: str  # the name frames of this script carry in tracebacks
    namespace: dict[str, Any]

    def entry(self, name: str) -> Any | None:
        fn = self.namespace.get(name)
        return fn if callable(fn) else None


def valid_name(name: str) -> bool:
    return bool(NAME_RE.fullmatch(name))


def resolve(strategy_dir: Path, name: str) -> Path:
    """The file of strategy `name`; raises StrategyNotFound for bad names and escapes."""
    if not valid_name(name):
        raise StrategyNotFound(name)
    root = strategy_dir.resolve()
    path = (root / f"{name}.py").resolve()
    if path.parent != root or not path.is_file():
        raise StrategyNotFound(name)
    return path


def describe(path: Path) -> str:
    """The module docstring's text (no execution: parsed with `ast`)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ""
    return (ast.get_docstring(tree) or "").strip()


def list_strategies(strategy_dir: Path) -> list[StrategyFile]:
    if not strategy_dir.is_dir():
        return []
    out = []
    for path in sorted(strategy_dir.glob("*.py")):
        name = path.stem
        if not valid_name(name) or name.startswith("_"):
            continue
        try:
            resolved = resolve(strategy_dir, name)
        except StrategyNotFound:
            continue
        out.append(StrategyFile(name, resolved, describe(resolved)))
    return out


def read_source(path: Path) -> str:
    data = path.read_bytes()
    if len(data) > MAX_SCRIPT_BYTES:
        raise StrategyError(f"策略文件过大 / strategy file larger than {MAX_SCRIPT_BYTES} bytes")
    # QMT scripts are often saved as GBK (`#coding:gbk`); honour that before falling back.
    for encoding in ("utf-8", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StrategyError("无法解码策略文件（需 UTF-8 或 GBK）/ file is neither UTF-8 nor GBK")


def load(
    source: str,
    filename: str,
    name: str,
    qmt_globals: dict[str, Any],
    params: dict[str, Any] | None = None,
) -> LoadedStrategy:
    """Execute the script's top level in a fresh module whose globals start as `qmt_globals`.

    `params` are set before the top level runs (as stgentry's `user_args`) and again after it,
    so a module-level `short = 5` is the default that a parameter `short` overrides. The caller
    runs this inside the run's guarded thread: top-level code is user code too.
    """
    module = types.ModuleType(f"qmt_strategy_{name}")
    namespace = module.__dict__
    namespace.update(qmt_globals)
    namespace.update(params or {})
    namespace["__file__"] = filename
    try:
        # Compiling text (not bytes) ignores a `#coding:gbk` cookie: it was decoded above.
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise StrategyError(
            f"策略语法错误 / syntax error: {exc.msg} ({filename}, line {exc.lineno})"
        ) from None
    try:
        exec(code, namespace)  # noqa: S102 - the operator's own file from STRATEGY_DIR
    except StrategyError:
        raise
    except Exception as exc:
        raise StrategyError(script_error_text(exc, filename)) from None
    namespace.update(params or {})
    loaded = LoadedStrategy(name, filename, namespace)
    if loaded.entry("handlebar") is None and loaded.entry("init") is None:
        raise StrategyError("策略须定义 init(C) 或 handlebar(C) / define init(C) or handlebar(C)")
    return loaded
