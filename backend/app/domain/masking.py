"""What a viewer may not read in full: the broker account id (enough, with the broker's own
login, to act on the account elsewhere). Viewers see `*****0001`; traders and admins, who
act on the account anyway, see it whole. The audit trail masks it for everyone."""

from __future__ import annotations

from typing import Any

from backend.app.domain.enums import Role


def mask_account(value: str) -> str:
    """`SIM000001` -> `*****0001`: enough to tell accounts apart, not enough to use one."""
    return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)


def sees_account(role: Role) -> bool:
    return role.allows(Role.TRADER)


def for_role(event: dict[str, Any], role: Role) -> dict[str, Any]:
    """A stream event as `role` may see it (a copy when something is masked)."""
    data = event.get("data")
    if sees_account(role) or not isinstance(data, dict) or "account_id" not in data:
        return event
    return {**event, "data": {**data, "account_id": mask_account(str(data["account_id"]))}}
