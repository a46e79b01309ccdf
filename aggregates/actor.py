"""Who acts: a user in a role. Every event records both, so auditors can see who did what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles of DOMAIN.md ("Who uses it"); the value is what events store."""

    SECRETARIAT = "secretariat"
    APPLICANT_UNIT = "applicant_unit"
    RECOMMENDING_UNIT = "recommending_unit"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    NATIONAL_STAFF = "national_staff"
    OPERATOR = "operator"
    SYSTEM = "system"
    """The platform itself, acting on a rule (never granted to an account)."""


ROLE_NAMES_ZH = {
    Role.SECRETARIAT: "秘书处",
    Role.APPLICANT_UNIT: "申报单位",
    Role.RECOMMENDING_UNIT: "推荐单位",
    Role.REVIEWER: "评委",
    Role.AUDITOR: "审计",
    Role.NATIONAL_STAFF: "全国质协工作人员",
    Role.OPERATOR: "平台运维",
    Role.SYSTEM: "系统",
}


@dataclass(frozen=True)
class Actor:
    """The acting user and the role they act in for one command."""

    user_id: str
    role: Role

    def fields(self) -> dict[str, str]:
        """The actor as every event records it: its `actor_id` and `actor_role` fields."""
        return {"actor_id": self.user_id, "actor_role": str(self.role)}
