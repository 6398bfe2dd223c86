"""Auth schemas: token, me, user management."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.app.domain.enums import Role
from backend.app.models.strict import StrictBool

Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w.@-]+$",
        description="letters (any script), digits, `_ . @ -`",
        examples=["trader1"],
    ),
]
Password = Annotated[str, Field(min_length=8, max_length=128, examples=["s3cret-pass"])]


class Token(BaseModel):
    access_token: str
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="seconds until the token expires", examples=[43200])


class Me(BaseModel):
    username: str
    role: Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    """Only the fields sent change. Lowering a role, disabling or a new password ends sessions."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: StrictBool | None = None
    password: Password | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserList(BaseModel):
    items: list[UserRead]
