"""Request and response types of review: the plan, formal review, the reviewer pool, rounds and
sheets, results, objections and certificates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from aggregates.expert import Certificate, Expert, ExpertProfile
from aggregates.grading import PUBLIC_CONTACT_MAX_CHARS, PUBLIC_NAME_MAX_CHARS, Grading
from aggregates.limits import COMMENT_MAX_CHARS, OBJECTION_MAX_CHARS
from aggregates.review_plan import DEFAULT_CHECKLIST, GradeBand, ReviewPlan, RoundPlan
from aggregates.review_round import ReviewRound
from aggregates.scoring import DEFAULT_RUBRICS
from api.platform.schemas import Request, Response

Short = Annotated[str, Meta(max_length=200)]
Reason = Annotated[str, Meta(max_length=2000)]
Score = Decimal
"""Ranges are the domain's to check (msgspec bounds only numbers it parses as numbers)."""


# The plan.


class RoundIn(Request, kw_only=True):
    code: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
    name_zh: Short
    kind: Literal["material", "presentation"] = "material"
    reviewers_per_submission: Annotated[int, Meta(ge=1, le=15)] = 3
    aggregation: Literal["mean", "trimmed_mean", "zscore"] = "trimmed_mean"


class BandIn(Request, kw_only=True):
    grade: Short
    """A grade code of the tenant's scale, best first (e.g. benchmark, excellent, promotion)."""
    min_score: Score | None = None
    quota: Annotated[int, Meta(ge=1)] | None = None
    requires_presentation: bool = False
    requires_video: bool = False


class ReviewPlanIn(Request, kw_only=True):
    checklist: list[Short] = msgspec.field(default_factory=lambda: list(DEFAULT_CHECKLIST))
    rounds: list[RoundIn] = msgspec.field(
        default_factory=lambda: [RoundIn(code="initial", name_zh="初评")]
    )
    presentation_weight: Decimal = Decimal("0.4")
    grading: Literal["score", "rank"] = "score"
    bands: list[BandIn]
    domain_quotas: dict[str, dict[str, Annotated[int, Meta(ge=0)]]] = {}
    rubrics: dict[str, dict[str, Annotated[int, Meta(ge=1, le=1000)]]] = msgspec.field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_RUBRICS.items()}
    )

    def to_plan(self) -> ReviewPlan:
        return ReviewPlan(
            checklist=tuple(item.strip() for item in self.checklist),
            rounds=tuple(RoundPlan(**msgspec.structs.asdict(r)) for r in self.rounds),
            presentation_weight=self.presentation_weight,
            grading=self.grading,
            bands=tuple(GradeBand(**msgspec.structs.asdict(b)) for b in self.bands),
            domain_quotas={d: dict(q) for d, q in self.domain_quotas.items()},
            rubrics={t: dict(c) for t, c in self.rubrics.items()},
        )


class ReviewPlanOut(Response, kw_only=True, frozen=True):
    campaign_id: UUID
    plan: dict[str, Any]


# Formal review.


class FormalReviewIn(Request, kw_only=True):
    decision: Literal["pass", "return", "reject"]
    checklist: dict[str, bool]
    """Each item of the campaign's checklist: met or not."""
    reason: Reason = ""
    """Why it is rejected (reject)."""
    items: list[Short] = []
    """What to correct (return)."""


class FormalReviewBulkIn(Request, kw_only=True):
    submissions: Annotated[list[UUID], Meta(min_length=1, max_length=500)]
    """The results that meet every item of the campaign's checklist: each passes."""


# The reviewer pool.


class CertificateIn(Request, kw_only=True):
    kind: Short
    number: Annotated[str, Meta(min_length=1, max_length=50)]
    issuing_body: Short
    level: Short
    valid_until: date


class ExpertIn(Request, kw_only=True):
    name: Short
    work_unit: Short
    work_unit_credit_code: str | None = None
    mobile: Short
    certificate: CertificateIn

    def to_profile(self) -> ExpertProfile:
        c = self.certificate
        return ExpertProfile(
            name=self.name,
            work_unit=self.work_unit,
            work_unit_credit_code=self.work_unit_credit_code,
            mobile=self.mobile,
            certificate=Certificate(c.kind, c.number, c.issuing_body, c.level, c.valid_until),
        )


class ConflictIn(Request, kw_only=True):
    kind: Literal["applicant", "recommending_unit", "submission"]
    value: Short
    """The applicant's credit code, the recommending unit's code, or the submission's id."""
    reason: Reason


class ExpertOut(Response, kw_only=True, frozen=True):
    certificate_number: str
    name: str
    work_unit: str
    work_unit_credit_code: str | None
    mobile: str
    certificate: dict[str, Any]
    conflicts: list[dict[str, str]]
    retired_reason: str | None
    version: int

    @classmethod
    def of(cls, expert: Expert) -> ExpertOut:
        p = expert.profile
        return cls(
            certificate_number=expert.certificate_number,
            name=p["name"],
            work_unit=p["work_unit"],
            work_unit_credit_code=p["work_unit_credit_code"],
            mobile=p["mobile"],
            certificate=dict(p["certificate"]),
            conflicts=[dict(c) for c in expert.conflicts],
            retired_reason=expert.retired_reason,
            version=expert.version,
        )


# Rounds and sheets.


class OpenRoundIn(Request, kw_only=True):
    submissions: list[UUID] | None = None
    """The entrants by name; else the top N of the rounds before; else every submission that
    passed formal review."""
    top: Annotated[int, Meta(ge=1)] | None = None


class AssignIn(Request, kw_only=True):
    submission_id: UUID
    certificate_number: Short


class AutoAssignIn(Request, kw_only=True):
    certificate_numbers: list[Short] | None = None
    """The round's panel; by default every active reviewer of the pool."""


class ReleaseIn(Request, kw_only=True):
    submission_id: UUID
    certificate_number: Short
    reason: Reason


class SheetIn(Request, kw_only=True):
    submission_id: UUID
    criteria: dict[str, Score]
    comment: Annotated[str, Meta(max_length=COMMENT_MAX_CHARS)] = ""
    corrects: UUID | None = None
    """The sheet this one corrects (the reviewer's latest for the submission)."""
    reason: Reason = ""
    """Why the correction was made."""
    reviewer: Short | None = None
    """The reviewer's certificate number, when the secretariat enters a paper sheet."""


class RoundOut(Response, kw_only=True, frozen=True):
    round_id: UUID
    campaign_id: UUID
    code: str
    name_zh: str
    kind: str
    aggregation: str
    reviewers_per_submission: int
    entrants: list[dict[str, Any]]
    assignments: dict[str, list[str]]
    exclusions: dict[str, dict[str, str]]
    sheets: list[dict[str, Any]]
    """Every sheet filed, corrected ones included; `current` marks those that count."""
    results: dict[str, dict[str, Any]]
    stale: bool
    closed: bool
    version: int

    @classmethod
    def of(cls, r: ReviewRound) -> RoundOut:
        counting = set(r.current.values())
        return cls(
            round_id=r.id,
            campaign_id=r.campaign_id,
            code=r.code,
            name_zh=r.name_zh,
            kind=r.kind,
            aggregation=r.aggregation,
            reviewers_per_submission=r.reviewers_per_submission,
            entrants=list(r.entrants.values()),
            assignments={k: list(v) for k, v in r.assignments.items()},
            exclusions={k: dict(v) for k, v in r.exclusions.items()},
            sheets=[{**s, "current": key in counting} for key, s in r.sheets.items()],
            results={k: dict(v) for k, v in r.results.items()},
            stale=r.stale,
            closed=r.closed,
            version=r.version,
        )


class SheetOut(Response, kw_only=True, frozen=True):
    sheet_id: UUID
    round: RoundOut


class MatrixCell(Response, kw_only=True, frozen=True):
    reviewer: str
    reviewer_name: str
    total: Decimal | None
    sheet_id: str | None
    corrections: int
    entered_by: str | None = None
    """"secretariat" when the counted sheet is a paper sheet the secretariat entered."""


class MatrixRow(Response, kw_only=True, frozen=True):
    submission_id: str
    serial: str
    title: str
    score: Decimal | None
    cells: list[MatrixCell]


class MatrixOut(Response, kw_only=True, frozen=True):
    round_id: UUID
    reviewers: list[str]
    rows: list[MatrixRow]


class SheetImportOut(Response, kw_only=True, frozen=True):
    filed: int
    """Paper sheets entered, each marked as entered by the secretariat for its judge."""
    blank: int
    """Rows of the form left without any score (not entered)."""
    round: RoundOut


# Results, notice, objections.


class OverrideIn(Request, kw_only=True):
    grade: Short | None
    """The grade code, or null for no grade."""
    reason: Reason


class ObjectionIn(Request, kw_only=True):
    submission_id: UUID
    reasons: Annotated[str, Meta(max_length=OBJECTION_MAX_CHARS)]


class PublicObjectionIn(Request, kw_only=True):
    """An objection by anyone, without an account: the code is mailed to `email`."""

    submission_id: UUID
    reasons: Annotated[str, Meta(max_length=OBJECTION_MAX_CHARS)]
    name: Annotated[str, Meta(max_length=PUBLIC_NAME_MAX_CHARS)]
    email: Annotated[str, Meta(max_length=PUBLIC_CONTACT_MAX_CHARS)]
    phone: Annotated[str, Meta(max_length=PUBLIC_CONTACT_MAX_CHARS)] = ""


class PublicObjectionPendingOut(Response, kw_only=True, frozen=True):
    """The objection waiting for its code: send `pending` back with the code to confirm it."""

    pending: str
    code_expires_at: datetime
    message: str


class PublicObjectionConfirmIn(Request, kw_only=True):
    pending: Annotated[str, Meta(max_length=8000)]
    code: Annotated[str, Meta(max_length=100)]


class ResolutionIn(Request, kw_only=True):
    decision: Literal["upheld", "dismissed"]
    reason: Reason
    change_grade: bool = False
    grade: Short | None = None


class GradingOut(Response, kw_only=True, frozen=True):
    campaign_id: UUID
    status: str
    notice_closes_at: datetime | None
    entries: list[dict[str, Any]]
    overrides: dict[str, str]
    objections: list[dict[str, Any]]
    certificates: dict[str, str]
    version: int

    @classmethod
    def of(cls, g: Grading, *, objections: bool = True) -> GradingOut:
        return cls(
            campaign_id=g.campaign_id,
            status=g.status,
            notice_closes_at=g.notice_closes_at,
            entries=sorted(g.entries.values(), key=lambda e: e["rank"]),
            overrides=dict(g.overrides),
            objections=list(g.objections.values()) if objections else [],
            certificates=dict(g.certificates),
            version=g.version,
        )


class ObjectionOut(Response, kw_only=True, frozen=True):
    objection_id: UUID
    status: str


class CertificateOut(Response, kw_only=True, frozen=True):
    code: str
    valid: bool
    association: str | None = None
    unit_name: str | None = None
    group_name: str | None = None
    topic: str | None = None
    grade: str | None = None
    campaign: str | None = None
    issued_on: date | None = None
    sample: bool = False
    """A sample certificate of a rehearsal (演练样本): never valid, nothing of it disclosed."""
