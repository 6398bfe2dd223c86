"""Token bookkeeping shared by both clients: when to log in again, before a token dies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from qmt_api_client.errors import QmtApiError

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a URL path, not a secret
RENEW_MARGIN = 0.1  # renew in the last 10 % of a token's life (at least 30 s before)


@dataclass
class TokenState:
    username: str | None
    password: str | None
    token: str | None = None
    renew_at: float = 0.0  # time.monotonic() after which the token is renewed first

    @property
    def can_login(self) -> bool:
        return self.username is not None and self.password is not None

    def needs_login(self) -> bool:
        if self.token is None:
            return True
        return self.can_login and time.monotonic() >= self.renew_at

    def form(self) -> dict[str, str]:
        if not self.can_login:
            raise QmtApiError("UNAUTHORIZED", 401, "no username/password to log in with")
        return {"username": self.username or "", "password": self.password or ""}

    def accept(self, body: Any) -> None:
        self.token = str(body["access_token"])
        life = float(body.get("expires_in") or 0)
        margin = max(life * RENEW_MARGIN, 30.0)
        self.renew_at = time.monotonic() + max(life - margin, 0.0)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}
