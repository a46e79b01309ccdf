"""Registration (报名): an applicant unit enrols in a campaign with the seeds' registration form.

One registration per unit (credit code) and campaign; changeable until the registration window
closes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

REGISTRATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/registration")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
POSTCODE = re.compile(r"^\d{6}$")


def key_domain_problems(
    domain: str, domains: Collection[str], field: str = "key_domain"
) -> list[Problem]:
    """The key domain (重点领域) an applicant names must be one of its association's."""
    if domain in domains:
        return []
    return [Problem(field, "not_in_list", "请从本协会的重点领域中选择一项")]


def industries_problems(
    chosen: Iterable[str], industries: Collection[str], field: str = "key_industries"
) -> list[Problem]:
    """The key industries (重点产业) an applicant names must be in its association's list."""
    unknown = [i for i in chosen if i not in industries]
    if not unknown:
        return []
    return [Problem(field, "not_in_list", f"不在本协会重点产业目录中：{'、'.join(unknown)}")]


class Nature(StrEnum):
    """单位性质"""

    STATE_OWNED = "国有"
    PRIVATE = "民营"
    FOREIGN = "外资"
    JOINT_VENTURE = "合资"
    PUBLIC_INSTITUTION = "事业单位"
    OTHER = "其他"


class Intent(StrEnum):
    """申报意向"""

    FIRST_TIME_NO_TOPIC = "首次参加活动，暂无课题申报"
    CONTINUING_NO_TOPIC = "持续参加活动，暂无课题申报"
    PROBLEM_SOLVING = "参加活动申报问题解决型课题"
    INNOVATIVE = "参加活动申报创新型课题"


class RegistrationError(DomainError):
    pass


class InvalidRegistration(RegistrationError, InvalidInput):
    pass


class RegistrationConflict(RegistrationError, Conflict):
    pass


class RegistrationNotFound(RegistrationError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("registration", "not_found", "未找到该报名"))


@dataclass(frozen=True)
class Promoter:
    """活动推进者"""

    name: str
    department_and_title: str
    mobile: str
    email: str


@dataclass(frozen=True)
class RegistrationForm:
    """The fields of the seeds' 报名表."""

    unit_name: str
    """单位名称（以公章为准）"""
    member_unit: bool
    nature: Nature
    key_industries: list[str]
    key_domain: str
    address: str
    postcode: str
    managing_department: str
    """活动归口管理部门"""
    promoter: Promoter
    intents: list[Intent]
    nature_other: str = ""
    industries_other: str = ""

    def problems(self, industries: Collection[str], domains: Collection[str]) -> list[Problem]:
        found = [
            Problem(name, "required", "不能为空")
            for name in ("unit_name", "address", "managing_department")
            if not getattr(self, name).strip()
        ]
        if self.nature is Nature.OTHER and not self.nature_other.strip():
            found.append(Problem("nature_other", "required", "单位性质选“其他”时请注明"))
        found += industries_problems(self.key_industries, industries)
        if not self.key_industries and not self.industries_other.strip():
            found.append(
                Problem("key_industries", "required", "请至少选择一项重点产业或填写“其他”")
            )
        found += key_domain_problems(self.key_domain, domains)
        if not POSTCODE.match(self.postcode):
            found.append(Problem("postcode", "postcode_format", "邮编应为 6 位数字"))
        if not self.promoter.name.strip():
            found.append(Problem("promoter.name", "required", "不能为空"))
        if not MOBILE.match(self.promoter.mobile):
            found.append(
                Problem("promoter.mobile", "mobile_format", "手机号应为 11 位数字，以 1 开头")
            )
        if not EMAIL.match(self.promoter.email):
            found.append(Problem("promoter.email", "email_format", "邮箱格式不正确"))
        if not self.intents:
            found.append(Problem("intents", "required", "请至少选择一项申报意向"))
        return found

    def to_state(self) -> dict[str, Any]:
        state = asdict(self)
        state["nature"] = self.nature.value
        state["intents"] = [i.value for i in self.intents]
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RegistrationForm:
        values = dict(state)
        values["nature"] = Nature(values["nature"])
        values["intents"] = [Intent(i) for i in values["intents"]]
        values["promoter"] = Promoter(**values["promoter"])
        return cls(**values)


class Registration(Aggregate):
    """An applicant unit's registration for one campaign."""

    class Registered(Aggregate.Created):
        campaign_id: UUID
        credit_code: str
        form: dict[str, Any]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Registration) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.credit_code = self.credit_code
            aggregate.form_state = dict(self.form)
            aggregate.registered_by = self.actor_id

    class Event(Aggregate.Event):
        """The base of every event of a Registration after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Changed(Event):
        form: dict[str, Any]

        def apply(self, aggregate: Registration) -> None:
            aggregate.form_state = dict(self.form)

    if TYPE_CHECKING:
        campaign_id: UUID
        credit_code: str
        form_state: dict[str, Any]
        registered_by: str

    @property
    def created_by(self) -> str | None:
        """The account that registered it (`actor_id` of Registered)."""
        return getattr(self, "registered_by", None)

    @staticmethod
    def create_id(campaign_id: UUID, credit_code: str) -> UUID:
        return uuid5(REGISTRATION_NAMESPACE, f"{campaign_id}/{credit_code}")

    @classmethod
    def register(
        cls,
        campaign: Campaign,
        credit_code: str,
        form: RegistrationForm,
        industries: Collection[str],
        domains: Collection[str],
        at: datetime,
        actor: Actor,
    ) -> Registration:
        _check(campaign, form, industries, domains, at)
        return cls._create(
            cls.Registered,
            id=cls.create_id(campaign.id, credit_code),
            campaign_id=campaign.id,
            credit_code=credit_code,
            form=form.to_state(),
            **actor.fields(),
        )

    @property
    def form(self) -> RegistrationForm:
        return RegistrationForm.from_state(self.form_state)

    def change(
        self,
        campaign: Campaign,
        form: RegistrationForm,
        industries: Collection[str],
        domains: Collection[str],
        at: datetime,
        actor: Actor,
    ) -> None:
        _check(campaign, form, industries, domains, at)
        self.trigger_event(self.Changed, form=form.to_state(), **actor.fields())


def _check(
    campaign: Campaign,
    form: RegistrationForm,
    industries: Collection[str],
    domains: Collection[str],
    at: datetime,
) -> None:
    campaign.check_active()
    campaign.check_phase_open(Phase.REGISTRATION, at)
    problems = form.problems(industries, domains)
    if problems:
        raise InvalidRegistration(*problems)
