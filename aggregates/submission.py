"""A submission (成果申报 / 班组申报): one QC result or one team, filed by an applicant unit under a
recommending unit, from draft to submitted, withdrawn, returned for correction and resubmitted,
with its attachments and its unit's endorsement (单位通道)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, CampaignRules, Phase, Programme
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem
from aggregates.submission_forms import Form, QcResultForm, TeamForm, form_from_state, form_to_state

SUBMISSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/submission")
DIRECT_CHANNEL = "direct"
FORMAL_REVIEW_DECISIONS = ("pass", "return", "reject")


class SubmissionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    """Returned for correction; edited and resubmitted by the applicant."""
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    """Rejected at formal review (形式审查不通过)."""


STATUS_NAMES_ZH = {
    SubmissionStatus.DRAFT: "草稿",
    SubmissionStatus.SUBMITTED: "已申报",
    SubmissionStatus.RETURNED: "退回修改",
    SubmissionStatus.WITHDRAWN: "已撤回",
    SubmissionStatus.REJECTED: "形式审查未通过",
}


class AttachmentKind(StrEnum):
    APPLICATION_FORM = "application_form"
    """申报表（盖章）PDF"""
    REPORT = "report"
    """成果报告 / 班组创建材料 PDF"""
    SLIDES = "slides"
    VIDEO = "video"
    EVIDENCE = "evidence"


ATTACHMENT_NAMES_ZH = {
    AttachmentKind.APPLICATION_FORM: "盖章申报表",
    AttachmentKind.REPORT: "成果报告",
    AttachmentKind.SLIDES: "发表 PPT",
    AttachmentKind.VIDEO: "发表视频",
    AttachmentKind.EVIDENCE: "证实性材料",
}

REQUIRED_ATTACHMENTS = {
    Programme.QC_GROUP: (
        AttachmentKind.APPLICATION_FORM,
        AttachmentKind.REPORT,
        AttachmentKind.EVIDENCE,
    ),
    Programme.TEAM: (AttachmentKind.APPLICATION_FORM, AttachmentKind.REPORT),
}


class SubmissionError(DomainError):
    pass


class InvalidSubmission(SubmissionError, InvalidInput):
    pass


class SubmissionConflict(SubmissionError, Conflict):
    pass


class SubmissionNotFound(SubmissionError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("submission_id", "not_found", "未找到该申报"))


@dataclass(frozen=True)
class Attachment:
    kind: AttachmentKind
    name: str
    content_type: str
    size: int
    sha256: str


class Submission(Aggregate):
    """One QC result or one team of an applicant unit in a campaign."""

    class Drafted(Aggregate.Created):
        tenant: str
        campaign_id: UUID
        programme: Programme
        credit_code: str
        applicant: dict[str, Any]
        """unit_name, key_domain, key_industries: who files, as the read models filter them."""
        recommending_unit: str
        form: dict[str, Any]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.tenant = self.tenant
            aggregate.campaign_id = self.campaign_id
            aggregate.programme = self.programme
            aggregate.credit_code = self.credit_code
            aggregate.drafted_by = self.actor_id
            aggregate.applicant = dict(self.applicant)
            aggregate.recommending_unit = self.recommending_unit
            aggregate.form_state = dict(self.form)
            aggregate.status = SubmissionStatus.DRAFT
            aggregate.serial = None
            aggregate.attachments_state = []
            aggregate.corrections = []
            aggregate.endorsement = None
            aggregate.direct_channel_confirmed = False
            aggregate.formal_review = None
            aggregate.origin = None
            aggregate.national = None
            aggregate.withdrawn_reason = None

    class Received(Aggregate.Created):
        """A result forwarded by a member association, received in the national tenant: as filed
        there, submitted and recommended by that association (its recommending unit here)."""

        tenant: str
        campaign_id: UUID
        programme: Programme
        credit_code: str
        applicant: dict[str, Any]
        recommending_unit: str
        form: dict[str, Any]
        attachments: list[dict[str, Any]]
        serial: str
        origin: dict[str, Any]
        """Where it came from: tenant, campaign, submission, serial, grade, scores, evaluation,
        reviewer roster (the forwarded dossier, read-only here)."""
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.tenant = self.tenant
            aggregate.campaign_id = self.campaign_id
            aggregate.programme = self.programme
            aggregate.credit_code = self.credit_code
            aggregate.drafted_by = self.actor_id
            aggregate.applicant = dict(self.applicant)
            aggregate.recommending_unit = self.recommending_unit
            aggregate.form_state = dict(self.form)
            aggregate.status = SubmissionStatus.SUBMITTED
            aggregate.serial = self.serial
            aggregate.attachments_state = [dict(a) for a in self.attachments]
            aggregate.corrections = []
            aggregate.endorsement = None
            aggregate.direct_channel_confirmed = False
            aggregate.formal_review = None
            aggregate.origin = dict(self.origin)
            aggregate.national = None
            aggregate.withdrawn_reason = None

    class Event(Aggregate.Event):
        """The base of every event of a Submission after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Edited(Event):
        recommending_unit: str
        form: dict[str, Any]

        def apply(self, aggregate: Submission) -> None:
            aggregate.recommending_unit = self.recommending_unit
            aggregate.form_state = dict(self.form)

    class AttachmentAdded(Event):
        kind: AttachmentKind
        name: str
        content_type: str
        size: int
        sha256: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.attachments_state.append(
                {
                    "kind": self.kind.value,
                    "name": self.name,
                    "content_type": self.content_type,
                    "size": self.size,
                    "sha256": self.sha256,
                }
            )

    class AttachmentRemoved(Event):
        sha256: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.attachments_state = [
                a for a in aggregate.attachments_state if a["sha256"] != self.sha256
            ]

    class Submitted(Event):
        serial: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.serial = self.serial
            aggregate.status = SubmissionStatus.SUBMITTED

    class Withdrawn(Event):
        reason: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.status = SubmissionStatus.WITHDRAWN
            aggregate.withdrawn_reason = self.reason

    class ReturnedForCorrection(Event):
        items: list[str]

        def apply(self, aggregate: Submission) -> None:
            aggregate.status = SubmissionStatus.RETURNED
            aggregate.corrections = list(self.items)

    class Resubmitted(Event):
        def apply(self, aggregate: Submission) -> None:
            aggregate.status = SubmissionStatus.SUBMITTED
            aggregate.corrections = []

    class Endorsed(Event):
        self_evaluation: str
        opinion: str
        score: Decimal

        def apply(self, aggregate: Submission) -> None:
            aggregate.endorsement = {
                "self_evaluation": self.self_evaluation,
                "opinion": self.opinion,
                "score": self.score,
            }

    class DirectChannelConfirmed(Event):
        def apply(self, aggregate: Submission) -> None:
            aggregate.direct_channel_confirmed = True

    class EnterpriseNamed(Event):
        """The applicant unit's name as verified for its credit code (以公章为准, the name the
        certificate prints), recorded when it differs from the one the result carried (ADR
        0037): at submission, and after the enterprise's change of name."""

        unit_name: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.applicant = {**aggregate.applicant, "unit_name": self.unit_name}

    class FormalReviewPassed(Event):
        checklist: dict[str, bool]

        def apply(self, aggregate: Submission) -> None:
            aggregate.formal_review = "passed"

    class Rejected(Event):
        checklist: dict[str, bool]
        reason: str

        def apply(self, aggregate: Submission) -> None:
            aggregate.formal_review = "rejected"
            aggregate.status = SubmissionStatus.REJECTED

    # Forwarding to national: on the national copy, the origin's withdrawal that came too late
    # and the outcomes sent back; on the provincial record, the forward and the outcomes.

    class WithdrawalDeclined(Event):
        reason: str

        def apply(self, aggregate: Submission) -> None:
            pass

    class OutcomeSent(Event):
        origin_tenant: str
        origin_submission_id: UUID
        outcome: dict[str, Any]
        """stage (formal_review, withdrawal, publication), result, grade, certificate, reason."""

        def apply(self, aggregate: Submission) -> None:
            pass

    class ForwardedToNational(Event):
        national_tenant: str
        national_campaign_id: UUID
        national_submission_id: UUID

        def apply(self, aggregate: Submission) -> None:
            aggregate.national = {
                "status": "forwarded",
                "national_tenant": self.national_tenant,
                "national_campaign_id": self.national_campaign_id,
                "national_submission_id": self.national_submission_id,
                "forwarded_at": self.timestamp,
                "formal_review": None,
                "grade": None,
                "grade_name": None,
                "certificate_code": None,
                "reason": None,
                "history": [],
            }

    class NationalForwardWithdrawn(Event):
        reason: str

        def apply(self, aggregate: Submission) -> None:
            national = _national(aggregate)
            national["status"] = "withdrawn"
            national["reason"] = self.reason

    class NationalOutcomeRecorded(Event):
        outcome: dict[str, Any]

        def apply(self, aggregate: Submission) -> None:
            national = _national(aggregate)
            outcome = self.outcome
            national["history"].append(dict(outcome))
            stage, result = outcome["stage"], outcome["result"]
            status = national_status(outcome)
            if status is not None:
                national["status"] = status
            if stage == "formal_review":
                national["formal_review"] = result
                national["reason"] = outcome.get("reason")
            elif stage == "withdrawal":  # asked; a confirmed withdrawal keeps the province's reason
                national["reason"] = outcome.get("reason")
            elif stage == "publication":
                national["grade"] = outcome.get("grade")
                national["grade_name"] = outcome.get("grade_name")
                national["certificate_code"] = outcome.get("certificate_code")

    if TYPE_CHECKING:
        tenant: str
        campaign_id: UUID
        programme: Programme
        credit_code: str
        applicant: dict[str, Any]
        recommending_unit: str
        form_state: dict[str, Any]
        status: SubmissionStatus
        serial: str | None
        attachments_state: list[dict[str, Any]]
        corrections: list[str]
        endorsement: dict[str, Any] | None
        direct_channel_confirmed: bool
        formal_review: str | None
        """None until formal review; then passed or rejected."""
        origin: dict[str, Any] | None
        """On a national submission received from a member association: the forwarded dossier."""
        national: dict[str, Any] | None
        """On a provincial submission forwarded to national: where it stands there."""
        withdrawn_reason: str | None
        drafted_by: str
        """The account whose first event began it (see `created_by`)."""

    @staticmethod
    def create_id(campaign_id: UUID, key: str) -> UUID:
        return uuid5(SUBMISSION_NAMESPACE, f"{campaign_id}/{key}")

    @classmethod
    def draft(
        cls,
        *,
        submission_id: UUID,
        campaign: Campaign,
        credit_code: str,
        applicant: dict[str, Any],
        recommending_unit: str,
        form: Form,
        actor: Actor,
    ) -> Submission:
        campaign.check_active()
        _check_form(campaign.programme, form, campaign.rules)
        return cls._create(
            cls.Drafted,
            id=submission_id,
            tenant=campaign.tenant,
            campaign_id=campaign.id,
            programme=campaign.programme,
            credit_code=credit_code,
            applicant=applicant,
            recommending_unit=recommending_unit,
            form=form_to_state(form),
            **actor.fields(),
        )

    @classmethod
    def receive(
        cls,
        *,
        submission_id: UUID,
        campaign: Campaign,
        recommending_unit: str,
        serial: str,
        dossier: dict[str, Any],
        origin: dict[str, Any],
        actor: Actor,
    ) -> Submission:
        """The national copy of a forwarded result (no rule of this campaign is checked: the
        forward is a fact; the national review decides on it)."""
        filed = dossier["submission"]
        return cls._create(
            cls.Received,
            id=submission_id,
            tenant=campaign.tenant,
            campaign_id=campaign.id,
            programme=campaign.programme,
            credit_code=filed["credit_code"],
            applicant=filed["applicant"],
            recommending_unit=recommending_unit,
            form=filed["form"],
            attachments=filed["attachments"],
            serial=serial,
            origin=origin,
            **actor.fields(),
        )

    @property
    def created_by(self) -> str | None:
        """The account whose first event began it (`actor_id` of Drafted or Received); None on a
        snapshot taken before this was kept."""
        return getattr(self, "drafted_by", None)

    @property
    def received_from(self) -> dict[str, Any] | None:
        """The forwarded dossier of a national submission; None for one filed here."""
        return getattr(self, "origin", None)  # absent from older snapshots

    @property
    def national_record(self) -> dict[str, Any] | None:
        """Where a forwarded provincial submission stands in national review; None if never."""
        return getattr(self, "national", None)

    @property
    def form(self) -> Form:
        return form_from_state(self.programme, self.form_state)

    @property
    def attachments(self) -> list[Attachment]:
        return [
            Attachment(
                AttachmentKind(a["kind"]), a["name"], a["content_type"], a["size"], a["sha256"]
            )
            for a in self.attachments_state
        ]

    def check_editable(self) -> None:
        if self.status not in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
            raise SubmissionConflict(
                Problem("status", "not_editable", f"申报{STATUS_NAMES_ZH[self.status]}，不能修改")
            )

    def edit(self, campaign: Campaign, form: Form, recommending_unit: str, actor: Actor) -> None:
        campaign.check_active()
        self.check_editable()
        _check_form(self.programme, form, campaign.rules)
        self.trigger_event(
            self.Edited,
            recommending_unit=recommending_unit,
            form=form_to_state(form),
            **actor.fields(),
        )

    def check_not_received(self) -> None:
        if self.received_from is not None:
            raise SubmissionConflict(
                Problem(
                    "submission_id",
                    "forwarded_read_only",
                    "推荐全国的成果按推荐单位报送的内容受理，不能在此修改",
                )
            )

    def check_takes(self, kind: AttachmentKind) -> None:
        """Whether the result takes a file of that kind now (whatever the file)."""
        self.check_not_received()
        # The presentation's slides and video come later, for those chosen for the contest.
        late = kind in (AttachmentKind.SLIDES, AttachmentKind.VIDEO)
        if not (late and self.status is SubmissionStatus.SUBMITTED):
            self.check_editable()

    def add_attachment(self, attachment: Attachment, actor: Actor) -> None:
        self.check_takes(attachment.kind)
        if any(a.sha256 == attachment.sha256 for a in self.attachments):
            raise SubmissionConflict(Problem("file", "duplicate", "同一文件已上传"))
        self.trigger_event(
            self.AttachmentAdded,
            kind=attachment.kind,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            **actor.fields(),
        )

    def remove_attachment(self, sha256: str, actor: Actor) -> None:
        self.check_not_received()
        self.check_editable()
        if not any(a.sha256 == sha256 for a in self.attachments):
            raise SubmissionConflict(Problem("sha256", "not_attached", "没有这个附件"))
        self.trigger_event(self.AttachmentRemoved, sha256=sha256, **actor.fields())

    def check_complete(self, rules: CampaignRules) -> None:
        form = self.form
        problems = form.missing(rules) + form.problems(rules)
        kinds = {a.kind for a in self.attachments}
        problems += [
            Problem(f"attachments.{kind}", "required", f"请上传{ATTACHMENT_NAMES_ZH[kind]}")
            for kind in REQUIRED_ATTACHMENTS[self.programme]
            if kind not in kinds
        ]
        if problems:
            raise InvalidSubmission(*problems)

    def check_submittable(self, campaign: Campaign, at: datetime) -> None:
        campaign.check_active()
        if self.status is not SubmissionStatus.DRAFT:
            raise SubmissionConflict(
                Problem("status", "already_submitted", f"申报{STATUS_NAMES_ZH[self.status]}")
            )
        campaign.check_phase_open(Phase.SUBMISSION, at)
        self.check_complete(campaign.rules)

    def submit(self, campaign: Campaign, serial: str, at: datetime, actor: Actor) -> None:
        """Submit with the serial number the campaign's register assigned."""
        self.check_submittable(campaign, at)
        self.trigger_event(self.Submitted, serial=serial, **actor.fields())

    def resubmit(self, campaign: Campaign, actor: Actor) -> None:
        campaign.check_active()
        if self.status is not SubmissionStatus.RETURNED:
            raise SubmissionConflict(
                Problem("status", "not_returned", "只有退回修改的申报才能重新提交")
            )
        self.check_complete(campaign.rules)
        self.trigger_event(self.Resubmitted, **actor.fields())

    def withdraw(self, reason: str, actor: Actor) -> None:
        if self.status is SubmissionStatus.WITHDRAWN:
            raise SubmissionConflict(Problem("status", "withdrawn", "申报已撤回"))
        if self.reviewed_formally:
            raise SubmissionConflict(
                Problem("status", "formally_reviewed", "形式审查已完成，不能再撤回")
            )
        if not reason.strip():
            raise InvalidSubmission(Problem("reason", "required", "请说明撤回原因"))
        self.trigger_event(self.Withdrawn, reason=reason.strip(), **actor.fields())

    def return_for_correction(self, items: list[str], actor: Actor) -> None:
        if self.status is not SubmissionStatus.SUBMITTED:
            raise SubmissionConflict(
                Problem("status", "not_submitted", "只有已申报的成果才能退回修改")
            )
        items = [i.strip() for i in items if i.strip()]
        if not items:
            raise InvalidSubmission(Problem("items", "required", "请列出需要修改的内容"))
        self.trigger_event(self.ReturnedForCorrection, items=items, **actor.fields())

    def endorse(
        self, self_evaluation: str, opinion: str, score: Decimal, rules: CampaignRules, actor: Actor
    ) -> None:
        if self.status is not SubmissionStatus.SUBMITTED:
            raise SubmissionConflict(
                Problem("status", "not_submitted", "成果申报后才能出具单位意见")
            )
        problems = [
            Problem(name, "required", "不能为空")
            for name, value in (("self_evaluation", self_evaluation), ("opinion", opinion))
            if not value.strip()
        ]
        if not Decimal(0) <= score <= Decimal(rules.score_max):
            problems.append(Problem("score", "range", f"评分应在 0 至 {rules.score_max} 之间"))
        if problems:
            raise InvalidSubmission(*problems)
        self.trigger_event(
            self.Endorsed,
            self_evaluation=self_evaluation.strip(),
            opinion=opinion.strip(),
            score=score,
            **actor.fields(),
        )

    def name_enterprise(self, name: str, actor: Actor) -> None:
        """Carry the enterprise's verified name, if it is not the one carried already."""
        if name and name != self.unit_name:
            self.trigger_event(self.EnterpriseNamed, unit_name=name, **actor.fields())

    def confirm_direct_channel(self, actor: Actor) -> None:
        if self.recommending_unit != DIRECT_CHANNEL:
            raise SubmissionConflict(
                Problem("recommending_unit", "not_direct", "该申报不是直接受理通道")
            )
        if self.direct_channel_confirmed:
            raise SubmissionConflict(Problem("recommending_unit", "already_confirmed", "已确认"))
        self.trigger_event(self.DirectChannelConfirmed, **actor.fields())

    @property
    def reviewed_formally(self) -> bool:
        return getattr(self, "formal_review", None) is not None  # absent from older snapshots

    def review_formally(
        self,
        decision: str,
        checklist: dict[str, bool],
        expected_items: tuple[str, ...],
        reason: str,
        items: list[str],
        actor: Actor,
    ) -> None:
        """形式审查: pass (every item of the campaign's checklist met), return for correction
        (the items to correct), or reject (with the reason)."""
        if self.status is not SubmissionStatus.SUBMITTED or self.reviewed_formally:
            raise SubmissionConflict(
                Problem(
                    "status", "not_reviewable", f"申报{STATUS_NAMES_ZH[self.status]}，不能形式审查"
                )
            )
        problems = [
            Problem(f"checklist.{item}", "required", "请逐项填写审查结果")
            for item in expected_items
            if item not in checklist
        ] + [
            Problem(f"checklist.{item}", "unknown_item", "不是本活动的审查项")
            for item in checklist
            if item not in expected_items
        ]
        if decision not in FORMAL_REVIEW_DECISIONS:
            problems.append(
                Problem(
                    "decision", "one_of", "须为 pass（通过）、return（退回修改）或 reject（不通过）"
                )
            )
        if decision == "return" and self.received_from is not None:
            problems.append(
                Problem(
                    "decision",
                    "forwarded",
                    "推荐全国的成果由省级（行业）协会报送，不能退回修改；请通过或不予通过并说明理由",
                )
            )
        if decision == "pass" and not all(checklist.values()):
            problems.append(Problem("decision", "checklist_unmet", "有审查项未满足，不能通过"))
        if decision == "reject" and not reason.strip():
            problems.append(Problem("reason", "required", "请说明不通过的理由"))
        if problems:
            raise InvalidSubmission(*problems)
        if decision == "pass":
            self.trigger_event(self.FormalReviewPassed, checklist=dict(checklist), **actor.fields())
            self.send_outcome({"stage": "formal_review", "result": "passed"}, actor)
        elif decision == "reject":
            self.trigger_event(
                self.Rejected, checklist=dict(checklist), reason=reason.strip(), **actor.fields()
            )
            self.send_outcome(
                {"stage": "formal_review", "result": "rejected", "reason": reason.strip()}, actor
            )
        else:
            self.return_for_correction(items, actor)

    # The national copy of a forwarded result.

    def send_outcome(self, outcome: dict[str, Any], actor: Actor) -> None:
        """Send a national decision back to the association that forwarded this result (nothing
        for a result filed here)."""
        origin = self.received_from
        if origin is None:
            return
        self.trigger_event(
            self.OutcomeSent,
            origin_tenant=origin["tenant"],
            origin_submission_id=origin["submission_id"],
            outcome=outcome,
            **actor.fields(),
        )

    def withdraw_by_origin(self, reason: str, actor: Actor) -> bool:
        """The forwarding association withdrew it: withdrawn, with its reason, unless national
        formal review has decided already (then declined, and the association is told)."""
        if self.status is SubmissionStatus.WITHDRAWN:
            return False
        if self.reviewed_formally:
            why = "全国形式审查已完成，撤回未生效"
            self.trigger_event(self.WithdrawalDeclined, reason=why, **actor.fields())
            self.send_outcome({"stage": "withdrawal", "result": "declined", "reason": why}, actor)
            return False
        self.trigger_event(self.Withdrawn, reason=reason, **actor.fields())
        self.send_outcome({"stage": "withdrawn", "result": "withdrawn", "reason": reason}, actor)
        return True

    # The provincial record of a result forwarded to national.

    def check_forwardable(self) -> None:
        if self.status is not SubmissionStatus.SUBMITTED or self.formal_review != "passed":
            raise SubmissionConflict(
                Problem("submission_id", "not_reviewed", "只有通过评审并发布等级的成果才能推荐全国")
            )
        if self.received_from is not None:
            raise SubmissionConflict(
                Problem("submission_id", "received", "这是下级协会推荐来的成果，不能再向上推荐")
            )

    def record_forward(
        self, national_tenant: str, national_campaign_id: UUID, national_id: UUID, actor: Actor
    ) -> None:
        self.trigger_event(
            self.ForwardedToNational,
            national_tenant=national_tenant,
            national_campaign_id=national_campaign_id,
            national_submission_id=national_id,
            **actor.fields(),
        )

    def record_forward_withdrawn(self, reason: str, actor: Actor) -> None:
        self.trigger_event(self.NationalForwardWithdrawn, reason=reason, **actor.fields())

    def record_national_outcome(self, outcome: dict[str, Any], actor: Actor) -> None:
        if self.national_record is None:
            raise SubmissionConflict(Problem("submission_id", "not_forwarded", "该成果未推荐全国"))
        self.trigger_event(self.NationalOutcomeRecorded, outcome=outcome, **actor.fields())

    def has_video(self) -> bool:
        return any(a.kind is AttachmentKind.VIDEO for a in self.attachments)

    @property
    def unit_name(self) -> str:
        return str(self.applicant.get("unit_name", ""))

    @property
    def group_and_topic(self) -> tuple[str, str]:
        """The group's name and its topic as filed; a team is both its own name and topic."""
        form = self.form
        if isinstance(form, QcResultForm):
            return form.group_name, form.topic_name
        return form.team_name, form.team_name

    @property
    def title(self) -> str:
        return submission_title(self.form_state)

    @property
    def topic_type(self) -> str | None:
        form = self.form
        return form.topic_type.value if isinstance(form, QcResultForm) and form.topic_type else None


TITLE_KEYS = ("team_name", "group_name", "topic_name")
"""The keys of a form `submission_title` reads."""


def submission_title(form: Mapping[str, Any]) -> str:
    """How a result is named wherever it is listed: a team by its name; a QC result by its group
    and topic, 小组名：课题名 (a draft's missing part left out). It reads `TITLE_KEYS`."""
    if "team_name" in form:
        return str(form["team_name"])
    return f"{form.get('group_name', '')}：{form.get('topic_name', '')}".strip("：")


def national_status(outcome: Mapping[str, Any]) -> str | None:
    """The national status an outcome sent back from national moves the provincial record to,
    or None when it leaves it (a withdrawal asked for, not yet confirmed)."""
    stage, result = outcome["stage"], outcome["result"]
    if stage in ("formal_review", "publication"):
        return str(result)  # passed / rejected; graded / not_graded
    if stage == "withdrawn":
        return "withdrawn"
    return None


def _national(submission: Submission) -> dict[str, Any]:
    national = submission.national_record
    if national is None:
        raise SubmissionConflict(Problem("submission_id", "not_forwarded", "该成果未推荐全国"))
    return national


def _check_form(programme: Programme, form: Form, rules: CampaignRules) -> None:
    expected = TeamForm if programme is Programme.TEAM else QcResultForm
    if not isinstance(form, expected):
        raise InvalidSubmission(Problem("form", "wrong_programme", "申报表与活动类别不符"))
    problems = form.problems(rules)
    if problems:
        raise InvalidSubmission(*problems)
