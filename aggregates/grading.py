"""A campaign's results (评审结果): grades from the review scores by the campaign's plan, the
secretariat's overrides, the public notice (公示) with its objections and their resolutions, and
the certificates issued at publication."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.limits import OBJECTION_MAX_CHARS
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem
from aggregates.review_plan import GradeBand, ReviewPlan
from aggregates.scoring import AGGREGATION_VERSION, combine

GRADING_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/grading")
DECISIONS = {"upheld": "异议成立", "dismissed": "异议不成立"}


class GradingError(DomainError):
    pass


class InvalidGrading(GradingError, InvalidInput):
    pass


class GradingConflict(GradingError, Conflict):
    pass


class GradingNotFound(GradingError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("grading", "not_found", "本活动尚未认定等级"))


@dataclass(frozen=True)
class Standing:
    """A submission's review scores and what grading needs to know of it."""

    submission_id: UUID
    serial: str
    unit_name: str
    group_name: str
    topic: str
    recommending_unit: str
    domain: str | None
    material: Decimal
    presentation: Decimal | None
    has_video: bool


K = TypeVar("K")


def material_scores(rounds: Iterable[tuple[str, Mapping[K, Decimal | None]]]) -> dict[K, Decimal]:
    """Each result's material score: its score in the last material round that scored it.
    `rounds` are (kind, scores) in the plan's order; grading and the audit's recomputation both
    take a result's material score from here."""
    material: dict[K, Decimal] = {}
    for kind, scores in rounds:
        if kind == "material":
            material.update({k: v for k, v in scores.items() if v is not None})
    return material


def rank_and_grade(
    standings: Sequence[Standing], plan: ReviewPlan, grade_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Combined scores, ranks and grades: each result, best first, takes the best band whose score
    line it reaches, whose requirements it meets and whose quotas (overall and for its domain) are
    not yet full; the basis says what it passed over and why."""
    rows = []
    for s in standings:
        combined = (
            s.material
            if s.presentation is None
            else combine(s.material, s.presentation, plan.presentation_weight)
        )
        rows.append((s, combined))
    rows.sort(key=lambda r: (-r[1], -r[0].material, r[0].serial))
    taken: Counter[str] = Counter()
    taken_in_domain: Counter[tuple[str, str]] = Counter()
    entries = []
    for rank, (s, combined) in enumerate(rows, start=1):
        grade = None
        passed_over = []
        for band in plan.bands:
            why = _why_not(band, s, combined, plan, taken, taken_in_domain)
            if why is None:
                grade = band.grade
                break
            passed_over.append(f"{grade_names.get(band.grade, band.grade)}：{why}")
        if grade is not None:
            taken[grade] += 1
            if s.domain is not None:
                taken_in_domain[(s.domain, grade)] += 1
        entries.append(
            {
                "submission_id": s.submission_id,
                "serial": s.serial,
                "unit_name": s.unit_name,
                "group_name": s.group_name,
                "topic": s.topic,
                "recommending_unit": s.recommending_unit,
                "domain": s.domain,
                "material": s.material,
                "presentation": s.presentation,
                "combined": combined,
                "rank": rank,
                "grade": grade,
                "has_video": s.has_video,
                "basis": "；".join(passed_over),
            }
        )
    return entries


def quota_fill(plan: ReviewPlan, entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """How the plan's quotas fill with the grades as they stand (overrides and upheld objections
    included): per band, its quota and how many hold the grade; per domain quota, the same."""
    held: Counter[str] = Counter()
    held_in_domain: Counter[tuple[str, str]] = Counter()
    for e in entries:
        if e["grade"] is not None:
            held[e["grade"]] += 1
            held_in_domain[(e["domain"] or "", e["grade"])] += 1
    return {
        "bands": [
            {"grade": b.grade, "quota": b.quota, "held": held[b.grade], "min_score": b.min_score}
            for b in plan.bands
        ],
        "domains": [
            {
                "domain": domain,
                "grade": grade,
                "quota": limit,
                "held": held_in_domain[(domain, grade)],
            }
            for domain, limits in plan.domain_quotas.items()
            for grade, limit in limits.items()
        ],
    }


PUBLIC_NAME_MAX_CHARS = 50
PUBLIC_CONTACT_MAX_CHARS = 100


def public_objector_problems(name: str, email: str, phone: str) -> list[Problem]:
    """What is wrong with a member of the public's identity on an objection (公示 objections need
    a real name and a contact, the code confirming it is mailed to `email`)."""
    found = []
    if not name.strip():
        found.append(Problem("name", "required", "请填写真实姓名"))
    elif len(name.strip()) > PUBLIC_NAME_MAX_CHARS:
        found.append(Problem("name", "max_length", f"不得超过 {PUBLIC_NAME_MAX_CHARS} 字"))
    address = email.strip()
    if not address:
        found.append(Problem("email", "required", "请填写电子邮箱，以接收确认码"))
    elif len(address) > PUBLIC_CONTACT_MAX_CHARS or not _looks_like_email(address):
        found.append(Problem("email", "format", "电子邮箱格式不正确"))
    digits = phone.strip().replace(" ", "").replace("-", "")
    if digits and (not digits.lstrip("+").isdigit() or not 7 <= len(digits) <= 20):
        found.append(Problem("phone", "format", "电话号码格式不正确"))
    return found


def _looks_like_email(address: str) -> bool:
    local, at, host = address.partition("@")
    return bool(at and local and "." in host and " " not in address and not host.startswith("."))


def _why_not(
    band: GradeBand,
    s: Standing,
    combined: Decimal,
    plan: ReviewPlan,
    taken: Counter[str],
    taken_in_domain: Counter[tuple[str, str]],
) -> str | None:
    if band.min_score is not None and combined < band.min_score:
        return f"未达 {band.min_score} 分"
    if band.requires_presentation and s.presentation is None:
        return "未参加发表赛"
    if band.requires_video and not s.has_video:
        return "缺发表视频"
    if band.quota is not None and taken[band.grade] >= band.quota:
        return f"名额 {band.quota} 个已满"
    limit = plan.domain_quotas.get(s.domain or "", {}).get(band.grade)
    if limit is not None and taken_in_domain[(s.domain or "", band.grade)] >= limit:
        return f"“{s.domain}”领域名额 {limit} 个已满"
    return None


class Grading(Aggregate):
    class Graded(Aggregate.Created):
        campaign_id: UUID
        entries: list[dict[str, Any]]
        rounds: dict[str, str]
        """The rounds whose scores were used: round code → what it contributed."""
        rule_version: int
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Grading) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.entries = {str(e["submission_id"]): dict(e) for e in self.entries}
            aggregate.overrides = {}
            aggregate.notice_closes_at = None
            aggregate.notice_closed = False
            aggregate.objections = {}
            aggregate.certificates = {}
            aggregate.issued_on = None

    class Event(Aggregate.Event):
        """The base of every event of a Grading after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Regraded(Event):
        entries: list[dict[str, Any]]
        rounds: dict[str, str]
        rule_version: int

        def apply(self, aggregate: Grading) -> None:
            aggregate.entries = {str(e["submission_id"]): dict(e) for e in self.entries}
            aggregate.overrides = {}

    class GradeOverridden(Event):
        submission_id: UUID
        previous: str | None
        grade: str | None
        reason: str

        def apply(self, aggregate: Grading) -> None:
            aggregate.entries[str(self.submission_id)]["grade"] = self.grade
            aggregate.overrides[str(self.submission_id)] = self.reason

    class NoticeOpened(Event):
        closes_at: datetime

        def apply(self, aggregate: Grading) -> None:
            aggregate.notice_closes_at = self.closes_at

    class ObjectionFiled(Event):
        objection_id: UUID
        submission_id: UUID
        reasons: str

        def apply(self, aggregate: Grading) -> None:
            aggregate.objections[str(self.objection_id)] = {
                "objection_id": self.objection_id,
                "submission_id": self.submission_id,
                "reasons": self.reasons,
                "filed_by": self.actor_id,
                "decision": None,
                "resolution": None,
            }

    class PublicObjectionFiled(ObjectionFiled):
        """An objection of a member of the public, from the public notice page, once the code
        mailed to their address was confirmed: who they say they are and how to reach them."""

        objector_name: str
        objector_email: str
        objector_phone: str

        def apply(self, aggregate: Grading) -> None:
            super().apply(aggregate)
            aggregate.objections[str(self.objection_id)].update(
                filed_by=f"public:{self.objector_email}",
                objector={
                    "name": self.objector_name,
                    "email": self.objector_email,
                    "phone": self.objector_phone,
                },
            )

    class ObjectionResolved(Event):
        objection_id: UUID
        submission_id: UUID
        decision: str
        reason: str
        grade_changed: bool
        grade: str | None

        def apply(self, aggregate: Grading) -> None:
            objection = aggregate.objections[str(self.objection_id)]
            objection["decision"] = self.decision
            objection["resolution"] = self.reason
            if self.grade_changed:
                aggregate.entries[str(self.submission_id)]["grade"] = self.grade

    class NoticeClosed(Event):
        def apply(self, aggregate: Grading) -> None:
            aggregate.notice_closed = True

    class CertificatesIssued(Event):
        certificates: dict[str, str]
        """Submission id → verification code."""
        issued_on: date

        def apply(self, aggregate: Grading) -> None:
            aggregate.certificates = dict(self.certificates)
            aggregate.issued_on = self.issued_on

    if TYPE_CHECKING:
        campaign_id: UUID
        entries: dict[str, dict[str, Any]]
        overrides: dict[str, str]
        notice_closes_at: datetime | None
        notice_closed: bool
        objections: dict[str, dict[str, Any]]
        certificates: dict[str, str]
        issued_on: date | None

    @staticmethod
    def create_id(campaign_id: UUID) -> UUID:
        return uuid5(GRADING_NAMESPACE, str(campaign_id))

    @classmethod
    def grade(
        cls, campaign: Campaign, entries: list[dict[str, Any]], rounds: dict[str, str], actor: Actor
    ) -> Grading:
        _check_gradable(campaign, entries)
        return cls._create(
            cls.Graded,
            id=cls.create_id(campaign.id),
            campaign_id=campaign.id,
            entries=entries,
            rounds=rounds,
            rule_version=AGGREGATION_VERSION,
            **actor.fields(),
        )

    @property
    def status(self) -> str:
        if self.issued_on is not None:
            return "published"
        if self.notice_closed:
            return "notice_closed"
        return "graded" if self.notice_closes_at is None else "public_notice"

    def regrade(
        self,
        campaign: Campaign,
        entries: list[dict[str, Any]],
        rounds: dict[str, str],
        actor: Actor,
    ) -> None:
        self._check_before_notice()
        _check_gradable(campaign, entries)
        self.trigger_event(
            self.Regraded,
            entries=entries,
            rounds=rounds,
            rule_version=AGGREGATION_VERSION,
            **actor.fields(),
        )

    def _check_before_notice(self) -> None:
        if self.notice_closes_at is not None:
            raise GradingConflict(
                Problem("grading", "in_notice", "结果已公示，只能通过异议处理改变等级")
            )

    def entry(self, submission_id: UUID) -> dict[str, Any]:
        found = self.entries.get(str(submission_id))
        if found is None:
            raise GradingConflict(Problem("submission_id", "not_graded", "该成果不在评审结果中"))
        return found

    def _grade_problems(
        self, plan: ReviewPlan, entry: Mapping[str, Any], grade: str | None
    ) -> list[Problem]:
        if grade is None:
            return []
        band = plan.band(grade)
        if band is None:
            return [Problem("grade", "unknown_grade", "不是本活动设定的等级")]
        found = []
        if band.requires_video and not entry["has_video"]:
            found.append(Problem("grade", "video_required", "该等级须上传发表视频"))
        if band.requires_presentation and entry["presentation"] is None:
            found.append(Problem("grade", "presentation_required", "该等级须参加发表赛"))
        return found

    def override(
        self, campaign: Campaign, submission_id: UUID, grade: str | None, reason: str, actor: Actor
    ) -> None:
        self._check_before_notice()
        entry = self.entry(submission_id)
        problems = self._grade_problems(campaign.review_plan, entry, grade)
        if not reason.strip():
            problems.append(Problem("reason", "required", "调整等级须说明理由"))
        if problems:
            raise InvalidGrading(*problems)
        self.trigger_event(
            self.GradeOverridden,
            submission_id=submission_id,
            previous=entry["grade"],
            grade=grade,
            reason=reason.strip(),
            **actor.fields(),
        )

    def open_notice(self, campaign: Campaign, at: datetime, actor: Actor) -> None:
        self._check_before_notice()
        campaign.check_phase_open(Phase.PUBLIC_NOTICE, at)
        self.trigger_event(
            self.NoticeOpened,
            closes_at=campaign.window(Phase.PUBLIC_NOTICE).closes_at,
            **actor.fields(),
        )

    def _check_in_notice(self, at: datetime) -> None:
        if self.notice_closes_at is None or self.notice_closed or at >= self.notice_closes_at:
            raise GradingConflict(Problem("notice", "not_in_notice", "不在公示期内"))

    def check_objection(self, submission_id: UUID, reasons: str, at: datetime) -> None:
        """Whether an objection to `submission_id` may be filed now with these reasons."""
        self._check_in_notice(at)
        self.entry(submission_id)
        if not reasons.strip():
            raise InvalidGrading(Problem("reasons", "required", "请写明异议的事实和理由"))
        if len(reasons) > OBJECTION_MAX_CHARS:
            raise InvalidGrading(
                Problem("reasons", "max_length", f"不得超过 {OBJECTION_MAX_CHARS} 字")
            )

    def file_objection(
        self, objection_id: UUID, submission_id: UUID, reasons: str, at: datetime, actor: Actor
    ) -> None:
        self.check_objection(submission_id, reasons, at)
        self.trigger_event(
            self.ObjectionFiled,
            objection_id=objection_id,
            submission_id=submission_id,
            reasons=reasons.strip(),
            **actor.fields(),
        )

    def file_public_objection(
        self,
        objection_id: UUID,
        submission_id: UUID,
        reasons: str,
        objector: tuple[str, str, str],
        at: datetime,
        actor: Actor,
    ) -> None:
        """A member of the public's objection (name, e-mail confirmed by a mailed code, phone)."""
        name, email, phone = objector
        problems = public_objector_problems(name, email, phone)
        if problems:
            raise InvalidGrading(*problems)
        self.check_objection(submission_id, reasons, at)
        self.trigger_event(
            self.PublicObjectionFiled,
            objection_id=objection_id,
            submission_id=submission_id,
            reasons=reasons.strip(),
            objector_name=name.strip(),
            objector_email=email.strip(),
            objector_phone=phone.strip(),
            **actor.fields(),
        )

    def resolve_objection(
        self,
        campaign: Campaign,
        objection_id: UUID,
        decision: str,
        reason: str,
        grade_changed: bool,
        grade: str | None,
        actor: Actor,
    ) -> None:
        if self.notice_closed:
            raise GradingConflict(Problem("notice", "closed", "公示已结束"))
        objection = self.objections.get(str(objection_id))
        if objection is None:
            raise GradingConflict(Problem("objection_id", "not_found", "没有该异议"))
        if objection["decision"] is not None:
            raise GradingConflict(Problem("objection_id", "resolved", "该异议已处理"))
        problems = []
        if decision not in DECISIONS:
            problems.append(
                Problem("decision", "one_of", "须为 upheld（成立）或 dismissed（不成立）")
            )
        if not reason.strip():
            problems.append(Problem("reason", "required", "请写明处理意见"))
        if grade_changed and decision != "upheld":
            problems.append(Problem("grade", "upheld_only", "只有异议成立时才能改变等级"))
        if grade_changed:
            entry = self.entries[str(objection["submission_id"])]
            problems += self._grade_problems(campaign.review_plan, entry, grade)
        if problems:
            raise InvalidGrading(*problems)
        self.trigger_event(
            self.ObjectionResolved,
            objection_id=objection_id,
            submission_id=objection["submission_id"],
            decision=decision,
            reason=reason.strip(),
            grade_changed=grade_changed,
            grade=grade if grade_changed else None,
            **actor.fields(),
        )

    def close_notice(self, at: datetime, actor: Actor) -> None:
        if self.notice_closes_at is None:
            raise GradingConflict(Problem("notice", "not_opened", "结果尚未公示"))
        if self.notice_closed:
            raise GradingConflict(Problem("notice", "closed", "公示已结束"))
        if at < self.notice_closes_at:
            raise GradingConflict(Problem("notice", "period_running", "公示期未满，不能结束公示"))
        open_ones = [o for o in self.objections.values() if o["decision"] is None]
        if open_ones:
            raise GradingConflict(
                Problem("objections", "unresolved", f"尚有 {len(open_ones)} 件异议未处理")
            )
        self.trigger_event(self.NoticeClosed, **actor.fields())

    def issue_certificates(self, codes: Mapping[str, str], on: date, actor: Actor) -> None:
        """At publication: a verification code per graded result."""
        if not self.notice_closed:
            raise GradingConflict(Problem("notice", "not_closed", "公示结束后才能发布结果"))
        if self.issued_on is not None:
            raise GradingConflict(Problem("grading", "published", "结果已发布"))
        self.trigger_event(
            self.CertificatesIssued, certificates=dict(codes), issued_on=on, **actor.fields()
        )

    def graded(self) -> list[dict[str, Any]]:
        """The results that hold a grade, best first."""
        return sorted(
            (e for e in self.entries.values() if e["grade"] is not None), key=lambda e: e["rank"]
        )

    def certificate(self, code: str) -> dict[str, Any] | None:
        holder = self.holder(code)
        return self.entries[holder] if holder is not None else None

    def holder(self, code: str) -> str | None:
        """The submission (its id) a certificate code was issued to, if any."""
        return next((s for s, issued in self.certificates.items() if issued == code), None)


def _check_gradable(campaign: Campaign, entries: list[dict[str, Any]]) -> None:
    campaign.check_active()
    if not campaign.review_plan.bands:
        raise InvalidGrading(Problem("plan.bands", "required", "评审方案尚未设定等级"))
    if not entries:
        raise InvalidGrading(Problem("entries", "required", "没有已评分的成果"))
