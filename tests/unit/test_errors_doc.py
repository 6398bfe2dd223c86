"""docs/errors.md is generated from core/errors.py and must be committed up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from backend.app.core.errors import Rejected, all_errors

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_errors_doc", ROOT / "scripts/gen_errors_doc.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_errors_doc_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == _script().render(), "run: uv run python scripts/gen_errors_doc.py"


def test_errors_doc_lists_every_code() -> None:
    text = _script().render()
    for cls in all_errors():
        if cls is not Rejected:
            assert f"`{cls.code}`" in text
