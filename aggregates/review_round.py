"""A round of expert review (初评, 复评, 发表赛) of a campaign: who reviews what (never with a
conflict of interest, and why each excluded reviewer was left out), the score sheets (a correction
is a new sheet naming the one it corrects), and the scores aggregated with their inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.limits import COMMENT_MAX_CHARS, too_long
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem
from aggregates.review_plan import RoundPlan
from aggregates.scoring import Aggregate as AggregatedScore
from aggregates.scoring import Sheet, aggregate, quantize, sheet_problems, total

ROUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/review-round")
PHASE_OF_KIND = {"material": Phase.MATERIAL_REVIEW, "presentation": Phase.PRESENTATION}
PRESENTATION_SECONDS = (60, 3600)
"""The shortest and longest time a contest presentation may be given."""


class ReviewError(DomainError):
    pass


class InvalidReview(ReviewError, InvalidInput):
    pass


class ReviewConflict(ReviewError, Conflict):
    pass


class RoundNotFound(ReviewError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("round", "not_found", "该评审轮次尚未开始"))


@dataclass(frozen=True)
class Entrant:
    """A submission in the round, with what the conflict rules look at."""

    submission_id: UUID
    serial: str
    title: str
    unit_name: str
    credit_code: str
    recommending_unit: str
    rubric: str
    """The rubric's key: the topic type, "team", or "presentation"."""

    def to_state(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "serial": self.serial,
            "title": self.title,
            "unit_name": self.unit_name,
            "credit_code": self.credit_code,
            "recommending_unit": self.recommending_unit,
            "rubric": self.rubric,
        }


@dataclass(frozen=True)
class Panelist:
    """A reviewer of the pool as the conflict rules see them at assignment time."""

    certificate_number: str
    name: str
    work_unit: str
    work_unit_credit_code: str | None
    valid_until: date
    retired: bool
    panels: frozenset[str]
    """Recommending units whose panel (推荐表评委名单) lists this reviewer's certificate."""
    conflicts: tuple[tuple[str, str, str], ...]
    """Declared conflicts: (kind, value, reason)."""

    def exclusion(self, entrant: Mapping[str, Any], on: date) -> str | None:
        """Why this reviewer may not review the entrant, or None."""
        if self.retired:
            return "已退出专家库"
        if self.valid_until < on:
            return f"评审证书有效期至 {self.valid_until.isoformat()}，已过期"
        if entrant["credit_code"] == self.work_unit_credit_code or _same_unit(
            entrant["unit_name"], self.work_unit
        ):
            return "本人工作单位的成果（回避）"
        if entrant["recommending_unit"] in self.panels:
            return f"曾任推荐单位“{entrant['recommending_unit']}”评审组成员（回避）"
        targets = {
            "applicant": entrant["credit_code"],
            "recommending_unit": entrant["recommending_unit"],
            "submission": str(entrant["submission_id"]),
        }
        for kind, value, reason in self.conflicts:
            if targets.get(kind) == value:
                return f"本人申报回避：{reason}"
        return None


@dataclass(frozen=True)
class PaperSheet:
    """A paper score sheet as typed into a row of the 评审汇总表 layout: the result by its
    serial, the judge by certificate number, the scores, and the total the judge wrote."""

    row: int
    serial: str
    reviewer: str
    criteria: dict[str, Decimal]
    total: Decimal | None
    comment: str = ""


def _same_unit(a: str, b: str) -> bool:
    return a.strip() == b.strip() and bool(a.strip())


class ReviewRound(Aggregate):
    class Opened(Aggregate.Created):
        campaign_id: UUID
        code: str
        name_zh: str
        kind: str
        aggregation: str
        reviewers_per_submission: int
        entrants: list[dict[str, Any]]
        rubrics: dict[str, dict[str, int]]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: ReviewRound) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.code = self.code
            aggregate.name_zh = self.name_zh
            aggregate.kind = self.kind
            aggregate.aggregation = self.aggregation
            aggregate.reviewers_per_submission = self.reviewers_per_submission
            aggregate.entrants = {str(e["submission_id"]): dict(e) for e in self.entrants}
            aggregate.rubrics = {k: dict(v) for k, v in self.rubrics.items()}
            aggregate.assignments = {str(e["submission_id"]): [] for e in self.entrants}
            aggregate.exclusions = {}
            aggregate.sheets = {}
            aggregate.current = {}
            aggregate.results = {}
            aggregate.stale = False
            aggregate.closed = False

    class Event(Aggregate.Event):
        """The base of every event of a ReviewRound after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class ReviewerAssigned(Event):
        submission_id: UUID
        reviewer: str
        reviewer_name: str
        how: str
        """manual or auto"""
        excluded: dict[str, str]
        """The reviewers left out for this submission, and why."""

        def apply(self, aggregate: ReviewRound) -> None:
            key = str(self.submission_id)
            aggregate.assignments[key].append(self.reviewer)
            # Kept beside (a snapshot from before has none: names then read as blank).
            vars(aggregate).setdefault("reviewer_names_state", {})[self.reviewer] = (
                self.reviewer_name
            )
            aggregate.exclusions.setdefault(key, {}).update(self.excluded)

    class ReviewerReleased(Event):
        submission_id: UUID
        reviewer: str
        reason: str

        def apply(self, aggregate: ReviewRound) -> None:
            aggregate.assignments[str(self.submission_id)].remove(self.reviewer)

    class SheetFiled(Event):
        sheet_id: UUID
        submission_id: UUID
        reviewer: str
        criteria: dict[str, Decimal]
        total: Decimal
        comment: str
        corrects: UUID | None
        reason: str
        """Why a correction was made; empty for a first sheet."""

        def apply(self, aggregate: ReviewRound) -> None:
            aggregate.sheets[str(self.sheet_id)] = {
                "sheet_id": self.sheet_id,
                "submission_id": self.submission_id,
                "reviewer": self.reviewer,
                "criteria": dict(self.criteria),
                "total": self.total,
                "comment": self.comment,
                "corrects": self.corrects,
                "reason": self.reason,
                # Who entered it: the judge, or the secretariat from a paper sheet.
                "entered_by": self.actor_role,
            }
            aggregate.current[f"{self.submission_id}/{self.reviewer}"] = str(self.sheet_id)
            aggregate.stale = True

    class ScoresAggregated(Event):
        results: dict[str, dict[str, Any]]
        """Per submission: score, counted sheet ids, excluded sheet ids with why, rule, version."""

        def apply(self, aggregate: ReviewRound) -> None:
            aggregate.results = {k: dict(v) for k, v in self.results.items()}
            aggregate.stale = False

    class Closed(Event):
        def apply(self, aggregate: ReviewRound) -> None:
            aggregate.closed = True

    class PresenterCalled(Event):
        """The contest's stage: this entrant presents now, for so many seconds from `at`."""

        submission_id: UUID
        seconds: int
        at: datetime

        def apply(self, aggregate: ReviewRound) -> None:
            # Kept beside (a snapshot from before has none: nobody on stage).
            vars(aggregate)["stage_state"] = {
                "submission_id": str(self.submission_id),
                "seconds": self.seconds,
                "at": self.at,
            }

    class ScoresReleased(Event):
        """The contest's scores of one presentation shown to the room (the big screen)."""

        submission_id: UUID

        def apply(self, aggregate: ReviewRound) -> None:
            vars(aggregate).setdefault("released_state", []).append(str(self.submission_id))

    if TYPE_CHECKING:
        campaign_id: UUID
        code: str
        name_zh: str
        kind: str
        aggregation: str
        reviewers_per_submission: int
        entrants: dict[str, dict[str, Any]]
        rubrics: dict[str, dict[str, int]]
        assignments: dict[str, list[str]]
        exclusions: dict[str, dict[str, str]]
        sheets: dict[str, dict[str, Any]]
        current: dict[str, str]
        """Per "submission/reviewer": the id of the sheet that counts (the latest correction)."""
        results: dict[str, dict[str, Any]]
        stale: bool
        """A sheet was filed since the scores were last aggregated."""
        closed: bool

    @staticmethod
    def create_id(campaign_id: UUID, code: str) -> UUID:
        return uuid5(ROUND_NAMESPACE, f"{campaign_id}/{code}")

    @classmethod
    def open(
        cls, campaign: Campaign, plan: RoundPlan, entrants: list[Entrant], actor: Actor
    ) -> ReviewRound:
        campaign.check_active()
        if not entrants:
            raise InvalidReview(Problem("entrants", "required", "本轮没有参评成果"))
        rubrics = campaign.review_plan.rubrics
        missing = sorted({e.rubric for e in entrants} - set(rubrics))
        if missing:
            raise InvalidReview(
                *(Problem(f"rubrics.{m}", "required", "评审方案缺少该类评分表") for m in missing)
            )
        return cls._create(
            cls.Opened,
            id=cls.create_id(campaign.id, plan.code),
            campaign_id=campaign.id,
            code=plan.code,
            name_zh=plan.name_zh,
            kind=plan.kind,
            aggregation=plan.aggregation,
            reviewers_per_submission=plan.reviewers_per_submission,
            entrants=[e.to_state() for e in entrants],
            rubrics={e.rubric: rubrics[e.rubric] for e in entrants},
            **actor.fields(),
        )

    # Guards.

    def check_open(self) -> None:
        if self.closed:
            raise ReviewConflict(Problem("round", "closed", f"{self.name_zh}已结束"))

    def entrant(self, submission_id: UUID) -> dict[str, Any]:
        found = self.entrants.get(str(submission_id))
        if found is None:
            raise ReviewConflict(Problem("submission_id", "not_in_round", "该成果不在本轮评审中"))
        return found

    # Assignment.

    def assign(self, submission_id: UUID, panelist: Panelist, on: date, actor: Actor) -> None:
        """Assign by hand: refused, with the reason, when the reviewer has a conflict."""
        self.check_open()
        entrant = self.entrant(submission_id)
        reason = panelist.exclusion(entrant, on)
        if reason is not None:
            raise ReviewConflict(Problem("certificate_number", "conflict_of_interest", reason))
        if panelist.certificate_number in self.assignments[str(submission_id)]:
            raise ReviewConflict(Problem("certificate_number", "already_assigned", "已分配该评委"))
        self.trigger_event(
            self.ReviewerAssigned,
            submission_id=submission_id,
            reviewer=panelist.certificate_number,
            reviewer_name=panelist.name,
            how="manual",
            excluded={},
            **actor.fields(),
        )

    def assign_automatically(self, panelists: Iterable[Panelist], on: date, actor: Actor) -> int:
        """Fill every submission up to N reviewers, the least loaded first, never a conflicted
        one; all or nothing. Answers how many assignments were made."""
        self.check_open()
        pool = list(panelists)
        load = {p.certificate_number: 0 for p in pool}
        for reviewers in self.assignments.values():
            for reviewer in reviewers:
                load[reviewer] = load.get(reviewer, 0) + 1
        planned: list[tuple[str, Panelist, dict[str, str]]] = []
        short: list[Problem] = []
        for key, entrant in sorted(self.entrants.items(), key=lambda kv: kv[1]["serial"]):
            taken = set(self.assignments[key])
            needed = self.reviewers_per_submission - len(taken)
            if needed <= 0:
                continue
            excluded = {}
            eligible = []
            for p in pool:
                if p.certificate_number in taken:
                    continue
                reason = p.exclusion(entrant, on)
                if reason is None:
                    eligible.append(p)
                else:
                    excluded[p.certificate_number] = reason
            eligible.sort(key=lambda p: (load[p.certificate_number], _spread(key, p)))
            if len(eligible) < needed:
                short.append(
                    Problem(
                        f"submissions.{entrant['serial']}",
                        "not_enough_reviewers",
                        f"可分配的评委不足：需 {needed} 人，无利益冲突的仅 {len(eligible)} 人",
                    )
                )
                continue
            for p in eligible[:needed]:
                load[p.certificate_number] += 1
                planned.append((key, p, excluded))
        if short:
            raise ReviewConflict(*short)
        for key, p, excluded in planned:
            self.trigger_event(
                self.ReviewerAssigned,
                submission_id=self.entrants[key]["submission_id"],
                reviewer=p.certificate_number,
                reviewer_name=p.name,
                how="auto",
                excluded=excluded,
                **actor.fields(),
            )
        return len(planned)

    def release(self, submission_id: UUID, reviewer: str, reason: str, actor: Actor) -> None:
        self.check_open()
        self.entrant(submission_id)
        if reviewer not in self.assignments[str(submission_id)]:
            raise ReviewConflict(Problem("certificate_number", "not_assigned", "未分配该评委"))
        if f"{submission_id}/{reviewer}" in self.current:
            raise ReviewConflict(
                Problem("certificate_number", "sheet_filed", "该评委已提交评分表，不能撤换")
            )
        if not reason.strip():
            raise InvalidReview(Problem("reason", "required", "请说明撤换原因"))
        self.trigger_event(
            self.ReviewerReleased,
            submission_id=submission_id,
            reviewer=reviewer,
            reason=reason.strip(),
            **actor.fields(),
        )

    # Score sheets.

    def file_sheet(
        self,
        campaign: Campaign,
        *,
        sheet_id: UUID,
        submission_id: UUID,
        reviewer: str,
        criteria: Mapping[str, Decimal],
        comment: str,
        corrects: UUID | None,
        reason: str,
        at: datetime,
        actor: Actor,
    ) -> None:
        """A reviewer's score sheet; a correction names the sheet it replaces."""
        self.check_open()
        phase = PHASE_OF_KIND[self.kind]
        if phase in campaign.timeline:
            campaign.check_phase_open(phase, at)
        entrant = self.entrant(submission_id)
        if reviewer not in self.assignments[str(submission_id)]:
            raise ReviewConflict(Problem("submission_id", "not_assigned", "该成果未分配给您评审"))
        current = self.current.get(f"{submission_id}/{reviewer}")
        if corrects is None and current is not None:
            raise ReviewConflict(
                Problem("corrects", "already_filed", "已提交评分表；更正须注明被更正的评分表")
            )
        if corrects is not None and str(corrects) != current:
            raise ReviewConflict(
                Problem("corrects", "not_current", "只能更正本人对该成果的最新评分表")
            )
        found = [
            Problem(field, rule, message)
            for field, rule, message in sheet_problems(self.rubrics[entrant["rubric"]], criteria)
        ]
        if corrects is not None and not reason.strip():
            found.append(Problem("reason", "required", "请说明更正原因"))
        found += too_long("comment", comment, COMMENT_MAX_CHARS, "评语")
        if found:
            raise InvalidReview(*found)
        self.trigger_event(
            self.SheetFiled,
            sheet_id=sheet_id,
            submission_id=submission_id,
            reviewer=reviewer,
            criteria=dict(criteria),
            total=total(criteria),
            comment=comment.strip(),
            corrects=corrects,
            reason=reason.strip(),
            **actor.fields(),
        )

    def file_paper_sheets(
        self,
        campaign: Campaign,
        sheets: Iterable[PaperSheet],
        ids: Iterable[UUID],
        at: datetime,
        actor: Actor,
    ) -> list[Problem]:
        """Paper sheets entered by the secretariat for the named judges (the actor records who
        entered them). Every row is checked; answers each refused row's problems, named
        `rows.<row>.<field>`: the caller saves nothing when there are any."""
        by_serial = {e["serial"]: e for e in self.entrants.values()}
        found: list[Problem] = []
        for sheet, sheet_id in zip(sheets, ids, strict=True):
            where = f"rows.{sheet.row}"
            entrant = by_serial.get(sheet.serial.strip())
            if entrant is None:
                found.append(Problem(f"{where}.serial", "not_in_round", "该申报编号不在本轮评审中"))
                continue
            typed = total(sheet.criteria)
            if sheet.total is not None and quantize(sheet.total) != typed:
                found.append(
                    Problem(
                        f"{where}.total",
                        "total_mismatch",
                        f"合计 {sheet.total} 与各项之和 {typed} 不符",
                    )
                )
            try:
                self.file_sheet(
                    campaign,
                    sheet_id=sheet_id,
                    submission_id=entrant["submission_id"],
                    reviewer=sheet.reviewer.strip(),
                    criteria=sheet.criteria,
                    comment=sheet.comment,
                    corrects=None,
                    reason="",
                    at=at,
                    actor=actor,
                )
            except ReviewError as refused:
                found += [
                    Problem(f"{where}.{_column(p.field)}", p.rule, p.message)
                    for p in refused.problems
                ]
        return found

    def reviewer_names(self) -> dict[str, str]:
        """Each assigned reviewer's name, as when assigned."""
        return dict(vars(self).get("reviewer_names_state", {}))

    def current_sheets(self) -> list[Sheet]:
        """The sheets that count: the latest of each reviewer for each submission."""
        return [
            Sheet(
                sheet_id,
                self.sheets[sheet_id]["reviewer"],
                str(self.sheets[sheet_id]["submission_id"]),
                self.sheets[sheet_id]["total"],
            )
            for sheet_id in self.current.values()
        ]

    def missing_sheets(self) -> list[tuple[str, str]]:
        return [
            (key, reviewer)
            for key, reviewers in self.assignments.items()
            for reviewer in reviewers
            if f"{key}/{reviewer}" not in self.current
        ]

    # Aggregation and close.

    def aggregate_scores(self, actor: Actor) -> None:
        """Each submission's score by the round's rule, recorded with what counted and why."""
        self.check_open()
        self._check_no_missing_sheets()
        sheets = self.current_sheets()
        results = {}
        for key in self.entrants:
            mine = [s for s in sheets if s.submission_id == key]
            result = aggregate(self.aggregation, mine, sheets)
            superseded = {
                sheet_id: "已被更正"
                for sheet_id, sheet in self.sheets.items()
                if str(sheet["submission_id"]) == key and sheet_id not in self.current.values()
            }
            results[key] = {
                "score": result.score,
                "counted": list(result.counted),
                "excluded": {**superseded, **result.excluded},
                "rule": result.rule,
                "version": result.version,
            }
        self.trigger_event(self.ScoresAggregated, results=results, **actor.fields())

    def _check_no_missing_sheets(self) -> None:
        unassigned = [e["serial"] for k, e in self.entrants.items() if not self.assignments[k]]
        if unassigned:
            raise ReviewConflict(
                *(
                    Problem(f"assignments.{serial}", "unassigned", "尚未分配评委")
                    for serial in sorted(unassigned)[:20]
                )
            )
        missing = self.missing_sheets()
        if missing:
            raise ReviewConflict(
                *(
                    Problem(
                        f"sheets.{self.entrants[key]['serial']}.{reviewer}",
                        "missing",
                        "评分表尚未提交",
                    )
                    for key, reviewer in missing[:20]
                )
            )

    def close(self, actor: Actor) -> None:
        self.check_open()
        if not self.results or self.stale:
            raise ReviewConflict(Problem("round", "not_aggregated", "请先汇总最新的评分"))
        # A reviewer assigned since the last aggregation has yet to file: once closed, never.
        self._check_no_missing_sheets()
        self.trigger_event(self.Closed, **actor.fields())

    # The live contest (发表赛): who is on stage, and the scores released to the room.

    def running_order(self) -> list[dict[str, Any]]:
        """The contest's entrants in the order they present: by serial."""
        return sorted(self.entrants.values(), key=lambda e: (e["serial"], str(e["submission_id"])))

    def on_stage(self) -> dict[str, Any] | None:
        """Who presents now: the entrant, the seconds allowed and when they were called."""
        stage = vars(self).get("stage_state")
        return dict(stage) if stage else None

    def released(self) -> list[str]:
        """The submissions whose contest scores the secretariat has released, in that order."""
        return list(vars(self).get("released_state", []))

    def after_on_stage(self) -> UUID | None:
        """The next entrant in the running order after the one on stage (the first if nobody
        has presented yet); None after the last."""
        order = [e["submission_id"] for e in self.running_order()]
        stage = self.on_stage()
        if stage is None:
            return order[0] if order else None
        keys = [str(s) for s in order]
        at = keys.index(stage["submission_id"]) if stage["submission_id"] in keys else -1
        return order[at + 1] if at + 1 < len(order) else None

    def check_contest(self) -> None:
        self.check_open()
        if self.kind != "presentation":
            raise ReviewConflict(Problem("round", "not_a_contest", "只有发表赛有上台顺序"))

    def call_presenter(self, submission_id: UUID, seconds: int, at: datetime, actor: Actor) -> None:
        """Put an entrant on stage, with the time the presentation is allowed."""
        self.check_contest()
        self.entrant(submission_id)
        if not PRESENTATION_SECONDS[0] <= seconds <= PRESENTATION_SECONDS[1]:
            raise InvalidReview(Problem("minutes", "range", "发表时间应在 1 至 60 分钟之间"))
        self.trigger_event(
            self.PresenterCalled,
            submission_id=submission_id,
            seconds=seconds,
            at=at,
            **actor.fields(),
        )

    def release_scores(self, submission_id: UUID, actor: Actor) -> None:
        """Show one presentation's scores to the room: only once every judge has filed."""
        self.check_contest()
        self.entrant(submission_id)
        if str(submission_id) in self.released():
            raise ReviewConflict(Problem("submission_id", "already_released", "该成果的得分已公布"))
        waiting = [
            r
            for r in self.assignments[str(submission_id)]
            if f"{submission_id}/{r}" not in self.current
        ]
        if waiting or not self.assignments[str(submission_id)]:
            raise ReviewConflict(
                Problem(
                    "submission_id",
                    "sheets_missing",
                    f"尚有 {len(waiting)} 位评委未提交评分表，不能公布得分",
                )
            )
        self.trigger_event(self.ScoresReleased, submission_id=submission_id, **actor.fields())

    def presentation_score(self, submission_id: UUID | str) -> AggregatedScore:
        """One presentation's score by the round's rule over its current sheets (the trimmed
        mean drops the highest and the lowest), with what counted and what was dropped."""
        key = str(submission_id)
        sheets = self.current_sheets()
        return aggregate(self.aggregation, [s for s in sheets if s.submission_id == key], sheets)

    def score(self, submission_id: UUID | str) -> Decimal | None:
        result = self.results.get(str(submission_id))
        return None if result is None else result["score"]


def _column(field: str) -> str:
    """A sheet's field as the column of the import it came from."""
    return "reviewer" if field in ("submission_id", "corrects") else field


def _spread(key: str, panelist: Panelist) -> str:
    """A stable, per-submission order among equally loaded reviewers, so the same few are not
    always first."""
    return hashlib.sha256(f"{key}/{panelist.certificate_number}".encode()).hexdigest()
