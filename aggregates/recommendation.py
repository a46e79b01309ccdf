"""The recommendation form (推荐表) of one recommending unit in one campaign: its ranked entries with
score, evaluation and reviewer, its reviewer roster, its not-recommended decisions, its declaration;
filed, then frozen unless the secretariat returns it; declared invalid (推荐无效) if it must be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.limits import quota_grant_problems
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

RECOMMENDATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/recommendation")


class RecommendationError(DomainError):
    pass


class InvalidRecommendation(RecommendationError, InvalidInput):
    pass


class RecommendationConflict(RecommendationError, Conflict):
    pass


class RecommendationNotFound(RecommendationError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("recommendation", "not_found", "未找到该推荐表"))


@dataclass(frozen=True)
class Candidate:
    """What the recommendation needs to know of a submission it ranks."""

    submission_id: UUID
    credit_code: str
    recommending_unit: str
    submitted: bool


@dataclass(frozen=True)
class SheetRow:
    """An entry row of an imported form as read from the file: the result it names by id."""

    row: int
    submission_id: UUID
    score: Decimal
    evaluation: str
    reviewer: str


@dataclass(frozen=True)
class SheetLine:
    """One entry of an imported form (推荐表 .xlsx), in the file's rank order: the row it came
    from, the result it names, its score, evaluation and the reviewer's certificate number."""

    row: int
    candidate: Candidate
    score: Decimal
    evaluation: str
    reviewer: str


@dataclass(frozen=True)
class Reviewer:
    """评委: name, work unit, certificate (kind and number) and mobile."""

    name: str
    work_unit: str
    certificate_number: str
    mobile: str
    certificate_kind: str = ""


class Recommendation(Aggregate):
    class Started(Aggregate.Created):
        campaign_id: UUID
        unit: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.unit = self.unit
            aggregate.entries = []
            aggregate.reviewers = []
            aggregate.not_recommended = {}
            aggregate.declaration = None
            aggregate.filed_at = None
            aggregate.extra_quota = 0
            aggregate.invalid_reason = None
            aggregate.returned_reason = None

    class Event(Aggregate.Event):
        """The base of every event of a Recommendation after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class EntryAdded(Event):
        submission_id: UUID
        credit_code: str
        score: Decimal
        evaluation: str
        reviewer: str
        """The certificate number of the roster's reviewer who scored it."""

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.entries.append(
                {
                    "submission_id": self.submission_id,
                    "credit_code": self.credit_code,
                    "score": self.score,
                    "evaluation": self.evaluation,
                    "reviewer": self.reviewer,
                }
            )
            aggregate.not_recommended.pop(str(self.submission_id), None)

    class EntryRemoved(Event):
        submission_id: UUID

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.entries = [
                e for e in aggregate.entries if e["submission_id"] != self.submission_id
            ]

    class Reordered(Event):
        order: list[UUID]

        def apply(self, aggregate: Recommendation) -> None:
            by_id = {e["submission_id"]: e for e in aggregate.entries}
            aggregate.entries = [by_id[i] for i in self.order]

    class ReviewerAdded(Event):
        reviewer: dict[str, str]

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.reviewers.append(dict(self.reviewer))

    class ReviewerRemoved(Event):
        certificate_number: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.reviewers = [
                r for r in aggregate.reviewers if r["certificate_number"] != self.certificate_number
            ]

    class NotRecommended(Event):
        submission_id: UUID
        reason: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.not_recommended[str(self.submission_id)] = self.reason

    class DeclarationAccepted(Event):
        filled_by: str
        phone: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.declaration = {"filled_by": self.filled_by, "phone": self.phone}

    class Filed(Event):
        filed_at: datetime

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.filed_at = self.filed_at
            aggregate.returned_reason = None

    class Returned(Event):
        reason: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.filed_at = None
            aggregate.returned_reason = self.reason

    class QuotaGranted(Event):
        extra: int
        reason: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.extra_quota += self.extra

    class Invalidated(Event):
        reason: str

        def apply(self, aggregate: Recommendation) -> None:
            aggregate.invalid_reason = self.reason

    if TYPE_CHECKING:
        campaign_id: UUID
        unit: str
        entries: list[dict[str, Any]]
        reviewers: list[dict[str, str]]
        not_recommended: dict[str, str]
        declaration: dict[str, str] | None
        filed_at: datetime | None
        extra_quota: int
        invalid_reason: str | None
        returned_reason: str | None

    @staticmethod
    def create_id(campaign_id: UUID, unit: str) -> UUID:
        return uuid5(RECOMMENDATION_NAMESPACE, f"{campaign_id}/{unit}")

    @classmethod
    def start(cls, campaign: Campaign, unit: str, actor: Actor) -> Recommendation:
        return cls._create(
            cls.Started,
            id=cls.create_id(campaign.id, unit),
            campaign_id=campaign.id,
            unit=unit,
            **actor.fields(),
        )

    @property
    def status(self) -> str:
        if self.invalid_reason is not None:
            return "invalid"
        if self.filed_at is not None:
            return "filed"
        return "returned" if self.returned_reason else "draft"

    def quota(self, campaign: Campaign) -> int | None:
        base = campaign.rules.recommending_unit_quota
        return None if base is None else base + self.extra_quota

    # Guards.

    def check_open(self, campaign: Campaign, at: datetime) -> None:
        """Changes only while not filed nor invalid, inside the recommendation window."""
        campaign.check_active()
        if self.invalid_reason is not None:
            raise RecommendationConflict(
                Problem("recommendation", "invalid", f"推荐已被认定无效：{self.invalid_reason}")
            )
        if self.filed_at is not None:
            raise RecommendationConflict(
                Problem("recommendation", "filed", "推荐表已报送，需秘书处退回后才能修改")
            )
        campaign.check_phase_open(Phase.RECOMMENDATION, at)

    def _check_candidate(self, candidate: Candidate) -> None:
        if candidate.recommending_unit != self.unit or not candidate.submitted:
            raise RecommendationConflict(
                Problem("submission_id", "not_filed_here", "该成果未向本推荐单位申报")
            )

    # Commands.

    def add_entry(
        self,
        campaign: Campaign,
        candidate: Candidate,
        score: Decimal,
        evaluation: str,
        reviewer: str,
        at: datetime,
        actor: Actor,
    ) -> None:
        self.check_open(campaign, at)
        self._check_candidate(candidate)
        rules = campaign.rules
        problems = []
        if any(e["submission_id"] == candidate.submission_id for e in self.entries):
            raise RecommendationConflict(
                Problem("submission_id", "already_listed", "该成果已在推荐目录中")
            )
        if not Decimal(0) <= score <= Decimal(rules.score_max):
            problems.append(Problem("score", "range", f"打分应在 0 至 {rules.score_max} 之间"))
        if not evaluation.strip():
            problems.append(Problem("evaluation", "required", "请填写成果评价（优势/不足之处）"))
        elif len(evaluation) > rules.evaluation_max_chars:
            problems.append(
                Problem("evaluation", "max_length", f"成果评价限 {rules.evaluation_max_chars} 字")
            )
        if reviewer not in {r["certificate_number"] for r in self.reviewers}:
            problems.append(
                Problem("reviewer", "not_in_roster", "打分评委须先列入本推荐表的评委名单")
            )
        per_unit = rules.recommendations_per_applicant_max
        mine = sum(1 for e in self.entries if e["credit_code"] == candidate.credit_code)
        if per_unit is not None and mine >= per_unit:
            problems.append(
                Problem(
                    "submission_id", "quota_per_applicant", f"每家申报单位至多推荐 {per_unit} 项"
                )
            )
        quota = self.quota(campaign)
        if quota is not None and len(self.entries) >= quota:
            problems.append(
                Problem("submission_id", "quota", f"本推荐单位推荐名额为 {quota} 项，已用完")
            )
        if problems:
            raise InvalidRecommendation(*problems)
        self.trigger_event(
            self.EntryAdded,
            submission_id=candidate.submission_id,
            credit_code=candidate.credit_code,
            score=score,
            evaluation=evaluation.strip(),
            reviewer=reviewer,
            **actor.fields(),
        )

    def remove_entry(
        self, campaign: Campaign, submission_id: UUID, at: datetime, actor: Actor
    ) -> None:
        self.check_open(campaign, at)
        if not any(e["submission_id"] == submission_id for e in self.entries):
            raise RecommendationConflict(
                Problem("submission_id", "not_listed", "该成果不在推荐目录中")
            )
        self.trigger_event(self.EntryRemoved, submission_id=submission_id, **actor.fields())

    def revise_entry(
        self,
        campaign: Campaign,
        candidate: Candidate,
        score: Decimal,
        evaluation: str,
        reviewer: str,
        at: datetime,
        actor: Actor,
    ) -> None:
        """A listed entry's score, evaluation or reviewer changed: removed and added again by the
        same rules, then put back at its rank (saved together, or not at all)."""
        order = [e["submission_id"] for e in self.entries]
        self.remove_entry(campaign, candidate.submission_id, at, actor)
        self.add_entry(campaign, candidate, score, evaluation, reviewer, at, actor)
        if order != [e["submission_id"] for e in self.entries]:
            self.reorder(campaign, order, at, actor)

    def import_sheet(
        self,
        campaign: Campaign,
        roster: list[tuple[int, Reviewer]],
        lines: list[SheetLine],
        at: datetime,
        actor: Actor,
    ) -> None:
        """The form as a unit's edited .xlsx says it (issue 23): its roster and its ranked
        entries replace the form's, through the form's own commands, so every rule is the
        form's. Each refusal names the file's row; any refusal refuses the whole file (the
        caller saves nothing)."""
        self.check_open(campaign, at)
        problems: list[Problem] = []

        def attempt(row: int, command: Callable[[], None]) -> None:
            try:
                command()
            except RecommendationError as refused:
                problems.extend(
                    Problem(f"row{row}.{p.field}", p.rule, f"第 {row} 行：{p.message}")
                    for p in refused.problems
                )

        wanted = {line.candidate.submission_id: line for line in lines}
        for entry in list(self.entries):
            line = wanted.get(entry["submission_id"])
            if line is None or (line.score, line.evaluation.strip(), line.reviewer) != (
                entry["score"],
                entry["evaluation"],
                entry["reviewer"],
            ):
                self.remove_entry(campaign, entry["submission_id"], at, actor)
        in_file = {reviewer.certificate_number.strip() for _, reviewer in roster}
        for member in list(self.reviewers):
            number = member["certificate_number"]
            if number not in in_file and not any(e["reviewer"] == number for e in self.entries):
                self.remove_reviewer(campaign, number, at, actor)
        kept = {r["certificate_number"] for r in self.reviewers}
        for row, reviewer in roster:
            if reviewer.certificate_number.strip() not in kept:
                attempt(row, lambda r=reviewer: self.add_reviewer(campaign, r, at, actor))  # type: ignore[misc]
        listed = {e["submission_id"] for e in self.entries}
        seen: set[UUID] = set()
        for line in lines:
            if line.candidate.submission_id in seen:
                problems.append(
                    Problem(
                        f"row{line.row}.submission_id",
                        "already_listed",
                        f"第 {line.row} 行：该成果在表中重复",
                    )
                )
                continue
            seen.add(line.candidate.submission_id)
            if line.candidate.submission_id not in listed:
                attempt(
                    line.row,
                    lambda x=line: self.add_entry(  # type: ignore[misc]
                        campaign, x.candidate, x.score, x.evaluation, x.reviewer, at, actor
                    ),
                )
        if problems:
            raise InvalidRecommendation(*problems)
        order = [line.candidate.submission_id for line in lines]
        if order != [e["submission_id"] for e in self.entries]:
            self.reorder(campaign, order, at, actor)

    def reorder(self, campaign: Campaign, order: list[UUID], at: datetime, actor: Actor) -> None:
        self.check_open(campaign, at)
        if sorted(map(str, order)) != sorted(str(e["submission_id"]) for e in self.entries):
            raise InvalidRecommendation(
                Problem("order", "same_entries", "排序须恰好包含推荐目录中的全部成果")
            )
        self.trigger_event(self.Reordered, order=list(order), **actor.fields())

    def add_reviewer(
        self, campaign: Campaign, reviewer: Reviewer, at: datetime, actor: Actor
    ) -> None:
        self.check_open(campaign, at)
        problems = [
            Problem(f"reviewer.{name}", "required", "不能为空")
            for name in ("name", "work_unit", "certificate_number")
            if not getattr(reviewer, name).strip()
        ]
        if not (
            len(reviewer.mobile) == 11
            and reviewer.mobile.isdigit()
            and reviewer.mobile.startswith("1")
        ):
            problems.append(
                Problem("reviewer.mobile", "mobile_format", "手机号应为 11 位数字，以 1 开头")
            )
        if reviewer.certificate_number in {r["certificate_number"] for r in self.reviewers}:
            problems.append(
                Problem("reviewer.certificate_number", "unique", "评委证书编号在名单中重复")
            )
        if problems:
            raise InvalidRecommendation(*problems)
        self.trigger_event(
            self.ReviewerAdded,
            reviewer={
                "name": reviewer.name.strip(),
                "work_unit": reviewer.work_unit.strip(),
                "certificate_kind": reviewer.certificate_kind.strip(),
                "certificate_number": reviewer.certificate_number.strip(),
                "mobile": reviewer.mobile,
            },
            **actor.fields(),
        )

    def remove_reviewer(
        self, campaign: Campaign, certificate_number: str, at: datetime, actor: Actor
    ) -> None:
        self.check_open(campaign, at)
        if any(e["reviewer"] == certificate_number for e in self.entries):
            raise RecommendationConflict(
                Problem(
                    "certificate_number", "scored_entries", "该评委已为推荐成果打分，不能移出名单"
                )
            )
        if certificate_number not in {r["certificate_number"] for r in self.reviewers}:
            raise RecommendationConflict(
                Problem("certificate_number", "not_in_roster", "名单中没有该评委")
            )
        self.trigger_event(
            self.ReviewerRemoved, certificate_number=certificate_number, **actor.fields()
        )

    def decline(
        self, campaign: Campaign, candidate: Candidate, reason: str, at: datetime, actor: Actor
    ) -> None:
        """A not-recommended decision, with the reason its unit will see."""
        self.check_open(campaign, at)
        self._check_candidate(candidate)
        if not reason.strip():
            raise InvalidRecommendation(Problem("reason", "required", "请说明不推荐的理由"))
        if any(e["submission_id"] == candidate.submission_id for e in self.entries):
            raise RecommendationConflict(
                Problem("submission_id", "listed", "该成果在推荐目录中，请先移出")
            )
        self.trigger_event(
            self.NotRecommended,
            submission_id=candidate.submission_id,
            reason=reason.strip(),
            **actor.fields(),
        )

    def accept_declaration(
        self, campaign: Campaign, filled_by: str, phone: str, at: datetime, actor: Actor
    ) -> None:
        self.check_open(campaign, at)
        problems = [
            Problem(name, "required", "不能为空")
            for name, value in (("filled_by", filled_by), ("phone", phone))
            if not value.strip()
        ]
        if problems:
            raise InvalidRecommendation(*problems)
        self.trigger_event(
            self.DeclarationAccepted,
            filled_by=filled_by.strip(),
            phone=phone.strip(),
            **actor.fields(),
        )

    def file(self, campaign: Campaign, at: datetime, actor: Actor) -> None:
        self.check_open(campaign, at)
        problems = []
        if self.declaration is None:
            problems.append(Problem("declaration", "required", "请先阅读并接受推荐声明"))
        if not self.entries:
            problems.append(Problem("entries", "required", "推荐目录为空"))
        if not self.reviewers:
            problems.append(Problem("reviewers", "required", "请填写评委名单"))
        if problems:
            raise InvalidRecommendation(*problems)
        self.trigger_event(self.Filed, filed_at=at, **actor.fields())

    def return_to_unit(self, reason: str, actor: Actor) -> None:
        if self.filed_at is None:
            raise RecommendationConflict(Problem("recommendation", "not_filed", "推荐表尚未报送"))
        if not reason.strip():
            raise InvalidRecommendation(Problem("reason", "required", "请说明退回原因"))
        self.trigger_event(self.Returned, reason=reason.strip(), **actor.fields())

    def grant_quota(self, extra: int, reason: str, actor: Actor) -> None:
        problems = quota_grant_problems(extra, reason)
        if problems:
            raise InvalidRecommendation(*problems)
        self.trigger_event(self.QuotaGranted, extra=extra, reason=reason.strip(), **actor.fields())

    def invalidate(self, reason: str, actor: Actor) -> None:
        if self.invalid_reason is not None:
            raise RecommendationConflict(Problem("recommendation", "invalid", "已认定无效"))
        if not reason.strip():
            raise InvalidRecommendation(Problem("reason", "required", "请说明认定推荐无效的原因"))
        self.trigger_event(self.Invalidated, reason=reason.strip(), **actor.fields())

    def decision_on(self, submission_id: UUID) -> tuple[str, str | None]:
        """What this recommendation says of a submission: (recommended | not_recommended |
        invalid | pending, the reason its unit sees)."""
        listed = any(e["submission_id"] == submission_id for e in self.entries)
        if self.invalid_reason is not None and listed:
            return "invalid", self.invalid_reason
        if str(submission_id) in self.not_recommended:
            return "not_recommended", self.not_recommended[str(submission_id)]
        if listed and self.filed_at is not None:
            return "recommended", None
        return "pending", None
