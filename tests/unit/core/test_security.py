"""Passwords and tokens, without the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from jose import jwt

from backend.app.core.config import JWT_SECRET_MIN_CHARS, Settings
from backend.app.core.errors import Unauthorized
from backend.app.core.security import (
    GENERATED_KEY_FILE,
    TokenCodec,
    hash_password,
    verify_password,
)
from backend.app.domain.enums import Role


def test_password_hash_is_argon2_and_verifies() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2")
    assert verify_password("correct horse", h)
    assert not verify_password("wrong horse", h)


def test_unknown_user_and_broken_hash_fail_quietly() -> None:
    assert not verify_password("x", None)
    assert not verify_password("x", "not-a-hash")


def test_token_round_trip() -> None:
    codec = TokenCodec(secret="s" * 32, expire_minutes=5)
    token, lifetime = codec.issue(username="ann", role=Role.TRADER, version=3)
    assert lifetime == 300
    claims = codec.decode(token)
    assert (claims.username, claims.role, claims.version) == ("ann", Role.TRADER, 3)


def test_token_without_exp_or_with_other_alg_is_refused() -> None:
    codec = TokenCodec(secret="s" * 32, expire_minutes=5)
    no_exp = jwt.encode({"sub": "ann", "role": "admin", "ver": 0}, "s" * 32, algorithm="HS256")
    hs512 = jwt.encode(
        {"sub": "ann", "role": "admin", "ver": 0, "exp": 4102444800}, "s" * 32, algorithm="HS512"
    )
    bad_role = jwt.encode(
        {"sub": "ann", "role": "root", "ver": 0, "exp": 4102444800}, "s" * 32, algorithm="HS256"
    )
    for token in (no_exp, hs512, bad_role):
        with pytest.raises(Unauthorized):
            codec.decode(token)


def test_unset_key_in_simulated_mode_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    a = TokenCodec.from_settings(settings)
    kept = tmp_path / "data" / GENERATED_KEY_FILE
    assert len(kept.read_text().strip()) >= JWT_SECRET_MIN_CHARS
    assert kept.stat().st_mode & 0o077 == 0  # owner-only
    token, _ = a.issue(username="ann", role=Role.VIEWER, version=0)
    # A restart (a new codec on the same DATA_DIR) still accepts the token.
    assert TokenCodec.from_settings(settings).decode(token).username == "ann"
    # Another DATA_DIR is another key.
    other = TokenCodec.from_settings(Settings(_env_file=None, data_dir=tmp_path / "other"))
    with pytest.raises(Unauthorized):
        other.decode(token)


def test_a_short_generated_key_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / GENERATED_KEY_FILE).write_text("x\n")
    TokenCodec.from_settings(Settings(_env_file=None, data_dir=tmp_path))
    assert len((tmp_path / GENERATED_KEY_FILE).read_text().strip()) >= JWT_SECRET_MIN_CHARS
