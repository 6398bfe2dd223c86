"""Auth: login, me, user management, and every way a token stops working."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from backend.app.core.security import TokenCodec
from backend.app.domain.enums import Role

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def assert_problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    return body


def test_login_ok_returns_bearer_token(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": "admin-pass-123"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["access_token"].count(".") == 2


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong-password"), ("nobody", "admin-pass-123")]
)
def test_login_bad_credentials_is_401_problem(
    client: TestClient, username: str, password: str
) -> None:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    body = assert_problem(r, 401, "UNAUTHORIZED")
    assert "password" not in json.dumps(body).replace("wrong username or password", "")


def test_login_missing_form_fields_is_422(client: TestClient) -> None:
    assert_problem(client.post("/api/v1/auth/token", data={}), 422, "VALIDATION_ERROR")


def test_me_returns_username_and_role(client: TestClient, trader_token: str, auth: Auth) -> None:
    r = client.get("/api/v1/auth/me", headers=auth(trader_token))
    assert r.status_code == 200
    assert r.json() == {"username": "trader", "role": "trader"}


def test_me_without_token_is_401_with_www_authenticate(client: TestClient) -> None:
    r = client.get("/api/v1/auth/me")
    assert_problem(r, 401, "UNAUTHORIZED")
    assert r.headers["www-authenticate"] == "Bearer"


def test_admin_creates_user_201(client: TestClient, admin_token: str, auth: Auth) -> None:
    r = client.post(
        "/api/v1/auth/users",
        json={"username": "alice", "password": "alice-pass-1", "role": "trader"},
        headers=auth(admin_token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "alice"
    assert r.json()["role"] == "trader"
    assert "password" not in r.text
    assert "hash" not in r.text
    listed = client.get("/api/v1/auth/users", headers=auth(admin_token)).json()["items"]
    assert {u["username"] for u in listed} == {"admin", "alice"}
    assert all(u["created_at"].endswith(("Z", "+00:00")) for u in listed)


def test_create_duplicate_user_is_409(client: TestClient, admin_token: str, auth: Auth) -> None:
    body = {"username": "dup", "password": "dup-pass-123", "role": "viewer"}
    assert (
        client.post("/api/v1/auth/users", json=body, headers=auth(admin_token)).status_code == 201
    )
    r = client.post("/api/v1/auth/users", json=body, headers=auth(admin_token))
    assert_problem(r, 409, "CONFLICT")


@pytest.mark.parametrize("who", ["trader_token", "viewer_token"])
def test_non_admin_cannot_manage_users_403(
    client: TestClient, auth: Auth, who: str, request: pytest.FixtureRequest
) -> None:
    token = request.getfixturevalue(who)
    body = {"username": "x1", "password": "x1-pass-123", "role": "admin"}
    assert_problem(
        client.post("/api/v1/auth/users", json=body, headers=auth(token)), 403, "FORBIDDEN"
    )
    assert_problem(client.get("/api/v1/auth/users", headers=auth(token)), 403, "FORBIDDEN")


def test_create_user_short_password_is_422_without_echo(
    client: TestClient, admin_token: str, auth: Auth
) -> None:
    r = client.post(
        "/api/v1/auth/users",
        json={"username": "bob", "password": "Zq9x", "role": "viewer"},
        headers=auth(admin_token),
    )
    assert_problem(r, 422, "VALIDATION_ERROR")
    assert "Zq9x" not in r.text


def test_expired_token_is_401(client: TestClient, settings, auth: Auth) -> None:  # type: ignore[no-untyped-def]
    codec = TokenCodec.from_settings(settings)
    token, _ = codec.issue(username="admin", role=Role.ADMIN, version=0, expire_seconds=-10)
    assert_problem(client.get("/api/v1/auth/me", headers=auth(token)), 401, "UNAUTHORIZED")


def test_token_signed_with_another_key_is_401(client: TestClient, auth: Auth) -> None:
    forged = jwt.encode(
        {"sub": "admin", "role": "admin", "ver": 0, "exp": 4102444800}, "other-key", "HS256"
    )
    assert_problem(client.get("/api/v1/auth/me", headers=auth(forged)), 401, "UNAUTHORIZED")


def _b64(obj: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_tampered_and_alg_none_tokens_are_401(
    client: TestClient, viewer_token: str, auth: Auth
) -> None:
    header, _, sig = viewer_token.split(".")
    promoted = _b64({"sub": "viewer", "role": "admin", "ver": 0, "exp": 4102444800})
    tampered = f"{header}.{promoted}.{sig}"
    none_alg = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{promoted}."
    for token in (tampered, none_alg, "not-a-jwt", viewer_token + "x"):
        assert_problem(client.get("/api/v1/auth/me", headers=auth(token)), 401, "UNAUTHORIZED")


def test_disabled_users_token_is_401(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    assert client.get("/api/v1/auth/me", headers=auth(trader_token)).status_code == 200
    r = client.patch(
        "/api/v1/auth/users/trader", json={"is_active": False}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert_problem(client.get("/api/v1/auth/me", headers=auth(trader_token)), 401, "UNAUTHORIZED")
    r = client.post("/api/v1/auth/token", data={"username": "trader", "password": "user-pass-123"})
    assert_problem(r, 401, "UNAUTHORIZED")


def test_role_lowered_refuses_old_token(
    client: TestClient, admin_token: str, make_user: Callable[..., str], auth: Auth
) -> None:
    old = make_user("boss", "admin")
    r = client.patch("/api/v1/auth/users/boss", json={"role": "viewer"}, headers=auth(admin_token))
    assert r.status_code == 200
    assert r.json()["role"] == "viewer"
    assert_problem(client.get("/api/v1/auth/me", headers=auth(old)), 401, "UNAUTHORIZED")
    new = client.post("/api/v1/auth/token", data={"username": "boss", "password": "user-pass-123"})
    me = client.get("/api/v1/auth/me", headers=auth(new.json()["access_token"]))
    assert me.json() == {"username": "boss", "role": "viewer"}


def test_role_raised_keeps_old_token(
    client: TestClient, admin_token: str, viewer_token: str, auth: Auth
) -> None:
    r = client.patch(
        "/api/v1/auth/users/viewer", json={"role": "trader"}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    me = client.get("/api/v1/auth/me", headers=auth(viewer_token))
    assert me.json() == {"username": "viewer", "role": "trader"}


def test_password_change_revokes_tokens(
    client: TestClient, admin_token: str, viewer_token: str, auth: Auth, login
) -> None:  # type: ignore[no-untyped-def]
    r = client.patch(
        "/api/v1/auth/users/viewer", json={"password": "new-pass-456"}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    assert_problem(client.get("/api/v1/auth/me", headers=auth(viewer_token)), 401, "UNAUTHORIZED")
    assert login("viewer", "new-pass-456")


def test_last_admin_cannot_be_demoted(client: TestClient, admin_token: str, auth: Auth) -> None:
    r = client.patch("/api/v1/auth/users/admin", json={"role": "viewer"}, headers=auth(admin_token))
    assert_problem(r, 409, "CONFLICT")


def test_update_unknown_user_is_404(client: TestClient, admin_token: str, auth: Auth) -> None:
    r = client.patch(
        "/api/v1/auth/users/ghost", json={"is_active": False}, headers=auth(admin_token)
    )
    assert_problem(r, 404, "NOT_FOUND")


def test_user_changes_are_audited(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth, app
) -> None:  # type: ignore[no-untyped-def]
    client.patch("/api/v1/auth/users/trader", json={"role": "viewer"}, headers=auth(admin_token))
    from sqlalchemy import select

    from backend.app.db.tables import AuditEntry

    rows = app.state.db.call(lambda s: list(s.scalars(select(AuditEntry))))
    actions = [(r.action, r.target, r.username) for r in rows]
    assert ("user.create", "trader", "admin") in actions
    assert ("user.update", "trader", "admin") in actions
    assert all("pass" not in json.dumps(r.detail) for r in rows)


def test_swagger_authorize_points_at_token_url(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    flows = next(iter(schemes.values()))["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


def test_first_admin_password_generated_and_printed_once(
    settings_factory, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    from backend.app.main import create_app

    settings = settings_factory(admin_password=None)
    with TestClient(create_app(settings)):
        pass
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "password" in ln)
    password = line.split(":")[-1].strip()
    with TestClient(create_app(settings)) as c:
        assert "password" not in capsys.readouterr().out
        r = c.post("/api/v1/auth/token", data={"username": "admin", "password": password})
        assert r.status_code == 200


def _anonymous_calls(client: TestClient) -> list[tuple[str, str]]:
    calls = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1") or path == "/api/v1/auth/token":
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        calls += [(method.upper(), concrete) for method in ops]
    return calls


def test_every_v1_endpoint_but_login_needs_a_token(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    calls = _anonymous_calls(client)
    assert len(calls) > 5
    for method, path in calls:
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["content-type"].startswith(PROBLEM)


def test_every_v1_endpoint_refuses_a_bad_token(client: TestClient, app, auth: Auth) -> None:  # type: ignore[no-untyped-def]
    for method, path in _anonymous_calls(client):
        r = client.request(method, path, headers=auth("bad.token.here"))
        assert r.status_code == 401, (method, path, r.status_code)
