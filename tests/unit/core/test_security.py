"""Passwords and tokens, without the app."""

from __future__ import annotations

import pytest
from jose import jwt

from backend.app.core.config import Settings
from backend.app.core.errors import Unauthorized
from backend.app.core.security import TokenCodec, hash_password, verify_password
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


def test_random_key_when_unset_differs_per_codec() -> None:
    settings = Settings(_env_file=None)
    a, b = TokenCodec.from_settings(settings), TokenCodec.from_settings(settings)
    token, _ = a.issue(username="ann", role=Role.VIEWER, version=0)
    with pytest.raises(Unauthorized):
        b.decode(token)
