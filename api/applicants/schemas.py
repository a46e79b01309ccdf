"""Request and response types of registrations, submissions and attachments."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from aggregates.campaign import Programme
from aggregates.problems import Problem
from aggregates.registration import (
    Intent,
    Nature,
    Promoter,
    Registration,
    RegistrationForm,
    industries_problems,
    key_domain_problems,
)
from aggregates.submission import (
    ATTACHMENT_NAMES_ZH,
    STATUS_NAMES_ZH,
    InvalidSubmission,
    Submission,
)
from aggregates.submission_forms import Form, QcResultForm, TeamFigures, TeamForm, TopicType
from api.forwarding.schemas import NationalOut
from api.platform.schemas import Request, Response
from projections.submission_list import SubmissionRow
from tenants.registry import Tenant

Short = Annotated[str, Meta(max_length=200)]
Text = Annotated[str, Meta(max_length=20000)]
Percent = Decimal  # ranges are the domain's rules (TeamFigures), named per field
Count = Annotated[int, Meta(ge=0, le=1_000_000)]


class PromoterIn(Request, kw_only=True):
    name: Short
    department_and_title: Short = ""
    mobile: Short
    email: Short


class RegistrationIn(Request, kw_only=True):
    """报名表"""

    unit_name: Short
    member_unit: bool
    nature: Nature
    nature_other: Short = ""
    key_industries: list[Short] = []
    industries_other: Short = ""
    key_domain: Short
    address: Short
    postcode: Short
    managing_department: Short
    promoter: PromoterIn
    intents: list[Intent]

    def to_form(self) -> RegistrationForm:
        values = msgspec.structs.asdict(self)
        values["promoter"] = Promoter(**msgspec.structs.asdict(self.promoter))
        values["key_industries"] = list(self.key_industries)
        values["intents"] = list(dict.fromkeys(self.intents))
        return RegistrationForm(**values)


class RegistrationOut(Response, kw_only=True, frozen=True):
    id: str
    campaign_id: str
    credit_code: str
    form: dict[str, Any]
    version: int

    @classmethod
    def of(cls, registration: Registration) -> RegistrationOut:
        return cls(
            id=str(registration.id),
            campaign_id=str(registration.campaign_id),
            credit_code=registration.credit_code,
            form=registration.form.to_state(),
            version=registration.version,
        )


class QcResultIn(Request, kw_only=True):
    """质量管理小组活动申报表（草稿可不完整）"""

    group_name: Short = ""
    group_size: Annotated[int, Meta(ge=0, le=1000)] = 0
    topic_name: Short = ""
    industry: Short = ""
    topic_type: TopicType | None = None
    members: list[Short] = []
    intro: Text = ""
    commitments: Annotated[list[bool], Meta(min_length=4, max_length=4)] = msgspec.field(
        default_factory=lambda: [False] * 4
    )
    """组织承诺: the four commitments, in the form's order; each must be true to submit."""

    def to_form(self) -> QcResultForm:
        return QcResultForm(
            group_name=self.group_name,
            group_size=self.group_size,
            topic_name=self.topic_name,
            industry=self.industry,
            topic_type=self.topic_type,
            members=tuple(self.members),
            intro=self.intro,
            commitments=(
                self.commitments[0],
                self.commitments[1],
                self.commitments[2],
                self.commitments[3],
            ),
        )


class TeamFiguresIn(Request, kw_only=True):
    work_completion_pct: Percent | None = None
    quality_pass_pct: Percent | None = None
    nonconformity_pct: Percent | None = None
    first_pass_yield_pct: Percent | None = None
    accidents: Count | None = None
    complaints: Count | None = None
    training_people: Count | None = None
    training_hours: Count | None = None
    participation_pct: Percent | None = None
    quality_cost_10k: Decimal | None = None
    creation_coverage_pct: Percent | None = None


class TeamIn(Request, kw_only=True):
    """质量信得过班组申报表（草稿可不完整）"""

    team_name: Short = ""
    team_size: Annotated[int, Meta(ge=0, le=500)] = 0
    leader: Short = ""
    figures: TeamFiguresIn = msgspec.field(default_factory=TeamFiguresIn)
    sections: Annotated[list[Text], Meta(min_length=6, max_length=6)] = msgspec.field(
        default_factory=lambda: [""] * 6
    )
    """The six narrative sections, in the form's order."""
    no_accident_three_years: bool = False
    basic_formal_unit: bool = False

    def to_form(self) -> TeamForm:
        s = self.sections
        return TeamForm(
            team_name=self.team_name,
            team_size=self.team_size,
            leader=self.leader,
            figures=TeamFigures(**msgspec.structs.asdict(self.figures)),
            sections=(s[0], s[1], s[2], s[3], s[4], s[5]),
            no_accident_three_years=self.no_accident_three_years,
            basic_formal_unit=self.basic_formal_unit,
        )


class ApplicantIn(Request, kw_only=True):
    unit_name: Short
    """单位名称（与公章一致）"""
    key_domain: Short | None = None
    key_industries: list[Short] = []

    def checked(self, tenant: Tenant) -> dict[str, Any]:
        industries = {name for group in tenant.key_industries for name in group.names}
        problems = []
        if not self.unit_name.strip():
            problems.append(Problem("applicant.unit_name", "required", "不能为空"))
        if self.key_domain is not None:
            problems += key_domain_problems(
                self.key_domain, tenant.key_domains, "applicant.key_domain"
            )
        problems += industries_problems(self.key_industries, industries, "applicant.key_industries")
        if problems:
            raise InvalidSubmission(*problems)
        return {
            "unit_name": self.unit_name.strip(),
            "key_domain": self.key_domain,
            "key_industries": list(self.key_industries),
        }


class SubmissionIn(Request, kw_only=True):
    """A draft or its edit: the form of the campaign's programme (qc_result or team)."""

    recommending_unit: Short
    """The code of one of the tenant's recommending units, or "direct" (直接受理通道)."""
    qc_result: QcResultIn | None = None
    team: TeamIn | None = None

    def form(self, programme: Programme) -> Form:
        if programme is Programme.TEAM and self.team is not None and self.qc_result is None:
            return self.team.to_form()
        if programme is Programme.QC_GROUP and self.qc_result is not None and self.team is None:
            return self.qc_result.to_form()
        field = "team" if programme is Programme.TEAM else "qc_result"
        raise InvalidSubmission(Problem(field, "required", "请按本活动的类别填写申报表"))


class DraftIn(SubmissionIn, kw_only=True):
    applicant: ApplicantIn


class CorrectionsIn(Request, kw_only=True):
    items: Annotated[list[Annotated[str, Meta(max_length=500)]], Meta(max_length=50)]


class EndorsementIn(Request, kw_only=True):
    """单位通道：自我评价、推荐意见、评分"""

    self_evaluation: Annotated[str, Meta(max_length=2000)]
    opinion: Annotated[str, Meta(max_length=2000)]
    score: Decimal
    """On the campaign's scale (0 to its maximum score)."""


class AttachmentOut(Response, kw_only=True, frozen=True):
    kind: str
    kind_name_zh: str
    name: str
    content_type: str
    size: int
    sha256: str


class SubmissionOut(Response, kw_only=True, frozen=True):
    id: str
    campaign_id: str
    programme: Programme
    serial: str | None
    status: str
    status_name_zh: str
    credit_code: str
    applicant: dict[str, Any]
    recommending_unit: str
    direct_channel_confirmed: bool
    form: dict[str, Any]
    attachments: list[AttachmentOut]
    corrections: list[str]
    endorsement: dict[str, Any] | None
    version: int
    recommendation: str | None = None
    """What its recommending unit decided: pending, recommended, not_recommended or invalid."""
    recommendation_reason: str | None = None
    formal_review: str | None = None
    """形式审查: passed or rejected once reviewed."""
    withdrawn_reason: str | None = None
    origin: dict[str, Any] | None = None
    """A national submission forwarded by a member association: what travelled with it (its
    association, campaign and serial there, grade, scores, evaluation, reviewer roster)."""
    national: NationalOut | None = None
    """A provincial submission forwarded to national: where it stands there."""

    @classmethod
    def of(
        cls, submission: Submission, decision: tuple[str, str | None] | None = None
    ) -> SubmissionOut:
        return cls(
            id=str(submission.id),
            campaign_id=str(submission.campaign_id),
            programme=submission.programme,
            serial=submission.serial,
            status=submission.status.value,
            status_name_zh=STATUS_NAMES_ZH[submission.status],
            credit_code=submission.credit_code,
            applicant=dict(submission.applicant),
            recommending_unit=submission.recommending_unit,
            direct_channel_confirmed=submission.direct_channel_confirmed,
            form=msgspec.to_builtins(submission.form_state),
            attachments=[
                AttachmentOut(
                    kind=a.kind.value,
                    kind_name_zh=ATTACHMENT_NAMES_ZH[a.kind],
                    name=a.name,
                    content_type=a.content_type,
                    size=a.size,
                    sha256=a.sha256,
                )
                for a in submission.attachments
            ],
            corrections=list(submission.corrections),
            endorsement=msgspec.to_builtins(submission.endorsement)
            if submission.endorsement
            else None,
            version=submission.version,
            recommendation=decision[0] if decision else None,
            recommendation_reason=decision[1] if decision else None,
            formal_review=getattr(submission, "formal_review", None),
            withdrawn_reason=getattr(submission, "withdrawn_reason", None),
            origin=_origin(submission.received_from),
            national=NationalOut.of(n) if (n := submission.national_record) else None,
        )


def _origin(dossier: dict[str, Any] | None) -> dict[str, Any] | None:
    """The forwarded dossier as the national side reads it (the filed form and attachments are
    the submission's own fields already)."""
    if dossier is None:
        return None
    shown = {k: v for k, v in dossier.items() if k != "submission"}
    filed = dossier["submission"]
    shown["serial"] = filed["serial"]
    shown["recommending_unit"] = filed["recommending_unit"]
    return dict(msgspec.to_builtins(shown))


class SubmissionPage(Response, kw_only=True, frozen=True):
    items: list[SubmissionRow]
    next_after: int | None
    """Pass as `after` for the next page; absent on the last page."""
