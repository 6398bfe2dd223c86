"""The real xtquant wheel's two pure-Python modules (`xttype.py`, `xtconstant.py`) for the
parity test, without the 34 MB download and without installing the Windows-only package.

The wheel is a zip: HTTP range requests read its central directory, `RECORD` and the two
members only (a few hundred KB), and each member is checked against the sha256 that `RECORD`
lists. Files are cached under `cache_dir()`.
`XTQUANT_WHEEL=/path/to/xtquant-….whl` uses a local wheel instead (offline machines).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import sys
import urllib.request
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Final

VERSION: Final = "250807.1.2"
WHEEL: Final = f"xtquant-{VERSION}-py3-none-any.whl"
MEMBERS: Final = ("xtquant/xtconstant.py", "xtquant/xttype.py")
_INDEX: Final = "https://pypi.org/simple/xtquant/"
_TIMEOUT: Final = 20.0


class WheelUnavailable(RuntimeError):
    """PyPI cannot be reached (or answered something unexpected); the test skips with this."""


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over HTTP range requests (what zipfile needs)."""

    def __init__(self, url: str) -> None:
        self._url, self._pos = url, 0
        head = urllib.request.Request(url, method="HEAD")  # noqa: S310 - https URL from PyPI
        with urllib.request.urlopen(head, timeout=_TIMEOUT) as response:  # noqa: S310
            self._size = int(response.headers["Content-Length"])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._size if size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        request = urllib.request.Request(  # noqa: S310
            self._url, headers={"Range": f"bytes={self._pos}-{end - 1}"}
        )
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read()
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


def _wheel_url() -> tuple[str, str]:
    request = urllib.request.Request(
        _INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310
        index = json.load(response)
    for entry in index.get("files", []):
        if entry.get("filename") == WHEEL:
            return str(entry["url"]), str(entry["hashes"]["sha256"])
    raise WheelUnavailable(f"{WHEEL} is not in PyPI's index")


def _record_digests(wheel: zipfile.ZipFile) -> dict[str, str]:
    record = wheel.read(f"xtquant-{VERSION}.dist-info/RECORD").decode()
    out = {}
    for line in record.splitlines():
        name, digest, _ = line.rsplit(",", 2)
        if name in MEMBERS and digest.startswith("sha256="):
            out[name] = digest.removeprefix("sha256=")
    return out


def _extract(wheel: zipfile.ZipFile, target: Path) -> None:
    digests = _record_digests(wheel)
    for member in MEMBERS:
        data = wheel.read(member)
        got = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if digests.get(member) != got:
            raise WheelUnavailable(f"{member}: sha256 differs from the wheel's RECORD")
        (target / Path(member).name).write_bytes(data)
    (target / "__init__.py").write_text("")


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/qmt-api/xtquant-wheel` (or ~/.cache/...): shared by every checkout."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "qmt-api" / "xtquant-wheel"


def fetch(cache_dir: Path) -> Path:
    """A folder holding the wheel's `xttype.py` and `xtconstant.py` (fetched once, cached)."""
    target = cache_dir / VERSION
    if all((target / Path(m).name).is_file() for m in MEMBERS):
        return target
    target.mkdir(parents=True, exist_ok=True)
    local = os.environ.get("XTQUANT_WHEEL")
    try:
        if local:
            with zipfile.ZipFile(local) as wheel:
                _extract(wheel, target)
        else:
            url, _ = _wheel_url()
            with zipfile.ZipFile(_RangeFile(url)) as wheel:  # type: ignore[arg-type]
                _extract(wheel, target)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise WheelUnavailable(f"cannot read {WHEEL} from PyPI ({exc!r})") from exc
    return target


def load(folder: Path) -> tuple[ModuleType, ModuleType]:
    """Import the two modules as the package `_xtquant_wheel` (never as `xtquant`)."""
    name = "_xtquant_wheel"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None
        assert spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return (
        importlib.import_module(f"{name}.xtconstant"),
        importlib.import_module(f"{name}.xttype"),
    )
