"""The client installs in a fresh virtualenv with only its own dependencies (httpx, pydantic,
websockets): none of the server's come along, and it imports and builds a client there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("fastapi", "sqlalchemy", "uvicorn", "alembic", "loguru", "redis", "typer")


@pytest.mark.skipif(shutil.which("uv") is None, reason="needs the uv command")
def test_client_installs_alone_in_a_fresh_venv(tmp_path: Path) -> None:
    uv = shutil.which("uv") or "uv"
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)  # noqa: S603
    py = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run([uv, "pip", "install", "-q", "--python", str(py), str(REPO / "client")],  # noqa: S603
                   check=True, timeout=300)  # fmt: skip
    listed = subprocess.run([uv, "pip", "list", "--python", str(py)], check=True,  # noqa: S603
                            capture_output=True, text=True).stdout.lower()  # fmt: skip
    names = {line.split()[0] for line in listed.splitlines()[2:] if line.strip()}
    assert {"qmt-api-client", "httpx", "pydantic", "websockets"} <= names
    assert not names & set(SERVER_ONLY), names & set(SERVER_ONLY)
    probe = ("import qmt_api_client as q; c = q.QmtClient('http://127.0.0.1:1', token='t'); "
             "c.close(); print(q.__version__)")  # fmt: skip
    out = subprocess.run([str(py), "-c", probe], check=True, capture_output=True, text=True,  # noqa: S603
                         cwd=tmp_path)  # fmt: skip
    assert out.stdout.strip() == "0.1.0"
