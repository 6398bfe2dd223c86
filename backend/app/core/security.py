"""Password hashing (argon2 via pwdlib) and access tokens (JWT, HS256 only).

A token carries `sub` (username), `role`, `ver` (the user's token_version) and `exp`.
The version makes a token die as soon as its user is disabled or their role is lowered:
the user row's counter moves on and the old number no longer matches.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import argon2
from jose import jwt
from jose.exceptions import JOSEError
from loguru import logger
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from backend.app.core.config import JWT_SECRET_MIN_CHARS, Settings
from backend.app.core.errors import Unauthorized
from backend.app.domain.enums import Role

ALGORITHM = "HS256"
GENERATED_KEY_FILE = "jwt_secret.key"

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when a username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure_hashing(
    *,
    time_cost: int = argon2.DEFAULT_TIME_COST,
    memory_cost: int = argon2.DEFAULT_MEMORY_COST,
    parallelism: int = argon2.DEFAULT_PARALLELISM,
) -> None:
    """Set the argon2 cost of new hashes (defaults: argon2-cffi's RFC 9106 low-memory profile).

    Verification reads the cost from each stored hash, so old hashes keep working. The test
    suite lowers the cost once per session; production never needs to call this.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHash(
        (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),)
    )
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-ish time: an unknown user (None) still pays for one argon2 verification."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        logger.warning("stored password hash is not a valid argon2 hash")
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def generated_secret(path: Path) -> str:
    """The key kept at `path`, made (48 random bytes, owner-only file) on first use; a file
    holding a key shorter than JWT_SECRET_MIN_CHARS is replaced."""
    try:
        existing = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        existing = ""
    if len(existing) >= JWT_SECRET_MIN_CHARS:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret + "\n")
    os.replace(tmp, path)  # atomic: a second process reads the old file or the new one
    return secret


@dataclass(frozen=True, slots=True)
class TokenClaims:
    username: str
    role: Role
    version: int
    expires_at: int


class TokenCodec:
    """Issues and checks access tokens with one secret and one lifetime."""

    def __init__(self, *, secret: str, expire_minutes: int) -> None:
        if not secret:
            raise ValueError("empty JWT secret")
        self._secret = secret
        self.expire_seconds = expire_minutes * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCodec:
        """JWT_SECRET_KEY, or (simulated mode only, Settings refuses live without it) the key
        generated once and kept in DATA_DIR, so a restart does not log everyone out."""
        if settings.jwt_secret_key is not None:
            secret = settings.jwt_secret_key.get_secret_value()
        else:
            secret = generated_secret(settings.data_dir / GENERATED_KEY_FILE)
            logger.warning(
                "JWT_SECRET_KEY is not set: signing tokens with the key generated in {} "
                "(simulated mode only); set JWT_SECRET_KEY (32+ characters) for anything shared",
                settings.data_dir / GENERATED_KEY_FILE,
            )
        return cls(secret=secret, expire_minutes=settings.jwt_expire_minutes)

    def issue(
        self, *, username: str, role: Role, version: int, expire_seconds: int | None = None
    ) -> tuple[str, int]:
        """Return (token, lifetime in seconds)."""
        lifetime = self.expire_seconds if expire_seconds is None else expire_seconds
        now = int(time.time())
        claims = {
            "sub": username,
            "role": str(role),
            "ver": version,
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), lifetime

    def decode(self, token: str) -> TokenClaims:
        """Raises:
        Unauthorized: bad signature, another algorithm, expired, or missing claims.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require_exp": True, "require_sub": True},
            )
            return TokenClaims(
                username=str(claims["sub"]),
                role=Role(claims["role"]),
                version=int(claims["ver"]),
                expires_at=int(claims["exp"]),
            )
        except (JOSEError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized("令牌无效或已过期 / invalid or expired token") from exc
