"""Users and sessions: log in, check a token, manage users. Every user change is audited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from anyio import to_thread
from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.app.core.errors import Conflict, NotFound, Unauthorized
from backend.app.core.security import (
    TokenCodec,
    generate_password,
    hash_password,
    verify_password,
)
from backend.app.db.repositories import users as repo
from backend.app.db.session import Database
from backend.app.db.tables import User
from backend.app.domain.actor import SYSTEM, Actor
from backend.app.domain.enums import Role
from backend.app.models.auth import Token, UserRead, UserUpdate
from backend.app.services.accounts.audit import AuditLog

_BAD_LOGIN = "用户名或密码错误 / wrong username or password"
# Verified tokens are remembered this long, saving a JWT decode and a database round trip on
# every request. A change made through this service (disable, demote, new password) forgets
# them at once; one made by another process on the same database is seen within this time.
_AUTH_TTL_S = 2.0
_AUTH_CACHE_MAX = 4096


class UserService:
    def __init__(self, *, db: Database, tokens: TokenCodec, audit: AuditLog) -> None:
        self._db = db
        self._tokens = tokens
        self._audit = audit
        self._verified: dict[str, tuple[float, str, Role]] = {}  # token -> (until, name, role)
        self._user_changes = 0  # a check that read the user before a change must not cache it
        # Open sessions (WebSocket streams) per username: set when that user changes, so the
        # stream re-checks its token at once instead of at its next periodic check.
        self._watchers: dict[str, set[asyncio.Event]] = {}
        # Told about each change made here (RiskStateSync tells the other processes).
        self._change_listeners: list[Callable[[str], Awaitable[None]]] = []

    @contextmanager
    def watch(self, username: str) -> Iterator[asyncio.Event]:
        """An event set whenever `username` is changed, here or (via Redis) in another process."""
        event = asyncio.Event()
        self._watchers.setdefault(username, set()).add(event)
        try:
            yield event
        finally:
            watchers = self._watchers.get(username)
            if watchers is not None:
                watchers.discard(event)
                if not watchers:
                    del self._watchers[username]

    def add_change_listener(self, listener: Callable[[str], Awaitable[None]]) -> None:
        self._change_listeners.append(listener)

    def user_changed(self, username: str) -> None:
        """Forget verified tokens and wake `username`'s open sessions (another process's
        change arrives here too)."""
        self._user_changes += 1
        self._verified.clear()
        for event in self._watchers.get(username, ()):
            event.set()

    async def login(self, *, username: str, password: str, actor: Actor | None = None) -> Token:
        """Check the password and issue an access token.

        Raises:
            Unauthorized: unknown user, wrong password or disabled user (one message for all).
        """
        user = await self._db.run(lambda s: repo.get(s, username))
        stored = user.password_hash if user is not None else None
        ok = await to_thread.run_sync(verify_password, password, stored)
        if user is None or not ok or not user.is_active:
            who = actor or Actor(username=username, role=Role.VIEWER)
            await self._audit.record(
                actor=who, action="auth.login", target=username, outcome="rejected", detail={}
            )
            raise Unauthorized(_BAD_LOGIN)
        token, lifetime = self._tokens.issue(
            username=user.username, role=Role(user.role), version=user.token_version
        )
        return Token(access_token=token, expires_in=lifetime)

    async def authenticate(
        self, *, token: str, client_ip: str = "", request_id: str = "", fresh: bool = False
    ) -> Actor:
        """Turn a bearer token into the Actor it speaks for; `fresh` reads the user row even
        when the token was verified a moment ago (an open stream's periodic re-check).

        Raises:
            Unauthorized: bad or expired token, or the user was removed, disabled, demoted
                or changed password since the token was issued.
        """
        now = time.monotonic()
        hit = None if fresh else self._verified.get(token)
        if hit is not None and hit[0] > now:
            return Actor(username=hit[1], role=hit[2], client_ip=client_ip, request_id=request_id)
        claims = self._tokens.decode(token)
        changes_seen = self._user_changes
        user = await self._db.run(lambda s: repo.get(s, claims.username))
        if user is None or not user.is_active or user.token_version != claims.version:
            raise Unauthorized("令牌已失效，请重新登录 / token revoked; log in again")
        if changes_seen == self._user_changes:
            if len(self._verified) >= _AUTH_CACHE_MAX:
                self._verified.clear()
            until = now + min(_AUTH_TTL_S, claims.expires_at - time.time())
            self._verified[token] = (until, user.username, Role(user.role))
        return Actor(
            username=user.username, role=Role(user.role), client_ip=client_ip, request_id=request_id
        )

    async def create_user(
        self, *, username: str, password: str, role: Role, actor: Actor = SYSTEM
    ) -> UserRead:
        """Raises:
        Conflict: the username is taken.
        """
        password_hash = await to_thread.run_sync(hash_password, password)

        def create(s: Session) -> UserRead:
            if repo.get(s, username) is not None:
                raise Conflict(f"用户已存在 / user {username!r} already exists")
            user = repo.add(s, username=username, password_hash=password_hash, role=role)
            self._audit.record_sync(
                s,
                actor=actor,
                action="user.create",
                target=username,
                outcome="ok",
                detail={"role": str(role)},
            )
            return UserRead.model_validate(user)

        try:
            return await self._db.run(create)
        except IntegrityError as exc:
            # Two creates raced past the check; the unique index decided.
            raise Conflict(f"用户已存在 / user {username!r} already exists") from exc

    async def list_users(self) -> list[UserRead]:
        users = await self._db.run(repo.list_all)
        return [UserRead.model_validate(u) for u in users]

    async def update_user(self, *, username: str, changes: UserUpdate, actor: Actor) -> UserRead:
        """Change role, active flag or password; anything that takes rights away ends sessions.

        Raises:
            NotFound: no such user.
            Conflict: the change would leave no active admin.
        """
        password_hash = (
            await to_thread.run_sync(hash_password, changes.password)
            if changes.password is not None
            else None
        )

        def update(s: Session) -> UserRead:
            user = repo.get(s, username)
            if user is None:
                raise NotFound(f"用户不存在 / no user {username!r}")
            if _removes_admin(user, changes) and _active_admins(s) <= 1:
                raise Conflict("不能移除最后一个管理员 / that would leave no active admin")
            repo.update(
                s, user, role=changes.role, is_active=changes.is_active, password_hash=password_hash
            )
            detail = changes.model_dump(exclude_none=True, exclude={"password"})
            if changes.password is not None:
                detail["password_changed"] = True
            self._audit.record_sync(
                s, actor=actor, action="user.update", target=username, outcome="ok", detail=detail
            )
            return UserRead.model_validate(user)

        try:
            return await self._db.run(update)
        finally:
            self.user_changed(username)
            for listener in self._change_listeners:
                try:
                    await listener(username)
                except Exception as exc:  # the change is made; other processes poll anyway
                    logger.warning("user change of {!r} not announced: {}", username, exc)

    async def ensure_admin(self, *, username: str, password: str | None) -> str | None:
        """Create the first admin when there are no users. Returns a generated password, if any."""
        if await self._db.run(repo.count) > 0:
            if password:
                # A new user's first hour: the quickstart's ADMIN_PASSWORD "does not work" because
                # an earlier start already made the users. Say so where they will look.
                logger.warning(
                    "ADMIN_PASSWORD 未使用：数据库中已有用户，"
                    "它只在首次启动（无用户）时创建管理员 {!r}；"
                    "改密码：PATCH /api/v1/auth/users/{{name}} / ADMIN_PASSWORD ignored: the "
                    "database already has users (it only creates {!r} on a start with none); "
                    "change a password with PATCH /api/v1/auth/users/{{name}}",
                    username, username,
                )  # fmt: skip
            return None
        generated = None if password else generate_password()
        try:
            await self.create_user(
                username=username, password=password or str(generated), role=Role.ADMIN
            )
        except Conflict:
            # Another process created it first (several servers on one PostgreSQL).
            return None
        logger.info("created the first admin user {!r}", username)
        return generated


def _removes_admin(user: User, changes: UserUpdate) -> bool:
    if user.role != Role.ADMIN or not user.is_active:
        return False
    demoted = changes.role is not None and changes.role != Role.ADMIN
    return demoted or changes.is_active is False


def _active_admins(s: Session) -> int:
    return sum(1 for u in repo.list_all(s) if u.role == Role.ADMIN and u.is_active)
