"""The campaign (活动): one programme and year of a tenant, its timeline of phase windows and rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, get_args, get_type_hints
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem
from aggregates.review_plan import ReviewPlan

CAMPAIGN_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/campaign")
REHEARSAL_MARK = "演练"
"""Marks a rehearsal's serials (SAQ-2026-QC-演练-0001) and its name wherever it is shown."""
REHEARSAL_CODE_MARK = "YL"
"""Marks a rehearsal's certificate codes (SAQ-2026-QC-YL-7K3MQ9XD): codes stay ASCII, being
typed from paper and drawn in a Latin font (演练, yǎnliàn)."""


class Programme(StrEnum):
    QC_GROUP = "qc_group"
    TEAM = "team"


PROGRAMME_NAMES_ZH = {
    Programme.QC_GROUP: "质量管理小组活动",
    Programme.TEAM: "质量信得过班组建设活动",
}


class Phase(StrEnum):
    """The phases of a campaign's timeline, in their usual order."""

    REGISTRATION = "registration"
    SUBMISSION = "submission"
    RECOMMENDATION = "recommendation"
    FORMAL_REVIEW = "formal_review"
    MATERIAL_REVIEW = "material_review"
    PRESENTATION = "presentation"
    GRADING = "grading"
    PUBLIC_NOTICE = "public_notice"
    PUBLICATION = "publication"
    EXCHANGE_MEETING = "exchange_meeting"
    PROMOTION = "promotion"
    NATIONAL_FORWARDING = "national_forwarding"


PHASE_NAMES_ZH = {
    Phase.REGISTRATION: "报名",
    Phase.SUBMISSION: "成果申报",
    Phase.RECOMMENDATION: "成果推荐",
    Phase.FORMAL_REVIEW: "形式审查",
    Phase.MATERIAL_REVIEW: "材料文审/专家会审",
    Phase.PRESENTATION: "发表赛",
    Phase.GRADING: "等级认定/推优",
    Phase.PUBLIC_NOTICE: "公示",
    Phase.PUBLICATION: "成果发布",
    Phase.EXCHANGE_MEETING: "交流会",
    Phase.PROMOTION: "宣传推广",
    Phase.NATIONAL_FORWARDING: "推荐全国",
}


class Takes(StrEnum):
    """How a phase takes over the work of a phase it depends on."""

    BESIDE = "beside"
    """Side by side: it may open while the other runs, and ends after it (groups register and
    file at once; units recommend while results are still filed)."""
    AFTER = "after"
    """After it: it opens once the other has closed (formal review checks what was filed)."""


PHASE_DEPENDS_ON: dict[Phase, dict[Phase, Takes]] = {
    Phase.SUBMISSION: {Phase.REGISTRATION: Takes.BESIDE},
    Phase.RECOMMENDATION: {Phase.SUBMISSION: Takes.BESIDE},
    Phase.FORMAL_REVIEW: {Phase.SUBMISSION: Takes.AFTER, Phase.RECOMMENDATION: Takes.AFTER},
    Phase.MATERIAL_REVIEW: {Phase.FORMAL_REVIEW: Takes.AFTER},
    Phase.PRESENTATION: {Phase.MATERIAL_REVIEW: Takes.AFTER},
    Phase.GRADING: {Phase.MATERIAL_REVIEW: Takes.AFTER, Phase.PRESENTATION: Takes.AFTER},
    Phase.PUBLIC_NOTICE: {Phase.GRADING: Takes.AFTER},
    Phase.PUBLICATION: {Phase.PUBLIC_NOTICE: Takes.AFTER},
    Phase.EXCHANGE_MEETING: {Phase.PUBLIC_NOTICE: Takes.AFTER},
    Phase.PROMOTION: {Phase.PUBLIC_NOTICE: Takes.AFTER},
    Phase.NATIONAL_FORWARDING: {Phase.PUBLIC_NOTICE: Takes.AFTER},
}
"""The dependency rule between phases, in one place: which phases each phase takes its work
from, and how (`Takes`). From it, and only from it, phase control decides:

- **open now**: once every phase it takes over *after* has closed, and every phase it runs
  *beside* has opened;
- **close now**: once every phase it depends on has closed (recommendation cannot end while
  results are still filed);
- **reopen**: until a phase that depends on it has taken over — opened, for one that follows
  *after*; closed, for one that runs *beside* — and never past that moment.

An unscheduled phase is passed through: without grading, the notice follows the expert review
(`after` when any step of the way is)."""


def depends_on(phase: Phase, scheduled: Iterable[Phase]) -> dict[Phase, Takes]:
    """The scheduled phases `phase` depends on (through unscheduled ones), in their usual order."""
    present = set(scheduled)
    found: dict[Phase, Takes] = {}
    todo = list(PHASE_DEPENDS_ON.get(phase, {}).items())
    while todo:
        earlier, takes = todo.pop()
        if earlier in present:
            if found.get(earlier) is not Takes.AFTER:
                found[earlier] = takes
        else:
            todo.extend(
                (p, Takes.AFTER if Takes.AFTER in (takes, t) else Takes.BESIDE)
                for p, t in PHASE_DEPENDS_ON.get(earlier, {}).items()
            )
    return {p: found[p] for p in Phase if p in found}


def dependents_of(phase: Phase, scheduled: Iterable[Phase]) -> dict[Phase, Takes]:
    """The scheduled phases that depend on `phase`, in their usual order, and how."""
    present = list(scheduled)
    return {
        p: takes
        for p in Phase
        if p in present and (takes := depends_on(p, present).get(phase)) is not None
    }


def _names(phases: Iterable[Phase]) -> str:
    return "、".join(f"“{PHASE_NAMES_ZH[p]}”" for p in phases)


class ScoreAggregation(StrEnum):
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"


class CampaignError(DomainError):
    """Base of the campaign's refusals."""


class InvalidCampaign(CampaignError, InvalidInput):
    """A value given to a campaign command breaks a rule."""


class CampaignConflict(CampaignError, Conflict):
    """The command does not fit the campaign's state or the moment."""


class CampaignAlreadyOpened(CampaignConflict):
    """The tenant already has a campaign for this programme and year."""


class RehearsalAlreadyOpened(CampaignConflict):
    """The programme and year already have a rehearsal that has not been deleted."""


class CampaignNotFound(CampaignError, NotFound):
    def __init__(self, campaign_id: UUID) -> None:
        super().__init__(Problem("campaign_id", "not_found", f"未找到活动 {campaign_id}"))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Window:
    """A phase's window: open from `opens_at` (or from the start) until just before `closes_at`.

    A window closing at 22:00 refuses a command at 22:00:00 and accepts one at 21:59:59.
    """

    opens_at: datetime | None
    closes_at: datetime

    def is_open(self, at: datetime) -> bool:
        return self.has_opened(at) and at < self.closes_at

    def has_opened(self, at: datetime) -> bool:
        return self.opens_at is None or self.opens_at <= at

    def describe(self) -> str:
        start = _when(self.opens_at) if self.opens_at else "活动开始"
        return f"{start} 至 {_when(self.closes_at)}"

    def problems(self, field: str) -> list[Problem]:
        found = [
            Problem(f"{field}.{name}", "timezone_required", "时间须带时区（如 +08:00）")
            for name, value in (("opens_at", self.opens_at), ("closes_at", self.closes_at))
            if value is not None and value.utcoffset() is None
        ]
        if not found and self.opens_at is not None and self.opens_at >= self.closes_at:
            found.append(Problem(f"{field}.closes_at", "window_order", "截止时间须晚于开始时间"))
        return found

    def to_state(self) -> dict[str, datetime | None]:
        return {"opens_at": self.opens_at, "closes_at": self.closes_at}


@dataclass(frozen=True)
class CampaignRules:
    """The rules a campaign carries; defaults are the seeds', each changeable per campaign."""

    results_per_applicant_min: int = 2
    """成果数量：每家申报单位至少申报的成果数（上海 QC：2-3 个）。"""
    results_per_applicant_max: int | None = 3
    results_per_applicant_min_blocking: bool = False
    """形式审查时申报单位成果数不足 `results_per_applicant_min` 即不能通过（否则仅提示）。"""
    distinct_topic_types: bool = True
    """一家单位的多个成果须课题类型有所差异。"""
    recommendations_per_applicant_max: int | None = 3
    """推荐单位对每家申报单位推荐的成果数上限（上海班组：2 个）。"""
    recommending_unit_quota: int | None = None
    """每个推荐单位推荐总名额；空表示不限，秘书处可为个别单位增加名额。"""
    members_max: int = 10
    intro_min_chars: int = 800
    intro_max_chars: int = 1200
    """QC 小组简介及主要活动过程与效果，1000 字左右。"""
    team_report_max_chars: int = 5000
    evaluation_max_chars: int = 300
    work_summary_min_chars: int = 3000
    accident_free_years: int = 3
    """班组近三年无质量、安全、环保事故。"""
    score_max: int = 100
    score_aggregation: ScoreAggregation = ScoreAggregation.MEAN
    max_mb_application_form: int = 20
    """附件大小上限（MB）：盖章申报表、成果报告、PPT、发表视频、证实性材料。"""
    max_mb_report: int = 50
    max_mb_slides: int = 200
    max_mb_video: int = 2048
    max_mb_evidence: int = 100

    def max_bytes(self, kind: str) -> int:
        """The size limit of an attachment kind, in bytes."""
        megabytes: int = getattr(self, f"max_mb_{kind}")
        return megabytes * 1024 * 1024

    @classmethod
    def defaults_for(cls, programme: Programme) -> CampaignRules:
        if programme is Programme.TEAM:
            return cls(
                results_per_applicant_min=1,
                results_per_applicant_max=None,
                distinct_topic_types=False,
                recommendations_per_applicant_max=2,
            )
        return cls()

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CampaignRules:
        # Rules added later take their defaults when older events are replayed.
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in state.items() if k in known}
        if "score_aggregation" in values:
            values["score_aggregation"] = ScoreAggregation(values["score_aggregation"])
        return cls(**values)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    def amended(self, changes: Mapping[str, Any]) -> CampaignRules:
        kinds = _rule_kinds()
        problems = []
        values = dict(changes)
        for name, value in changes.items():
            if name not in kinds:
                problems.append(Problem(f"rules.{name}", "unknown_rule", f"没有名为 {name} 的规则"))
                continue
            kind, optional = kinds[name]
            if value is None and optional:
                continue
            if kind is ScoreAggregation and value in set(ScoreAggregation):
                values[name] = ScoreAggregation(value)
            elif kind is bool and not isinstance(value, bool):
                problems.append(Problem(f"rules.{name}", "type", "须为是或否（true/false）"))
            elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                problems.append(Problem(f"rules.{name}", "type", "须为正整数"))
            elif kind is ScoreAggregation and not isinstance(value, ScoreAggregation):
                allowed = "、".join(a.value for a in ScoreAggregation)
                problems.append(Problem(f"rules.{name}", "type", f"须为：{allowed}"))
        if problems:
            raise InvalidCampaign(*problems)
        amended = replace(self, **values)
        amended.check()
        return amended

    def problems(self) -> list[Problem]:
        found = [
            Problem(f"rules.{f.name}", "positive", "须为正整数")
            for f in fields(self)
            if isinstance(getattr(self, f.name), int)
            and not isinstance(getattr(self, f.name), bool)
            and getattr(self, f.name) < 1
        ]
        pairs = (
            ("results_per_applicant_min", "results_per_applicant_max"),
            ("intro_min_chars", "intro_max_chars"),
        )
        for low, high in pairs:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if high_value is not None and low_value > high_value:
                found.append(Problem(f"rules.{high}", "min_le_max", f"不得小于 {low}"))
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise InvalidCampaign(*problems)


@cache
def _rule_kinds() -> dict[str, tuple[type, bool]]:
    """Each rule's value type and whether it may be empty (no limit), from the declarations."""
    kinds: dict[str, tuple[type, bool]] = {}
    for name, hint in get_type_hints(CampaignRules).items():
        members = [a for a in get_args(hint) if a is not type(None)] or [hint]
        kinds[name] = (members[0], len(get_args(hint)) > 1)
    return kinds


def rule_kinds() -> dict[str, tuple[type, bool]]:
    """Each rule's value type and whether it may be empty, for a form that edits them."""
    return dict(_rule_kinds())


def timeline_problems(timeline: Mapping[Phase, Window]) -> list[Problem]:
    problems = [
        p for phase, window in timeline.items() for p in window.problems(f"timeline.{phase}")
    ]
    if not timeline:
        problems.append(Problem("timeline", "required", "活动须至少安排一个阶段"))
    return problems


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Contact:
    """The campaign's contact (联系方式)."""

    person: str
    phone: str
    department: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""

    def problems(self) -> list[Problem]:
        found = [
            Problem(f"contact.{name}", "required", "不能为空")
            for name in ("person", "phone")
            if not getattr(self, name).strip()
        ]
        if self.email and not _EMAIL.match(self.email):
            found.append(Problem("contact.email", "email_format", "邮箱格式不正确"))
        if self.postcode and not re.fullmatch(r"\d{6}", self.postcode):
            found.append(Problem("contact.postcode", "postcode_format", "邮编应为 6 位数字"))
        return found


def _text_problems(values: Iterable[tuple[str, str | None, int, bool]]) -> list[Problem]:
    found = []
    for field, value, max_chars, required in values:
        if value is None or not value.strip():
            if required:
                found.append(Problem(field, "required", "不能为空"))
        elif len(value) > max_chars:
            found.append(Problem(field, "max_length", f"不得超过 {max_chars} 个字符"))
    return found


def _ordered(timeline: Mapping[Phase, Window]) -> list[tuple[Phase, Window]]:
    order = list(Phase)
    return sorted(timeline.items(), key=lambda item: order.index(item[0]))


class Campaign(Aggregate):
    """A tenant's campaign for one programme and year.

    State is kept as plain values (the timeline and rules as dicts) so that snapshots
    round-trip through the transcoder; typed views are built on read.
    """

    class Opened(Aggregate.Created):
        tenant: str
        programme: Programme
        year: int
        title: str
        document_number: str | None
        theme: str | None
        co_organisers: list[str]
        contact: dict[str, str]
        period_start: date
        period_end: date
        rules: dict[str, Any]
        timeline: dict[str, dict[str, datetime | None]]
        idempotency_key: str | None
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.tenant = self.tenant
            aggregate.programme = self.programme
            aggregate.year = self.year
            aggregate.title = self.title
            aggregate.document_number = self.document_number
            aggregate.theme = self.theme
            aggregate.co_organisers = list(self.co_organisers)
            aggregate.contact = dict(self.contact)
            aggregate.period_start = self.period_start
            aggregate.period_end = self.period_end
            aggregate.rules_state = dict(self.rules)
            aggregate.timeline_state = {k: dict(v) for k, v in self.timeline.items()}
            aggregate.idempotency_key = self.idempotency_key
            aggregate.published_at = None
            aggregate.archived = False
            aggregate.review_plan_state = None
            aggregate.rehearsal = False
            aggregate.deleted = False

    class RehearsalOpened(Opened):
        """A rehearsal (演练) of the programme and year, beside the real campaign: its own id and
        serials, never forwarded, never counted, its certificates samples (ADR 36)."""

        def apply(self, aggregate: Campaign) -> None:
            super().apply(aggregate)
            aggregate.rehearsal = True

    class Event(Aggregate.Event):
        """The base of every event of a Campaign after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class PhaseRescheduled(Event):
        phase: Phase
        opens_at: datetime | None
        closes_at: datetime

        def apply(self, aggregate: Campaign) -> None:
            aggregate.timeline_state[str(self.phase)] = {
                "opens_at": self.opens_at,
                "closes_at": self.closes_at,
            }

    class DeadlineExtended(Event):
        phase: Phase
        previous_closes_at: datetime
        closes_at: datetime
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.timeline_state[str(self.phase)]["closes_at"] = self.closes_at

    class RulesAmended(Event):
        changes: dict[str, Any]
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.rules_state.update(self.changes)

    class ReviewPlanned(Event):
        plan: dict[str, Any]

        def apply(self, aggregate: Campaign) -> None:
            aggregate.review_plan_state = dict(self.plan)

    class ResultsPublished(Event):
        published_at: datetime

        def apply(self, aggregate: Campaign) -> None:
            aggregate.published_at = self.published_at

    class Archived(Event):
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.archived = True

    # Phase control (close now, open now, reopen): each names the window it leaves behind.

    class PhaseClosedNow(Event):
        phase: Phase
        previous_closes_at: datetime
        closes_at: datetime
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.timeline_state[str(self.phase)]["closes_at"] = self.closes_at

    class PhaseOpenedNow(Event):
        phase: Phase
        previous_opens_at: datetime | None
        previous_closes_at: datetime | None
        opens_at: datetime
        closes_at: datetime
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.timeline_state[str(self.phase)] = {
                "opens_at": self.opens_at,
                "closes_at": self.closes_at,
            }

    class PhaseReopened(Event):
        phase: Phase
        previous_closes_at: datetime
        closes_at: datetime
        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.timeline_state[str(self.phase)]["closes_at"] = self.closes_at

    class RehearsalDeleted(Event):
        """The rehearsal and everything filed in it are gone from the read models and refused by
        every command; its events stay in the log."""

        reason: str

        def apply(self, aggregate: Campaign) -> None:
            aggregate.deleted = True

    class LateUnitsReminded(Event):
        """The secretariat mailed the recommending units what they have not filed yet (the
        campaign desk's reminder): unit code → the missing items (recommendation, statistics,
        work_summary), and how many accounts were mailed."""

        reminders: dict[str, list[str]]
        recipients: int

        def apply(self, aggregate: Campaign) -> None:
            """A record for the auditors: the campaign's state does not change."""

    if TYPE_CHECKING:  # set by the events' apply(); annotations here would make a dataclass
        tenant: str
        programme: Programme
        year: int
        title: str
        document_number: str | None
        theme: str | None
        co_organisers: list[str]
        contact: dict[str, str]
        period_start: date
        period_end: date
        rules_state: dict[str, Any]
        timeline_state: dict[str, dict[str, datetime | None]]
        idempotency_key: str | None
        published_at: datetime | None
        archived: bool
        review_plan_state: dict[str, Any] | None
        rehearsal: bool
        deleted: bool

    @staticmethod
    def create_id(tenant: str, programme: Programme, year: int) -> UUID:
        # One campaign per tenant, programme and year: the store itself refuses a second.
        return uuid5(CAMPAIGN_NAMESPACE, f"{tenant}/{programme}/{year}")

    @staticmethod
    def create_rehearsal_id(tenant: str, programme: Programme, year: int, number: int) -> UUID:
        """The n-th rehearsal of a programme and year (a deleted one leaves its id taken)."""
        return uuid5(CAMPAIGN_NAMESPACE, f"{tenant}/{programme}/{year}/rehearsal/{number}")

    @classmethod
    def open(
        cls,
        *,
        tenant: str,
        programme: Programme,
        year: int,
        title: str,
        document_number: str | None,
        theme: str | None,
        co_organisers: list[str],
        contact: Contact,
        period_start: date,
        period_end: date,
        rules: CampaignRules,
        timeline: Mapping[Phase, Window],
        actor: Actor,
        idempotency_key: str | None = None,
        rehearsal_number: int | None = None,
    ) -> Campaign:
        """Open the campaign, or with `rehearsal_number` the n-th rehearsal beside it."""
        problems = _text_problems(
            [
                ("title", title, 200, True),
                ("document_number", document_number, 50, False),
                ("theme", theme, 200, False),
            ]
        )
        problems += contact.problems()
        if not 2000 <= year <= 2100:
            problems.append(Problem("year", "range", "年度应在 2000 至 2100 之间"))
        if period_start > period_end:
            problems.append(Problem("period_end", "period_order", "统计期结束不得早于开始"))
        problems += [
            Problem(f"co_organisers[{i}]", "required", "不能为空")
            for i, name in enumerate(co_organisers)
            if not name.strip()
        ]
        problems += rules.problems() + timeline_problems(timeline)
        if problems:
            raise InvalidCampaign(*problems)
        rehearsal = rehearsal_number is not None
        return cls._create(
            cls.RehearsalOpened if rehearsal else cls.Opened,
            id=(
                cls.create_rehearsal_id(tenant, programme, year, rehearsal_number)
                if rehearsal_number is not None
                else cls.create_id(tenant, programme, year)
            ),
            tenant=tenant,
            programme=programme,
            year=year,
            title=title.strip(),
            document_number=document_number,
            theme=theme,
            co_organisers=list(co_organisers),
            contact=asdict(contact),
            period_start=period_start,
            period_end=period_end,
            rules=rules.to_state(),
            timeline={str(phase): w.to_state() for phase, w in _ordered(timeline)},
            idempotency_key=idempotency_key,
            **actor.fields(),
        )

    # Typed views of the plain state.

    @property
    def rules(self) -> CampaignRules:
        return CampaignRules.from_state(self.rules_state)

    @property
    def timeline(self) -> dict[Phase, Window]:
        windows = {
            Phase(name): Window(opens_at=w["opens_at"], closes_at=_closes(w))
            for name, w in self.timeline_state.items()
        }
        return dict(_ordered(windows))  # phases added later still read in their usual order

    def window(self, phase: Phase) -> Window:
        window = self.timeline.get(phase)
        if window is None:
            raise InvalidCampaign(
                Problem("phase", "not_scheduled", f"本活动未安排“{PHASE_NAMES_ZH[phase]}”阶段")
            )
        return window

    def open_phases(self, at: datetime) -> list[Phase]:
        """Which phases are open at a moment."""
        return [phase for phase, window in self.timeline.items() if window.is_open(at)]

    # Guards.

    def check_phase_open(
        self, phase: Phase, at: datetime, *, field: str = "phase", whose: str = ""
    ) -> None:
        """Refuse a command outside its phase window, naming the window (and, from another
        tenant, `whose` campaign it is)."""
        window = self.window(phase)
        if not window.is_open(at):
            state = "尚未开始" if not window.has_opened(at) else "已截止"
            raise CampaignConflict(
                Problem(
                    field,
                    "window_closed",
                    f"{whose}“{PHASE_NAMES_ZH[phase]}”{state}（时间窗口：{window.describe()}）",
                )
            )

    def check_active(self) -> None:
        if self.is_deleted:
            raise CampaignConflict(Problem("campaign", "deleted", "演练活动已删除"))
        if self.archived:
            raise CampaignConflict(Problem("campaign", "archived", "活动已归档，不能再修改"))

    # Commands.

    def reschedule_phase(self, phase: Phase, window: Window, at: datetime, actor: Actor) -> None:
        """Move a phase that has not closed yet (an unscheduled phase is added). A phase that has
        opened keeps the start it had (it happened); its close moves, but not into the past (that
        is closing it now), and a closed phase is reopened, not rescheduled."""
        self.check_active()
        current = self.timeline.get(phase)
        name = PHASE_NAMES_ZH[phase]
        if current is not None and current.has_opened(at) and not current.is_open(at):
            raise CampaignConflict(
                Problem(
                    "phase",
                    "already_closed",
                    f"“{name}”已于 {_when(current.closes_at)} 截止，不能改期；"
                    "如需重新开放请使用“重新开放”并说明理由",
                )
            )
        running = current is not None and current.is_open(at)
        if running and current is not None and window.opens_at is None:
            window = Window(current.opens_at, window.closes_at)
        problems = timeline_problems({phase: window})
        if running and current is not None:
            if window.opens_at != current.opens_at:
                problems.append(
                    Problem(
                        "opens_at",
                        "already_opened",
                        f"“{name}”已开始（{current.describe()}），开始时间不能再改",
                    )
                )
            elif window.closes_at <= at:
                problems.append(
                    Problem(
                        "closes_at", "in_future", "截止时间须晚于当前时间；立即截止请用“立即截止”"
                    )
                )
        elif window.opens_at is None:
            # Otherwise the phase would open at once, with no record of when.
            problems.append(Problem("opens_at", "required", "改期须给出开始时间"))
        elif window.opens_at <= at:
            problems.append(Problem("opens_at", "in_future", "改期后的开始时间须晚于当前时间"))
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(
            self.PhaseRescheduled,
            phase=phase,
            opens_at=window.opens_at,
            closes_at=window.closes_at,
            **actor.fields(),
        )

    def extend_deadline(
        self, phase: Phase, until: datetime, reason: str, at: datetime, actor: Actor
    ) -> None:
        """Extend an open phase; a phase not yet open is rescheduled, a closed one reopened."""
        self.check_active()
        window = self.window(phase)
        self._check_running(phase, window, at)
        problems = _text_problems([("reason", reason, 500, True)])
        if until.utcoffset() is None:
            problems.append(Problem("until", "timezone_required", "时间须带时区（如 +08:00）"))
        elif until <= window.closes_at:
            problems.append(
                Problem(
                    "until", "later_than_deadline", f"须晚于原截止时间 {_when(window.closes_at)}"
                )
            )
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(
            self.DeadlineExtended,
            phase=phase,
            previous_closes_at=window.closes_at,
            closes_at=until,
            reason=reason.strip(),
            **actor.fields(),
        )

    # Phase control: close now, open now, reopen (each with a reason, each checked against the
    # phases it depends on or that depend on it: PHASE_DEPENDS_ON).

    def phase_state(self, phase: Phase, at: datetime) -> str:
        """`not_opened`, `open` or `closed` at a moment (`unscheduled` when not in the timeline)."""
        window = self.timeline.get(phase)
        if window is None:
            return "unscheduled"
        if not window.has_opened(at):
            return "not_opened"
        return "open" if window.is_open(at) else "closed"

    def depends_on(self, phase: Phase) -> dict[Phase, Takes]:
        return depends_on(phase, self.timeline)

    def dependents(self, phase: Phase) -> dict[Phase, Takes]:
        return dependents_of(phase, self.timeline)

    def taken_over_at(self, phase: Phase) -> tuple[Phase, datetime] | None:
        """When a phase that depends on `phase` first takes over its work (see PHASE_DEPENDS_ON):
        the latest a closed `phase` may be reopened until."""
        timeline = self.timeline
        moments: list[tuple[Phase, datetime]] = []
        for dependent, takes in self.dependents(phase).items():
            window = timeline[dependent]
            moment = window.closes_at if takes is Takes.BESIDE else window.opens_at
            if moment is not None:
                moments.append((dependent, moment))
        return min(moments, key=lambda m: m[1], default=None)

    def _check_running(self, phase: Phase, window: Window, at: datetime) -> None:
        name = PHASE_NAMES_ZH[phase]
        if not window.has_opened(at):
            raise CampaignConflict(
                Problem(
                    "phase",
                    "not_opened",
                    f"“{name}”尚未开始（{window.describe()}）；请改期或立即开始",
                )
            )
        if not window.is_open(at):
            raise CampaignConflict(
                Problem(
                    "phase",
                    "already_closed",
                    f"“{name}”已于 {_when(window.closes_at)} 截止；"
                    "延期只适用于进行中的阶段，重新开放请使用“重新开放”并说明理由",
                )
            )

    def _unfinished_before(self, phase: Phase, at: datetime, *, closing: bool) -> list[Phase]:
        """The phases `phase` depends on that keep it from opening (`closing`: from closing) now."""
        timeline = self.timeline
        return [
            p
            for p, takes in self.depends_on(phase).items()
            if not timeline[p].has_opened(at)
            or (timeline[p].is_open(at) and (closing or takes is Takes.AFTER))
        ]

    def close_phase_now(self, phase: Phase, reason: str, at: datetime, actor: Actor) -> None:
        """Close an open phase now (e.g. submission closed early), once the phases it depends on
        have closed (formal review cannot end while results are still being recommended)."""
        self.check_active()
        window = self.window(phase)
        self._check_running(phase, window, at)
        problems = _text_problems([("reason", reason, 500, True)])
        if problems:
            raise InvalidCampaign(*problems)
        unfinished = self._unfinished_before(phase, at, closing=True)
        if unfinished:
            raise CampaignConflict(
                Problem(
                    "phase",
                    "depends_on_open",
                    f"“{PHASE_NAMES_ZH[phase]}”依赖的{_names(unfinished)}尚未结束，不能先行截止",
                )
            )
        self.trigger_event(
            self.PhaseClosedNow,
            phase=phase,
            previous_closes_at=window.closes_at,
            closes_at=at,
            reason=reason.strip(),
            **actor.fields(),
        )

    def open_phase_now(
        self,
        phase: Phase,
        reason: str,
        at: datetime,
        actor: Actor,
        closes_at: datetime | None = None,
    ) -> None:
        """Open a phase now that has not opened (formal review once the last unit has filed; a
        notice for exactly its days with `closes_at`), once the phases it depends on have closed;
        an unscheduled phase is added (its close then given)."""
        self.check_active()
        current = self.timeline.get(phase)
        name = PHASE_NAMES_ZH[phase]
        if current is not None and current.has_opened(at):
            opened = current.is_open(at)
            raise CampaignConflict(
                Problem(
                    "phase",
                    "already_opened" if opened else "already_closed",
                    f"“{name}”正在进行（{current.describe()}）"
                    if opened
                    else f"“{name}”已于 {_when(current.closes_at)} 截止；"
                    "重新开放请使用“重新开放”并说明理由",
                )
            )
        problems = _text_problems([("reason", reason, 500, True)])
        until = closes_at if closes_at is not None else (current.closes_at if current else None)
        if until is None:
            problems.append(Problem("closes_at", "required", "请给出截止时间"))
        elif until.utcoffset() is None:
            problems.append(Problem("closes_at", "timezone_required", "时间须带时区（如 +08:00）"))
        elif until <= at:
            problems.append(
                Problem(
                    "closes_at",
                    "in_future",
                    f"截止时间须晚于当前时间（原截止时间 {_when(until)}）",
                )
            )
        if problems or until is None:
            raise InvalidCampaign(*problems)
        unfinished = self._unfinished_before(phase, at, closing=False)
        if unfinished:
            raise CampaignConflict(
                Problem(
                    "phase",
                    "depends_on_open",
                    f"“{name}”须在{_names(unfinished)}结束后开始；请先截止{_names(unfinished)}",
                )
            )
        self.trigger_event(
            self.PhaseOpenedNow,
            phase=phase,
            previous_opens_at=current.opens_at if current else None,
            previous_closes_at=current.closes_at if current else None,
            opens_at=at,
            closes_at=until,
            reason=reason.strip(),
            **actor.fields(),
        )

    def reopen_phase(
        self, phase: Phase, until: datetime, reason: str, at: datetime, actor: Actor
    ) -> None:
        """Reopen a closed phase until a moment, with a reason: refused once a phase that depends
        on it has taken over its work, and never past that moment (PHASE_DEPENDS_ON)."""
        self.check_active()
        window = self.window(phase)
        name = PHASE_NAMES_ZH[phase]
        if window.is_open(at) or not window.has_opened(at):
            raise CampaignConflict(
                Problem(
                    "phase",
                    "not_closed",
                    f"“{name}”尚未截止（{window.describe()}）；只有已截止的阶段才能重新开放",
                )
            )
        timeline = self.timeline
        taken = [
            (p, "已经开始" if takes is Takes.AFTER else "已经截止")
            for p, takes in self.dependents(phase).items()
            if (timeline[p].has_opened(at) if takes is Takes.AFTER else not timeline[p].is_open(at))
        ]
        if taken:
            raise CampaignConflict(
                Problem(
                    "phase",
                    "dependent_started",
                    f"依赖“{name}”的"
                    + "、".join(f"“{PHASE_NAMES_ZH[p]}”{how}" for p, how in taken)
                    + f"，“{name}”不能再重新开放",
                )
            )
        problems = _text_problems([("reason", reason, 500, True)])
        limit = self.taken_over_at(phase)
        if until.utcoffset() is None:
            problems.append(Problem("until", "timezone_required", "时间须带时区（如 +08:00）"))
        elif until <= at:
            problems.append(Problem("until", "in_future", "须晚于当前时间"))
        elif limit is not None and until > limit[1]:
            problems.append(
                Problem(
                    "until",
                    "before_dependent",
                    f"不得晚于 {_when(limit[1])}（依赖它的“{PHASE_NAMES_ZH[limit[0]]}”"
                    f"{'开始' if self.dependents(phase)[limit[0]] is Takes.AFTER else '截止'}）",
                )
            )
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(
            self.PhaseReopened,
            phase=phase,
            previous_closes_at=window.closes_at,
            closes_at=until,
            reason=reason.strip(),
            **actor.fields(),
        )

    def check_stage(self, phase: Phase, at: datetime) -> None:
        """A stage the campaign schedules runs in its window (one it does not schedule, any time):
        grading, formal review."""
        if phase in self.timeline:
            self.check_phase_open(phase, at)

    @property
    def grades(self) -> bool:
        """Whether the campaign's plan grades its results here (grade bands, or a grading phase)."""
        return bool(self.review_plan.bands) or Phase.GRADING in self.timeline

    def amend_rules(
        self, changes: Mapping[str, Any], reason: str, at: datetime, actor: Actor
    ) -> None:
        """Change rules, only before submission opens."""
        self.check_active()
        if not changes:
            raise InvalidCampaign(Problem("rules", "required", "未指定要修改的规则"))
        problems = _text_problems([("reason", reason, 500, True)])
        if problems:
            raise InvalidCampaign(*problems)
        first = self.first_filing_phase()
        if first is not None and first[1].has_opened(at):
            raise CampaignConflict(
                Problem(
                    "rules",
                    "filing_opened",
                    f"“{PHASE_NAMES_ZH[first[0]]}”已于 {first[1].describe()} 开放，规则不能再修改",
                )
            )
        amended = self.rules.amended(changes).to_state()
        self.trigger_event(
            self.RulesAmended,
            changes={name: amended[name] for name in changes},
            reason=reason.strip(),
            **actor.fields(),
        )

    def first_filing_phase(self) -> tuple[Phase, Window] | None:
        """The phase in which entries are first filed: submission, or else recommendation."""
        timeline = self.timeline
        for phase in (Phase.SUBMISSION, Phase.RECOMMENDATION):
            if phase in timeline:
                return phase, timeline[phase]
        return None

    @property
    def review_plan(self) -> ReviewPlan:
        """The plan set for this campaign, or the default one (no grade bands yet)."""
        state = getattr(self, "review_plan_state", None)  # absent from snapshots taken before
        return ReviewPlan() if state is None else ReviewPlan.from_state(state)

    def plan_review(self, plan: ReviewPlan, grades: set[str], at: datetime, actor: Actor) -> None:
        """Set the review plan, until material review opens."""
        self.check_active()
        material = self.timeline.get(Phase.MATERIAL_REVIEW)
        if material is not None and material.has_opened(at):
            raise CampaignConflict(
                Problem("plan", "review_started", "材料评审已开始，评审方案不能再修改")
            )
        problems = plan.problems(grades, self.rules.score_max)
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(self.ReviewPlanned, plan=plan.to_state(), **actor.fields())

    def publish_results(self, at: datetime, actor: Actor, *, graded: bool = False) -> None:
        """Publish, in the publication window; a campaign whose plan grades publishes its graded
        results (`graded`: with their certificates), never none."""
        self.check_active()
        if self.published_at is not None:
            raise CampaignConflict(
                Problem(
                    "campaign", "already_published", f"结果已于 {_when(self.published_at)} 发布"
                )
            )
        if self.grades and not graded:
            raise CampaignConflict(
                Problem(
                    "grading",
                    "not_graded",
                    "本活动的评审方案需认定等级：请先认定等级并完成公示，再发布结果",
                )
            )
        self.check_phase_open(Phase.PUBLICATION, at)
        self.trigger_event(self.ResultsPublished, published_at=at, **actor.fields())

    def archive(self, reason: str, actor: Actor) -> None:
        self.check_active()
        problems = _text_problems([("reason", reason, 500, True)])
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(self.Archived, reason=reason.strip(), **actor.fields())

    # Rehearsals (ADR 36).

    @property
    def is_rehearsal(self) -> bool:
        return getattr(self, "rehearsal", False)  # absent from snapshots taken before

    @property
    def is_deleted(self) -> bool:
        return getattr(self, "deleted", False)

    def delete_rehearsal(self, reason: str, actor: Actor) -> None:
        """Delete a rehearsal with everything filed in it; a real campaign is never deleted."""
        if not self.is_rehearsal:
            raise CampaignConflict(
                Problem("campaign", "not_a_rehearsal", "只有演练活动可以删除；正式活动只能归档")
            )
        if self.is_deleted:
            raise CampaignConflict(Problem("campaign", "deleted", "演练活动已删除"))
        problems = _text_problems([("reason", reason, 500, True)])
        if problems:
            raise InvalidCampaign(*problems)
        self.trigger_event(self.RehearsalDeleted, reason=reason.strip(), **actor.fields())

    def remind_late_units(
        self, reminders: Mapping[str, list[str]], recipients: int, actor: Actor
    ) -> None:
        self.check_active()
        if not reminders:
            raise CampaignConflict(Problem("units", "none_late", "没有需要提醒的单位"))
        self.trigger_event(
            self.LateUnitsReminded,
            reminders={unit: list(items) for unit, items in sorted(reminders.items())},
            recipients=recipients,
            **actor.fields(),
        )

    @property
    def status(self) -> str:
        if self.is_deleted:
            return "deleted"
        if self.archived:
            return "archived"
        return "published" if self.published_at is not None else "open"


def _closes(window: Mapping[str, datetime | None]) -> datetime:
    closes_at = window["closes_at"]
    if closes_at is None:  # never stored so; the timeline check requires it
        raise ValueError("closes_at missing")
    return closes_at
