"""Request and response types of recommendations, statistics tables and work summaries."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from aggregates.recommendation import Recommendation, Reviewer
from aggregates.statistics_table import (
    EnterpriseItem,
    Figures,
    Meeting,
    QcFigures,
    StatisticsForm,
    StatisticsTable,
    TeamFiguresTable,
)
from api.platform.schemas import Reason, Request, Response

Short = Annotated[str, Meta(max_length=200)]
Count = Annotated[int, Meta(ge=0, le=100_000_000)]


class EntryIn(Request, kw_only=True):
    submission_id: UUID
    score: Decimal
    """On the campaign's scale (0 to its maximum score)."""
    evaluation: Annotated[str, Meta(max_length=2000)]
    """成果评价（优势/不足之处）: the campaign's limit applies (300 characters by default)."""
    reviewer: Short
    """The certificate number of the roster's reviewer who scored it."""


class OrderIn(Request, kw_only=True):
    order: list[UUID]


class ReviewerIn(Request, kw_only=True):
    name: Short
    work_unit: Short
    certificate_kind: Short = ""
    certificate_number: Short
    mobile: Short

    def to_reviewer(self) -> Reviewer:
        return Reviewer(**msgspec.structs.asdict(self))


class DeclineIn(Request, kw_only=True):
    submission_id: UUID
    reason: Reason


class DeclarationIn(Request, kw_only=True):
    """推荐声明: accepted by the person filling the form in (填表人) with a phone number."""

    filled_by: Short
    phone: Short


class EntryOut(Response, kw_only=True, frozen=True):
    rank: int
    submission_id: str
    serial: str | None
    enterprise: str
    title: str
    """The result's title (小组名：课题名, or the team's name), as everywhere."""
    topic_type: str | None
    score: Decimal
    evaluation: str
    reviewer: str


class RecommendationOut(Response, kw_only=True, frozen=True):
    campaign_id: str
    unit: str
    unit_name: str
    status: str
    """draft, filed, returned or invalid."""
    entries: list[EntryOut]
    reviewers: list[dict[str, str]]
    not_recommended: dict[str, str]
    declaration: dict[str, str] | None
    filed_at: datetime | None
    quota: int | None
    extra_quota: int
    returned_reason: str | None
    invalid_reason: str | None
    version: int

    @classmethod
    def empty(
        cls, campaign_id: UUID, unit: str, unit_name: str, quota: int | None
    ) -> RecommendationOut:
        return cls(
            campaign_id=str(campaign_id),
            unit=unit,
            unit_name=unit_name,
            status="draft",
            entries=[],
            reviewers=[],
            not_recommended={},
            declaration=None,
            filed_at=None,
            quota=quota,
            extra_quota=0,
            returned_reason=None,
            invalid_reason=None,
            version=0,
        )

    @classmethod
    def of(
        cls, r: Recommendation, unit_name: str, quota: int | None, entries: list[EntryOut]
    ) -> RecommendationOut:
        return cls(
            campaign_id=str(r.campaign_id),
            unit=r.unit,
            unit_name=unit_name,
            status=r.status,
            entries=entries,
            reviewers=[dict(x) for x in r.reviewers],
            not_recommended=dict(r.not_recommended),
            declaration=dict(r.declaration) if r.declaration else None,
            filed_at=r.filed_at,
            quota=quota,
            extra_quota=r.extra_quota,
            returned_reason=r.returned_reason,
            invalid_reason=r.invalid_reason,
            version=r.version,
        )


class MeetingIn(Request, kw_only=True):
    held: bool = False
    date: date | None = None
    place: Short = ""
    entered: Count = 0
    presented: Count = 0
    attendance: Count = 0


class QcFiguresIn(Request, kw_only=True):
    """QC 小组活动统计项目 (rates are computed, never typed)."""

    employees: Count
    registered_all_years: Count
    registered_this_year: Count
    participants: Count
    active_groups: Count
    groups_with_results: Count
    benefit_all_years_10k: Decimal
    benefit_this_year_10k: Decimal
    spending_10k: Decimal
    rewards_10k: Decimal
    certified_reviewers: Count = 0


class TeamFiguresIn(Request, kw_only=True):
    teams_this_year: Count
    teams_all_years: Count
    participating_staff: Count
    teams_recommended: Count
    spending_10k: Decimal
    rewards_10k: Decimal


def _figures(qc: QcFiguresIn | None, team: TeamFiguresIn | None) -> Figures | None:
    """The figures of the one programme given (None when neither or both are: the form's rules
    refuse that, naming the field)."""
    if qc is not None and team is None:
        return QcFigures(**msgspec.structs.asdict(qc))
    if team is not None and qc is None:
        return TeamFiguresTable(**msgspec.structs.asdict(team))
    return None


CreditCode = Annotated[str, Meta(max_length=30)]


class ItemisedIn(Request, kw_only=True):
    """One listed enterprise's own figures (企业分项数据)."""

    credit_code: CreditCode
    name: Short = ""
    qc: QcFiguresIn | None = None
    team: TeamFiguresIn | None = None


class StatisticsIn(Request, kw_only=True):
    enterprises: list[CreditCode]
    """The credit codes of the enterprises counted (企业清单)."""
    qc: QcFiguresIn | None = None
    team: TeamFiguresIn | None = None
    review_forms: list[Short] = []
    meeting: MeetingIn = msgspec.field(default_factory=MeetingIn)
    contact: dict[str, Short] = {}
    itemised: list[ItemisedIn] = []
    """Figures of single enterprises of the list, where the unit has them: a roll-up that also
    counts the enterprise under an industry association deducts exactly these."""

    def to_form(self) -> StatisticsForm:
        return StatisticsForm(
            enterprises=[c.strip().upper() for c in self.enterprises],
            figures=_figures(self.qc, self.team),  # type: ignore[arg-type]  # None is refused by the form's rules
            review_forms=list(self.review_forms),
            meeting=Meeting(**msgspec.structs.asdict(self.meeting)),
            contact=dict(self.contact),
            itemised=[
                EnterpriseItem(
                    credit_code=item.credit_code.strip().upper(),
                    name=item.name.strip(),
                    figures=_figures(item.qc, item.team),  # type: ignore[arg-type]  # as above
                )
                for item in self.itemised
            ],
        )


class StatisticsOut(Response, kw_only=True, frozen=True):
    campaign_id: str
    unit: str
    period_start: date
    period_end: date
    enterprises: list[str]
    enterprise_count: int
    figures: dict[str, Any]
    rates: dict[str, Decimal | None]
    """coverage (普及率), result_rate (成果率), activity_rate (活动率), in %, computed."""
    review_forms: list[str]
    meeting: dict[str, Any]
    contact: dict[str, str]
    itemised: list[dict[str, Any]]
    """credit_code, name, figures: single enterprises' own figures."""
    version: int

    @classmethod
    def of(cls, table: StatisticsTable) -> StatisticsOut:
        form = table.form
        return cls(
            campaign_id=str(table.campaign_id),
            unit=table.unit,
            period_start=table.period_start,
            period_end=table.period_end,
            enterprises=list(form.enterprises),
            enterprise_count=len(form.enterprises),
            figures=msgspec.to_builtins(asdict(form.figures)),
            rates=form.figures.rates(),
            review_forms=list(form.review_forms),
            meeting=msgspec.to_builtins(asdict(form.meeting)),
            contact=dict(form.contact),
            itemised=[msgspec.to_builtins(asdict(item)) for item in form.itemised],
            version=table.version,
        )


class SummaryIn(Request, kw_only=True):
    text: Annotated[str, Meta(max_length=100_000)]


class SummaryOut(Response, kw_only=True, frozen=True):
    campaign_id: str
    unit: str
    text: str
    characters: int
    version: int
