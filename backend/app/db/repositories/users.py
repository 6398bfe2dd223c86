"""User rows. Plain functions over a Session; callers run them through `Database.run`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app.db.tables import User
from backend.app.domain.enums import Role


def get(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def list_all(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def add(session: Session, *, username: str, password_hash: str, role: Role) -> User:
    now = datetime.now(UTC)
    user = User(
        username=username,
        password_hash=password_hash,
        role=str(role),
        is_active=True,
        token_version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    return user


def update(
    session: Session,
    user: User,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    password_hash: str | None = None,
) -> User:
    """Apply the changes; any change that could take rights away bumps token_version."""
    revoke = False
    if role is not None and role != user.role:
        revoke = revoke or not Role(role).allows(Role(user.role))
        user.role = str(role)
    if is_active is not None and is_active != user.is_active:
        revoke = revoke or not is_active
        user.is_active = is_active
    if password_hash is not None:
        # A new password logs the old sessions out too.
        revoke = True
        user.password_hash = password_hash
    if revoke:
        user.token_version += 1
    user.updated_at = datetime.now(UTC)
    session.flush()
    return user
