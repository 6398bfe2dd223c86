"""The compatibility corpus: real public QMT scripts, run unchanged in backtest.

`qmt_corpus/manifest.json` names each script (source, sha256, what it exercises, whether it
runs, what it must show). The scripts are third-party code without a licence to
redistribute, so they are not in the repository: set `QMT_CORPUS_DIR` to a folder holding
them (file names as in the manifest). Without it these tests are skipped; the idioms they
use are pinned, in our own words, by test_qmt_compat.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.app.services.strategies.backtest import BacktestSpec, run_backtest
from backend.app.services.strategies.guard import Guard, script_error_text
from backend.app.services.strategies.loader import read_source
from backend.app.services.strategies.qmt_api import RunLog

MANIFEST = json.loads(
    (Path(__file__).parent / "qmt_corpus" / "manifest.json").read_text(encoding="utf-8")
)
CORPUS = Path(os.environ.get("QMT_CORPUS_DIR", "/nonexistent"))


def test_manifest_has_ten_scripts_and_nine_run() -> None:
    scripts = MANIFEST["scripts"]
    assert len(scripts) >= 10
    assert sum(s["runs"] for s in scripts) >= 9
    assert all(s["runs"] or s["why_not"] for s in scripts)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="QMT_CORPUS_DIR not set (third-party scripts)")
@pytest.mark.parametrize("entry", MANIFEST["scripts"], ids=lambda e: e["file"])
def test_corpus_script_runs_unchanged(entry: dict[str, Any]) -> None:
    path = CORPUS / entry["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], "not the same text"
    start, end = entry.get("start", MANIFEST["range"][0]), entry.get("end", MANIFEST["range"][1])
    spec = BacktestSpec(
        name=path.stem, source=read_source(path), filename=str(path), codes=entry["codes"],
        start=date.fromisoformat(start), end=date.fromisoformat(end), seed=MANIFEST["seed"],
        today=date(2026, 12, 1),
    )  # fmt: skip
    log = RunLog(limit=100_000)
    if not entry["runs"]:
        with pytest.raises(BaseException):  # noqa: B017, PT011 - any failure: why_not says which
            run_backtest(spec, Guard(60.0), log, lambda done, total: None)
        return
    try:
        result = run_backtest(spec, Guard(60.0), log, lambda done, total: None)
    except Exception as exc:
        pytest.fail(script_error_text(exc, str(path)))
    text = "\n".join(log.lines)
    assert result["bars"] > 0
    assert (result["trades_count"] > 0) == entry["expect_trades"]
    for needle in entry["expect_log"]:
        assert needle in text
    if entry["expect_paint"]:
        assert result["paint"][entry["expect_paint"]]
