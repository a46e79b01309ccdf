"""The statistics table (统计表) of one recommending unit for a campaign's statistics period, for
QC groups or teams: counts typed, rates computed (never typed), consistency checked. The
enterprises behind the count are a list of credit codes, so roll-ups count each one once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.credit_code import credit_code_problems
from aggregates.problems import DomainError, InvalidInput, NotFound, Problem

STATISTICS_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/statistics-table")
REVIEW_FORMS = ("现场评审", "资料评审", "发表评审", "与QC小组合开", "单独举办")


class StatisticsError(DomainError):
    pass


class InvalidStatistics(StatisticsError, InvalidInput):
    pass


class StatisticsNotFound(StatisticsError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("statistics", "not_found", "未找到该统计表"))


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole × 100%, to two places; None when the whole is zero."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


QC_RATES = {
    "coverage": ("participants", "employees"),
    "result_rate": ("groups_with_results", "registered_this_year"),
    "activity_rate": ("active_groups", "registered_this_year"),
}
"""Each computed rate of a QC table (普及率, 成果率, 活动率) as part / whole × 100% of two of its
figures: the one statement of the formulas (the portal's page computes them as typed from it)."""


@dataclass(frozen=True)
class Meeting:
    """发表会: date, place, groups (or teams) entered and presented, attendance."""

    held: bool = False
    date: date | None = None
    place: str = ""
    entered: int = 0
    presented: int = 0
    attendance: int = 0

    def problems(self) -> list[Problem]:
        found = []
        if self.held and (self.date is None or not self.place.strip()):
            found.append(Problem("meeting.date", "required", "举办了发表会，请填写时间和地点"))
        if self.presented > self.entered:
            found.append(Problem("meeting.presented", "coherent", "发表数不能多于报名数"))
        if self.held and self.attendance < self.presented:
            found.append(Problem("meeting.attendance", "coherent", "参会人数不应少于发表数"))
        found += [
            Problem(f"meeting.{n}", "non_negative", "不能为负数")
            for n in ("entered", "presented", "attendance")
            if getattr(self, n) < 0
        ]
        return found


@dataclass(frozen=True)
class QcFigures:
    """QC 小组活动统计项目"""

    employees: int
    registered_all_years: int
    registered_this_year: int
    participants: int
    active_groups: int
    groups_with_results: int
    benefit_all_years_10k: Decimal
    benefit_this_year_10k: Decimal
    spending_10k: Decimal
    rewards_10k: Decimal
    certified_reviewers: int = 0

    def problems(self) -> list[Problem]:
        found = [
            Problem(f"figures.{n}", "non_negative", "不能为负数")
            for n, v in asdict(self).items()
            if v < 0
        ]
        if self.participants > self.employees:
            found.append(
                Problem("figures.participants", "le_employees", "参加人数不能多于职工总数")
            )
        for name in ("active_groups", "groups_with_results"):
            if getattr(self, name) > self.registered_this_year:
                found.append(
                    Problem(f"figures.{name}", "le_registered", "不能多于本年度注册小组数")
                )
        if self.registered_this_year > self.registered_all_years:
            found.append(
                Problem(
                    "figures.registered_this_year", "le_all_years", "本年度注册数不能多于历年累计数"
                )
            )
        if self.benefit_this_year_10k > self.benefit_all_years_10k:
            found.append(
                Problem(
                    "figures.benefit_this_year_10k",
                    "le_all_years",
                    "本年度效益不能多于历年累计效益",
                )
            )
        return found

    def rates(self) -> dict[str, Decimal | None]:
        return {
            name: rate(getattr(self, part), getattr(self, whole))
            for name, (part, whole) in QC_RATES.items()
        }


@dataclass(frozen=True)
class TeamFiguresTable:
    """质量信得过班组活动统计项目"""

    teams_this_year: int
    teams_all_years: int
    participating_staff: int
    teams_recommended: int
    spending_10k: Decimal
    rewards_10k: Decimal

    def problems(self) -> list[Problem]:
        found = [
            Problem(f"figures.{n}", "non_negative", "不能为负数")
            for n, v in asdict(self).items()
            if v < 0
        ]
        if self.teams_this_year > self.teams_all_years:
            found.append(
                Problem("figures.teams_this_year", "le_all_years", "本年度班组数不能多于历年累计数")
            )
        if self.teams_recommended > self.teams_this_year:
            found.append(
                Problem(
                    "figures.teams_recommended", "le_this_year", "推荐数不能多于本年度开展的班组数"
                )
            )
        return found

    def rates(self) -> dict[str, Decimal | None]:
        return {}


Figures = QcFigures | TeamFiguresTable


def enterprise_list_problems(codes: list[str]) -> list[Problem]:
    """The enterprise list (企业清单): every code a valid unified social credit code (GB 32100,
    `enterprises[i]` naming the i-th), none twice, at least one."""
    found: list[Problem] = []
    for i, code in enumerate(codes):
        found += credit_code_problems(code, f"enterprises[{i}]")
    if len(set(codes)) != len(codes):
        found.append(Problem("enterprises", "unique", "企业清单中有重复的统一社会信用代码"))
    if not codes:
        found.append(Problem("enterprises", "required", "请附企业清单（统一社会信用代码）"))
    return found


@dataclass(frozen=True)
class EnterpriseItem:
    """One enterprise of the list with its own figures (企业分项数据): given where the unit has
    them, so that a roll-up that counts the enterprise elsewhere can deduct exactly its share."""

    credit_code: str
    figures: Figures
    name: str = ""


@dataclass(frozen=True)
class StatisticsForm:
    enterprises: list[str]
    """The credit codes of the enterprises counted (企业总数, 附清单)."""
    figures: Figures
    review_forms: list[str] = field(default_factory=list)
    meeting: Meeting = Meeting()
    contact: dict[str, str] = field(default_factory=dict)
    itemised: list[EnterpriseItem] = field(default_factory=list)
    """Figures of single listed enterprises (optional, any number of them)."""

    def problems(self, programme: Programme) -> list[Problem]:
        expected = TeamFiguresTable if programme is Programme.TEAM else QcFigures
        if not isinstance(self.figures, expected):
            return [Problem("figures", "wrong_programme", "统计项目与活动类别不符")]
        found = self.figures.problems() + self.meeting.problems()
        found += enterprise_list_problems(self.enterprises)
        unknown = [f for f in self.review_forms if f not in REVIEW_FORMS]
        if unknown:
            found.append(
                Problem(
                    "review_forms", "not_in_list", f"评审及交流形式应为：{'、'.join(REVIEW_FORMS)}"
                )
            )
        return found + self._itemised_problems(expected)

    def _itemised_problems(self, expected: type) -> list[Problem]:
        found: list[Problem] = []
        listed, seen = set(self.enterprises), set()
        for i, item in enumerate(self.itemised):
            where = f"itemised[{i}]"
            if item.credit_code not in listed:
                found.append(Problem(f"{where}.credit_code", "listed", "分项企业须列在企业清单中"))
            if item.credit_code in seen:
                found.append(Problem(f"{where}.credit_code", "unique", "同一企业只能分项填报一次"))
            seen.add(item.credit_code)
            if not isinstance(item.figures, expected):
                found.append(
                    Problem(f"{where}.figures", "wrong_programme", "统计项目与活动类别不符")
                )
                continue
            found += [
                Problem(f"{where}.{p.field}", p.rule, p.message) for p in item.figures.problems()
            ]
        if found or not self.itemised:
            return found
        totals = asdict(self.figures)
        for name, total in totals.items():
            itemised = sum(getattr(item.figures, name) for item in self.itemised)
            if itemised > total:
                found.append(
                    Problem(f"itemised.{name}", "le_total", "各企业分项数之和不能大于统计表合计")
                )
        return found

    def to_state(self) -> dict[str, Any]:
        return asdict(self)


def form_from_state(programme: Programme, state: dict[str, Any]) -> StatisticsForm:
    """The form from its recorded state, or from that state written as JSON (a read model's
    copy, its decimals and dates as strings): both convert to the same typed values."""
    figures_class: type[Figures] = TeamFiguresTable if programme is Programme.TEAM else QcFigures
    values = dict(state)
    values["figures"] = msgspec.convert(values["figures"], figures_class, strict=False)
    values["meeting"] = msgspec.convert(values["meeting"], Meeting, strict=False)
    # Tables recorded before enterprises could be itemised have no such key.
    values["itemised"] = [
        EnterpriseItem(
            credit_code=item["credit_code"],
            name=item.get("name", ""),
            figures=msgspec.convert(item["figures"], figures_class, strict=False),
        )
        for item in values.get("itemised", ())
    ]
    return StatisticsForm(**values)


class StatisticsTable(Aggregate):
    class Recorded(Aggregate.Created):
        campaign_id: UUID
        unit: str
        programme: Programme
        period_start: date
        period_end: date
        form: dict[str, Any]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: StatisticsTable) -> None:
            aggregate.campaign_id, aggregate.unit, aggregate.programme = (
                self.campaign_id,
                self.unit,
                self.programme,
            )
            aggregate.period_start, aggregate.period_end = self.period_start, self.period_end
            aggregate.form_state = dict(self.form)

    class Event(Aggregate.Event):
        """The base of every event of a StatisticsTable after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Revised(Event):
        form: dict[str, Any]

        def apply(self, aggregate: StatisticsTable) -> None:
            aggregate.form_state = dict(self.form)

    if TYPE_CHECKING:
        campaign_id: UUID
        unit: str
        programme: Programme
        period_start: date
        period_end: date
        form_state: dict[str, Any]

    @staticmethod
    def create_id(campaign_id: UUID, unit: str) -> UUID:
        return uuid5(STATISTICS_NAMESPACE, f"{campaign_id}/{unit}")

    @classmethod
    def record(
        cls, campaign: Campaign, unit: str, form: StatisticsForm, at: datetime, actor: Actor
    ) -> StatisticsTable:
        _check(campaign, form, at)
        return cls._create(
            cls.Recorded,
            id=cls.create_id(campaign.id, unit),
            campaign_id=campaign.id,
            unit=unit,
            programme=campaign.programme,
            period_start=campaign.period_start,
            period_end=campaign.period_end,
            form=form.to_state(),
            **actor.fields(),
        )

    def revise(self, campaign: Campaign, form: StatisticsForm, at: datetime, actor: Actor) -> None:
        _check(campaign, form, at)
        self.trigger_event(self.Revised, form=form.to_state(), **actor.fields())

    @classmethod
    def receive(
        cls, campaign: Campaign, unit: str, form: StatisticsForm, actor: Actor
    ) -> StatisticsTable:
        """A member association's table, forwarded to the national campaign (checked there, by
        this campaign's rules, before it was forwarded)."""
        return cls._create(
            cls.Recorded,
            id=cls.create_id(campaign.id, unit),
            campaign_id=campaign.id,
            unit=unit,
            programme=campaign.programme,
            period_start=campaign.period_start,
            period_end=campaign.period_end,
            form=form.to_state(),
            **actor.fields(),
        )

    def receive_revision(self, form: StatisticsForm, actor: Actor) -> None:
        self.trigger_event(self.Revised, form=form.to_state(), **actor.fields())

    @property
    def form(self) -> StatisticsForm:
        return form_from_state(self.programme, self.form_state)


def _check(campaign: Campaign, form: StatisticsForm, at: datetime) -> None:
    campaign.check_active()
    campaign.check_phase_open(Phase.RECOMMENDATION, at)
    problems = form.problems(campaign.programme)
    if problems:
        raise InvalidStatistics(*problems)
