"""Every problem+json answer of the server becomes one exception type."""

from __future__ import annotations

from typing import Any

import httpx


class QmtApiError(Exception):
    """A refused request: `.code` is the server's stable code (e.g. `INSUFFICIENT_FUNDS`),
    `.status` the HTTP status, `.detail` the human text, `.body` the whole problem object."""

    def __init__(
        self, code: str, status: int, detail: str, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.code, self.status, self.detail = code, status, detail
        self.body: dict[str, Any] = body or {}

    @property
    def rule(self) -> str | None:
        """The risk rule that fired (RISK_REJECTED)."""
        rule = self.body.get("rule")
        return rule if isinstance(rule, str) else None


def error_from_response(r: httpx.Response) -> QmtApiError:
    try:
        body = r.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return QmtApiError(f"HTTP_{r.status_code}", r.status_code, r.text[:500])
    code = body.get("code")
    detail = body.get("detail")
    return QmtApiError(
        code if isinstance(code, str) else f"HTTP_{r.status_code}",
        r.status_code,
        detail if isinstance(detail, str) else str(body.get("title") or r.reason_phrase),
        body,
    )
