"""A reviewer of the tenant's pool (评审专家库): certificate, work unit, declared conflicts of
interest (回避申报); the facts the review rounds check before assigning them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.credit_code import credit_code_problems, normalise
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

EXPERT_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/expert")

CONFLICT_KINDS = {
    "applicant": "申报单位（统一社会信用代码）",
    "recommending_unit": "推荐单位",
    "submission": "申报成果",
}


class ExpertError(DomainError):
    pass


class InvalidExpert(ExpertError, InvalidInput):
    pass


class ExpertConflict(ExpertError, Conflict):
    pass


class ExpertNotFound(ExpertError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("certificate_number", "not_found", "评审专家库中没有该证书编号"))


@dataclass(frozen=True)
class Certificate:
    kind: str
    """e.g. 中国质协 QC 小组诊断师, 上海市 QC 小组评审员"""
    number: str
    issuing_body: str
    level: str
    """e.g. 国家级, 省级, 评审组长"""
    valid_until: date


@dataclass(frozen=True)
class ExpertProfile:
    name: str
    work_unit: str
    work_unit_credit_code: str | None
    mobile: str
    certificate: Certificate

    def problems(self) -> list[Problem]:
        found = [
            Problem(field, "required", "不能为空")
            for field, value in (
                ("name", self.name),
                ("work_unit", self.work_unit),
                ("certificate.kind", self.certificate.kind),
                ("certificate.number", self.certificate.number),
                ("certificate.issuing_body", self.certificate.issuing_body),
                ("certificate.level", self.certificate.level),
            )
            if not value.strip()
        ]
        if not (len(self.mobile) == 11 and self.mobile.isdigit() and self.mobile.startswith("1")):
            found.append(Problem("mobile", "mobile_format", "手机号应为 11 位数字，以 1 开头"))
        if self.work_unit_credit_code is not None:
            found += credit_code_problems(self.work_unit_credit_code, "work_unit_credit_code")
        return found


class Expert(Aggregate):
    class Enrolled(Aggregate.Created):
        tenant: str
        profile: dict[str, Any]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Expert) -> None:
            aggregate.tenant = self.tenant
            aggregate.profile = dict(self.profile)
            aggregate.conflicts = []
            aggregate.retired_reason = None

    class Event(Aggregate.Event):
        """The base of every event of a Expert after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class ProfileChanged(Event):
        profile: dict[str, Any]

        def apply(self, aggregate: Expert) -> None:
            aggregate.profile = dict(self.profile)

    class ConflictDeclared(Event):
        kind: str
        value: str
        reason: str

        def apply(self, aggregate: Expert) -> None:
            aggregate.conflicts.append(
                {"kind": self.kind, "value": self.value, "reason": self.reason}
            )

    class Retired(Event):
        reason: str

        def apply(self, aggregate: Expert) -> None:
            aggregate.retired_reason = self.reason

    if TYPE_CHECKING:
        tenant: str
        profile: dict[str, Any]
        conflicts: list[dict[str, str]]
        retired_reason: str | None

    @staticmethod
    def create_id(tenant: str, certificate_number: str) -> UUID:
        return uuid5(EXPERT_NAMESPACE, f"{tenant}/{certificate_number.strip()}")

    @classmethod
    def enrol(cls, tenant: str, profile: ExpertProfile, actor: Actor) -> Expert:
        problems = profile.problems()
        if problems:
            raise InvalidExpert(*problems)
        return cls._create(
            cls.Enrolled,
            id=cls.create_id(tenant, profile.certificate.number),
            tenant=tenant,
            profile=_profile_state(profile),
            **actor.fields(),
        )

    @property
    def certificate_number(self) -> str:
        return str(self.profile["certificate"]["number"])

    @property
    def name(self) -> str:
        return str(self.profile["name"])

    def change_profile(self, profile: ExpertProfile, actor: Actor) -> None:
        problems = profile.problems()
        if profile.certificate.number.strip() != self.certificate_number:
            problems.append(Problem("certificate.number", "immutable", "证书编号不能修改"))
        if problems:
            raise InvalidExpert(*problems)
        self.trigger_event(self.ProfileChanged, profile=_profile_state(profile), **actor.fields())

    def declare_conflict(self, kind: str, value: str, reason: str, actor: Actor) -> None:
        problems = []
        if kind not in CONFLICT_KINDS:
            problems.append(
                Problem("kind", "one_of", "须为 applicant、recommending_unit 或 submission")
            )
        if not value.strip():
            problems.append(Problem("value", "required", "请填写回避对象"))
        if not reason.strip():
            problems.append(Problem("reason", "required", "请说明回避理由"))
        if problems:
            raise InvalidExpert(*problems)
        # An applicant is named by its credit code, which the conflict rules compare as stored.
        # Stored as the rounds compare them: credit codes normalised, submission ids lower case.
        if kind == "applicant":
            value = normalise(value)
        elif kind == "submission":
            value = value.strip().lower()
        else:
            value = value.strip()
        if any(c["kind"] == kind and c["value"] == value for c in self.conflicts):
            raise ExpertConflict(Problem("value", "already_declared", "已申报该回避"))
        self.trigger_event(
            self.ConflictDeclared,
            kind=kind,
            value=value,
            reason=reason.strip(),
            **actor.fields(),
        )

    def retire(self, reason: str, actor: Actor) -> None:
        if self.retired_reason is not None:
            raise ExpertConflict(Problem("expert", "retired", "该专家已退出专家库"))
        if not reason.strip():
            raise InvalidExpert(Problem("reason", "required", "请说明原因"))
        self.trigger_event(self.Retired, reason=reason.strip(), **actor.fields())


def _profile_state(profile: ExpertProfile) -> dict[str, Any]:
    c = profile.certificate
    return {
        "name": profile.name.strip(),
        "work_unit": profile.work_unit.strip(),
        "work_unit_credit_code": (
            None
            if profile.work_unit_credit_code is None
            else normalise(profile.work_unit_credit_code)
        ),
        "mobile": profile.mobile,
        "certificate": {
            "kind": c.kind.strip(),
            "number": c.number.strip(),
            "issuing_body": c.issuing_body.strip(),
            "level": c.level.strip(),
            "valid_until": c.valid_until,
        },
    }
