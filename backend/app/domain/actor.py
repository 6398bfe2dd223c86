"""Who is asking: carried from the edge into services for audit and per-user limits."""

from __future__ import annotations

from dataclasses import dataclass

from backend.app.domain.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    client_ip: str = ""
    request_id: str = ""


SYSTEM = Actor(username="system", role=Role.ADMIN)
