"""Request and response types of campaigns (活动): opening, phases, rules, and the campaign as read."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from aggregates.campaign import (
    PHASE_NAMES_ZH,
    PROGRAMME_NAMES_ZH,
    Campaign,
    CampaignRules,
    Contact,
    InvalidCampaign,
    Phase,
    Programme,
    Window,
)
from aggregates.problems import Problem
from api.platform.schemas import PositiveInt, Reason, Request, Response, Text200, in_zone
from projections.campaign_list import CampaignSummary
from tenants.registry import Tenant


class WindowIn(Request, kw_only=True):
    opens_at: datetime | None = None
    """When the phase opens; omitted means open from the start of the campaign."""
    closes_at: datetime
    """The first moment it is closed: a window closing at 22:00 refuses 22:00:00."""

    def to_window(self, zone: tzinfo) -> Window:
        opens_at = in_zone(self.opens_at, zone) if self.opens_at else None
        return Window(opens_at=opens_at, closes_at=in_zone(self.closes_at, zone))


class ContactIn(Request, kw_only=True):
    person: Text200
    phone: Text200
    department: Text200 = ""
    email: Text200 = ""
    address: Text200 = ""
    postcode: Annotated[str, Meta(max_length=6)] = ""

    def to_contact(self) -> Contact:
        return Contact(**msgspec.structs.asdict(self))


class RulesIn(Request, kw_only=True, omit_defaults=True):
    """Rules to set; an omitted rule keeps its default (or, when amending, its current value)."""

    results_per_applicant_min: PositiveInt | UnsetType = UNSET
    results_per_applicant_max: PositiveInt | UnsetType | None = UNSET
    results_per_applicant_min_blocking: bool | UnsetType = UNSET
    distinct_topic_types: bool | UnsetType = UNSET
    recommendations_per_applicant_max: PositiveInt | UnsetType | None = UNSET
    recommending_unit_quota: PositiveInt | UnsetType | None = UNSET
    members_max: PositiveInt | UnsetType = UNSET
    intro_min_chars: PositiveInt | UnsetType = UNSET
    intro_max_chars: PositiveInt | UnsetType = UNSET
    team_report_max_chars: PositiveInt | UnsetType = UNSET
    evaluation_max_chars: PositiveInt | UnsetType = UNSET
    work_summary_min_chars: PositiveInt | UnsetType = UNSET
    accident_free_years: PositiveInt | UnsetType = UNSET
    score_max: PositiveInt | UnsetType = UNSET
    score_aggregation: Literal["mean", "trimmed_mean"] | UnsetType = UNSET
    max_mb_application_form: PositiveInt | UnsetType = UNSET
    max_mb_report: PositiveInt | UnsetType = UNSET
    max_mb_slides: PositiveInt | UnsetType = UNSET
    max_mb_video: PositiveInt | UnsetType = UNSET
    max_mb_evidence: PositiveInt | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not UNSET}


class OpenCampaignRequest(Request, kw_only=True):
    programme: Programme
    year: Annotated[int, Meta(ge=2000, le=2100)]
    title: Text200
    document_number: Annotated[str, Meta(max_length=50)] | None = None
    """文号, e.g. 沪质协〔2024〕7号"""
    theme: Text200 | None = None
    co_organisers: list[Text200] = []
    contact: ContactIn
    period_start: date
    """First day of the statistics period (统计期)."""
    period_end: date
    rules: RulesIn | None = None
    timeline: dict[Phase, WindowIn]
    rehearsal: bool = False
    """A rehearsal (演练) beside the year's real campaign: its own id and serials (SAQ-2026-QC-
    演练-0001), never forwarded, never counted in statistics, its certificates samples that do
    not verify; deletable with everything filed in it."""

    def command(self, tenant: Tenant) -> dict[str, Any]:
        if not tenant.offers(self.programme):
            raise InvalidCampaign(
                Problem("programme", "not_offered", f"{tenant.name_zh}未开设该项活动")
            )
        zone = tenant.zone
        rules = CampaignRules.defaults_for(self.programme)
        if self.rules is not None:
            rules = rules.amended(self.rules.changes())
        return {
            "programme": self.programme,
            "year": self.year,
            "title": self.title,
            "document_number": self.document_number or None,
            "theme": self.theme or None,
            "co_organisers": list(self.co_organisers),
            "contact": self.contact.to_contact(),
            "period_start": self.period_start,
            "period_end": self.period_end,
            "rules": rules,
            "timeline": {phase: w.to_window(zone) for phase, w in self.timeline.items()},
            "rehearsal": self.rehearsal,
        }


class ExtendDeadlineRequest(Request, kw_only=True):
    until: datetime
    reason: Reason


class PhaseNowRequest(Request, kw_only=True):
    """Close a phase now, or open it now (`closes_at`: until when; omitted keeps its close)."""

    reason: Reason
    closes_at: datetime | None = None


class ReopenPhaseRequest(Request, kw_only=True):
    until: datetime
    reason: Reason


class AmendRulesRequest(Request, kw_only=True):
    rules: RulesIn
    reason: Reason


class ArchiveCampaignRequest(Request, kw_only=True):
    reason: Reason


class DeleteRehearsalRequest(Request, kw_only=True):
    reason: Reason


class WindowOut(Response, kw_only=True, frozen=True):
    phase: Phase
    name_zh: str
    opens_at: datetime | None
    closes_at: datetime


class StatisticsPeriod(Response, kw_only=True, frozen=True):
    start: date
    end: date


class CampaignOut(Response, kw_only=True, frozen=True):
    id: str
    tenant: str
    programme: Programme
    programme_name_zh: str
    year: int
    title: str
    document_number: str | None
    theme: str | None
    co_organisers: list[str]
    contact: dict[str, str]
    statistics_period: StatisticsPeriod
    rules: dict[str, Any]
    timeline: list[WindowOut]
    status: Literal["open", "published", "archived", "deleted"]
    published_at: datetime | None
    version: int
    rehearsal: bool = False
    """A rehearsal (演练): never forwarded or counted; its certificates are samples."""

    @classmethod
    def of(cls, campaign: Campaign, zone: tzinfo) -> CampaignOut:
        return cls(
            id=str(campaign.id),
            tenant=campaign.tenant,
            programme=campaign.programme,
            programme_name_zh=PROGRAMME_NAMES_ZH[campaign.programme],
            year=campaign.year,
            title=campaign.title,
            document_number=campaign.document_number,
            theme=campaign.theme,
            co_organisers=list(campaign.co_organisers),
            contact=dict(campaign.contact),
            statistics_period=StatisticsPeriod(
                start=campaign.period_start, end=campaign.period_end
            ),
            rules=campaign.rules.to_state(),
            timeline=windows_out(campaign.timeline, zone),
            status=campaign.status,  # type: ignore[arg-type]
            published_at=in_zone(campaign.published_at, zone) if campaign.published_at else None,
            version=campaign.version,
            rehearsal=campaign.is_rehearsal,
        )


def windows_out(timeline: dict[Phase, Window], zone: tzinfo) -> list[WindowOut]:
    return [
        WindowOut(
            phase=phase,
            name_zh=PHASE_NAMES_ZH[phase],
            opens_at=in_zone(window.opens_at, zone) if window.opens_at else None,
            closes_at=in_zone(window.closes_at, zone),
        )
        for phase, window in timeline.items()
    ]


class OpenPhasesOut(Response, kw_only=True, frozen=True):
    at: datetime
    open_phases: list[WindowOut]


class CampaignListItem(Response, kw_only=True, frozen=True):
    id: str
    programme: Programme
    programme_name_zh: str
    year: int
    title: str
    document_number: str | None
    status: str
    version: int
    timeline: list[WindowOut]
    published_at: datetime | None
    rehearsal: bool = False

    @classmethod
    def of_kept(cls, row: CampaignSummary, zone: tzinfo) -> CampaignListItem:
        """`of` a row of a kept list (`projections.campaign_list.kept_campaigns`), made once: a
        kept row is the same object from one request to the next until its list is read again,
        and both it and its item are frozen (13 µs a campaign; a tenant lists two a year)."""
        key = (id(row), zone)
        made = _MADE.get(key)
        if made is not None and made[0] is row:  # not another row at a reused address
            return made[1]
        item = cls.of(row, zone)
        if len(_MADE) >= MADE_ITEMS:
            _MADE.clear()
        _MADE[key] = (row, item)
        return item

    @classmethod
    def of(cls, row: CampaignSummary, zone: tzinfo) -> CampaignListItem:
        programme = Programme(row.programme)
        timeline = {
            Phase(name): Window(opens_at=w["opens_at"], closes_at=_required(w["closes_at"]))
            for name, w in row.timeline.items()
        }
        return cls(
            id=row.campaign_id,
            programme=programme,
            programme_name_zh=PROGRAMME_NAMES_ZH[programme],
            year=row.year,
            title=row.title,
            document_number=row.document_number,
            status=row.status,
            version=row.version,
            timeline=windows_out(timeline, zone),
            published_at=in_zone(row.published_at, zone) if row.published_at else None,
            rehearsal=row.rehearsal,
        )


MADE_ITEMS = 4096
"""Items of kept rows remembered (`CampaignListItem.of_kept`), each holding its row: bounded."""
_MADE: dict[tuple[int, tzinfo], tuple[CampaignSummary, CampaignListItem]] = {}


def _required(moment: datetime | None) -> datetime:
    if moment is None:
        raise ValueError("a window always has a closing time")
    return moment
