"""/auth: log in (OAuth2 password form), who am I, user management (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.security import OAuth2PasswordRequestForm

from backend.app.api.deps import AdminUser, CurrentUser, UsersDep, client_ip
from backend.app.api.limits import (
    check_login_allowed,
    record_login_failure,
    record_login_success,
)
from backend.app.api.problems import request_id_of
from backend.app.core.errors import Unauthorized
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role
from backend.app.models.auth import Me, Token, UserCreate, UserList, UserRead, UserUpdate

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form with the bounds the schema states (FastAPI's own reads an
    empty `username=` as missing while its schema allows "")."""

    def __init__(
        self,
        *,
        username: Annotated[str, Form(min_length=1, max_length=256)],
        password: Annotated[str, Form(min_length=1, max_length=1024)],
        grant_type: Annotated[str | None, Form(max_length=64)] = None,
        scope: Annotated[str, Form(max_length=1024)] = "",
        client_id: Annotated[str | None, Form(max_length=256)] = None,
        client_secret: Annotated[str | None, Form(max_length=256)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post("/token", response_model=Token)
async def login(
    request: Request,
    form: Annotated[LoginForm, Depends()],
    users: UsersDep,
) -> Token:
    """登录，换取访问令牌 / Log in with the OAuth2 password form and get a bearer token."""
    who = Actor(
        username=form.username,
        role=Role.VIEWER,
        client_ip=client_ip(request),
        request_id=request_id_of(request),
    )
    await check_login_allowed(request, form.username)  # 429 after too many failures
    try:
        token = await users.login(username=form.username, password=form.password, actor=who)
    except Unauthorized:
        await record_login_failure(request, form.username)
        raise
    await record_login_success(request, form.username)
    return token


@router.get("/me", response_model=Me)
async def me(user: CurrentUser) -> Me:
    """当前用户 / The user the token speaks for."""
    return Me(username=user.username, role=user.role)


@router.post("/users", response_model=UserRead, status_code=201)
async def create_user(body: UserCreate, admin: AdminUser, users: UsersDep) -> UserRead:
    """新建用户（管理员）/ Create a user (admin)."""
    return await users.create_user(
        username=body.username, password=body.password, role=body.role, actor=admin
    )


@router.get("/users", response_model=UserList)
async def list_users(_: AdminUser, users: UsersDep) -> UserList:
    """列出用户（管理员）/ List users (admin)."""
    return UserList(items=await users.list_users())


@router.patch("/users/{username}", response_model=UserRead)
async def update_user(
    username: Annotated[str, Path(max_length=64)],
    body: UserUpdate,
    admin: AdminUser,
    users: UsersDep,
) -> UserRead:
    """修改角色、启用状态或密码（管理员）；降权、停用、改密会使旧令牌失效 /
    Change role, active flag or password (admin); lowering, disabling or a new password
    revokes the user's tokens."""
    return await users.update_user(username=username, changes=body, actor=admin)
