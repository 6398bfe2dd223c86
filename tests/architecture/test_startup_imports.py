"""What the server loads to start: not pandas/numpy (about 60 MB of RSS, issue 18's memory
budget), which come with the first strategy run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_starting_the_app_does_not_import_pandas_or_numpy() -> None:
    code = (
        "import sys, backend.app.main, backend.app.cli; "
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_strategy_context_still_brings_them() -> None:
    code = (
        "import sys; from backend.app.services.strategies.context import ContextInfo; "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
