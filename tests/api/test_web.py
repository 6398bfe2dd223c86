"""The console and the API docs are files of the package, served by the gateway itself: nothing
is fetched from anywhere else (issue 17). The browser suite (tests/browser) drives them."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app.web import CONSOLE, STATIC

# Every URL a page may load must be on the gateway: an absolute http(s) URL in a src/href
# attribute, an @import or a url(...) would be a request to somewhere else.
FOREIGN = re.compile(
    r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import\s+["']?https?:|url\(\s*["']?https?:"""
)


def test_the_console_is_served_at_the_root_with_a_same_origin_policy(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "证券代码" in r.text
    assert r.headers["cache-control"] == "no-cache"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp


def test_every_console_file_is_served_and_none_loads_from_elsewhere(client: TestClient) -> None:
    files = sorted(p for p in CONSOLE.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"index.html", "app.js", "console.css", "ticket.js"}
    for path in files:
        r = client.get(f"/console/{path.name}")
        assert r.status_code == 200, path.name
        assert r.headers["cache-control"] == "no-cache"
        assert not FOREIGN.search(r.text), f"{path.name} loads from another origin"


def test_every_module_the_console_imports_exists(client: TestClient) -> None:
    for path in CONSOLE.glob("*.js"):
        for name in re.findall(r"from '\./([\w-]+\.js)'", path.read_text(encoding="utf-8")):
            assert (CONSOLE / name).is_file(), f"{path.name} imports missing {name}"


def test_swagger_ui_and_redoc_pages_use_the_vendored_assets(client: TestClient) -> None:
    docs = client.get("/docs").text
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert "/vendor/swagger-ui/swagger-ui.css" in docs
    assert "cdn." not in docs
    assert "persistAuthorization" in docs
    redoc = client.get("/redoc").text
    assert "/vendor/redoc/redoc.standalone.js" in redoc
    assert "fonts.googleapis" not in redoc
    assert "cdn." not in redoc
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css",
                  "redoc/redoc.standalone.js", "redoc/logo-mini.svg"):  # fmt: skip
        assert client.get(f"/vendor/{asset}").status_code == 200, asset
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_the_vendored_redoc_has_no_cdn_url_left() -> None:
    bundle = (STATIC / "vendor" / "redoc" / "redoc.standalone.js").read_text(encoding="utf-8")
    assert "cdn.redoc.ly" not in bundle


def test_the_web_routes_are_not_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith(("/console", "/vendor", "/docs", "/redoc"))]


def test_a_missing_console_file_is_a_404_not_a_500(client: TestClient) -> None:
    assert client.get("/console/nope.js").status_code == 404
    assert client.get("/console/../main.py").status_code == 404


@pytest.mark.slow
def test_the_wheel_ships_the_console_and_the_docs_assets(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot build the wheel")
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run(  # noqa: S603
        [uv, "build", "--wheel", "--out-dir", str(tmp_path)],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in [*CONSOLE.iterdir(), *(STATIC / "vendor").rglob("*")]:
        if path.is_file():
            assert path.relative_to(root).as_posix() in names
