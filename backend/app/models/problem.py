"""The one error body (RFC 9457 `application/problem+json`), declared once for OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One entry of `errors` on a 422 VALIDATION_ERROR."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="where: `body`, `query`, `path`, then field names")
    msg: str
    type: str | None = Field(default=None, description="error type, e.g. `missing`, `int_parsing`")


class Problem(BaseModel):
    """Every error a client sees. `code` is the stable machine-readable part (docs/errors.md)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "urn:qmt-api:problem:risk_rejected",
                "title": "Rejected by a risk rule",
                "status": 422,
                "detail": "order value 600000 exceeds max_order_value 500000",
                "code": "RISK_REJECTED",
                "rule": "max_order_value",
                "instance": "/api/v1/trading/order",
                "request_id": "5b0c1a8e2f7d4c0e9a1b3c5d7e9f1a2b",
            }
        },
    )

    type: str = Field(description="URI naming the problem type: `urn:qmt-api:problem:<code>`")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable error code, e.g. `INSUFFICIENT_FUNDS`")
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="VALIDATION_ERROR only")
    rule: str | None = Field(default=None, description="RISK_REJECTED only: the rule that fired")
    retry_after: float | None = Field(default=None, description="RATE_LIMITED only: seconds")


def problem_schema_ref() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/Problem"}


PROBLEM_STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 503)

# `responses=` for routers: every error status documented once, as problem+json only.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": "Problem (application/problem+json)",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_schema_ref()}},
    }
    for status in PROBLEM_STATUSES
}
