"""The ledger's review commands: formal review, the reviewer pool, expert rounds, grading, public
notice and publication. One class of `AssociationLedger`, over `LedgerBase` (ledger_base.py)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from aggregates.actor import Actor
from aggregates.campaign import (
    REHEARSAL_CODE_MARK,
    Campaign,
    CampaignConflict,
    CampaignNotFound,
    InvalidCampaign,
    Phase,
    Programme,
)
from aggregates.expert import (
    Expert,
    ExpertConflict,
    ExpertNotFound,
    ExpertProfile,
    InvalidExpert,
)
from aggregates.grading import (
    Grading,
    GradingNotFound,
    Standing,
    material_scores,
    rank_and_grade,
)
from aggregates.intake import Intake
from aggregates.ledger.base import BEIJING, LedgerBase, retrying
from aggregates.problems import DomainError, Problem, VersionConflict
from aggregates.recommendation import Recommendation
from aggregates.review_plan import ReviewPlan, RoundPlan
from aggregates.review_round import (
    Entrant,
    InvalidReview,
    Panelist,
    PaperSheet,
    ReviewConflict,
    ReviewRound,
    RoundNotFound,
)
from aggregates.submission import (
    DIRECT_CHANNEL,
    InvalidSubmission,
    Submission,
    SubmissionConflict,
    SubmissionNotFound,
)
from aggregates.submission_register import (
    PROGRAMME_CODES,
    ResultsCount,
    SubmissionRegister,
    below_minimum,
    check_results_minimum,
    results_count,
)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Verification code characters: no 0/O, 1/I/L, so a code read off paper is typed right."""


def certificate_prefix(tenant: str, year: int, programme_code: str) -> str:
    return f"{tenant.upper()}-{year}-{programme_code}"


def parse_certificate_code(code: str) -> tuple[str, int, str] | None:
    """(tenant, year, programme code) of a verification code like SAQ-2024-QC-7K3MQ9XD."""
    parts = code.strip().upper().split("-")
    if is_rehearsal_code(code):
        del parts[3]
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    return parts[0].lower(), int(parts[1]), parts[2]


def is_rehearsal_code(code: str) -> bool:
    """A sample certificate's code, issued in a rehearsal: SAQ-2026-QC-YL-7K3MQ9XD (ADR 36)."""
    parts = code.strip().upper().split("-")
    return len(parts) == 5 and parts[3] == REHEARSAL_CODE_MARK


class ReviewCommands(LedgerBase):
    """Commands of the secretariat and the experts from formal review to publication."""

    def _today(self) -> date:
        return self.clock().astimezone(BEIJING).date()

    # Plan and formal review.

    def plan_review(
        self,
        campaign_id: UUID,
        plan: ReviewPlan,
        grades: set[str],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Campaign:
        return self._update(
            campaign_id,
            Campaign,
            lambda: CampaignNotFound(campaign_id),
            expected_version,
            lambda c: c.plan_review(plan, grades, self.clock(), actor),
        ).aggregate

    def review_formally(
        self,
        submission_id: UUID,
        decision: str,
        checklist: dict[str, bool],
        reason: str,
        items: list[str],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        def review(submission: Submission) -> None:
            campaign = self.get_campaign(submission.campaign_id)
            campaign.check_active()
            if Phase.FORMAL_REVIEW in campaign.timeline:
                campaign.check_phase_open(Phase.FORMAL_REVIEW, self.clock())
            _check_recommended(self, submission)
            if decision == "pass" and submission.received_from is None:
                check_results_minimum(campaign, self._register(campaign), submission.credit_code)
            submission.review_formally(
                decision, checklist, campaign.review_plan.checklist, reason, items, actor
            )

        return self._update(
            submission_id,
            Submission,
            SubmissionNotFound,
            expected_version,
            review,
        ).aggregate

    def review_formally_in_bulk(
        self, campaign_id: UUID, submission_ids: Sequence[UUID], actor: Actor
    ) -> list[Submission]:
        """Formal review of several results at once, every checklist item met: each passes by its
        own event, all saved together or none (each refusal named by its place in the list)."""
        if not submission_ids:
            raise InvalidSubmission(Problem("submissions", "required", "请选择要审查的成果"))
        if len(set(submission_ids)) != len(submission_ids):
            raise InvalidSubmission(Problem("submissions", "unique", "成果重复"))

        def attempt() -> list[Submission]:
            campaign = self.get_campaign(campaign_id)
            campaign.check_active()
            if Phase.FORMAL_REVIEW in campaign.timeline:
                campaign.check_phase_open(Phase.FORMAL_REVIEW, self.clock())
            met = dict.fromkeys(campaign.review_plan.checklist, True)
            reviewed: list[Submission] = []
            problems: list[Problem] = []
            for i, submission_id in enumerate(submission_ids):
                submission = self._find(submission_id, Submission)
                if submission is None or submission.campaign_id != campaign_id:
                    problems.append(Problem(f"submissions[{i}]", "not_found", "本活动没有该成果"))
                    continue
                try:
                    _check_recommended(self, submission)
                    submission.review_formally(
                        "pass", met, campaign.review_plan.checklist, "", [], actor
                    )
                except DomainError as refused:
                    problems += [
                        Problem(f"submissions[{i}]", p.rule, p.message) for p in refused.problems
                    ]
                    continue
                reviewed.append(submission)
            if problems:
                raise SubmissionConflict(*problems)
            self._save(*reviewed)
            return reviewed

        return retrying(attempt)

    def _register(self, campaign: Campaign) -> SubmissionRegister | None:
        return self._find(SubmissionRegister.create_id(campaign.id), SubmissionRegister)

    def results_count(self, campaign_id: UUID, credit_code: str) -> ResultsCount:
        """The least-results item of formal review (and of the unit's own page): the applicant
        unit's filed results against the campaign's minimum, and whether it blocks a pass."""
        campaign = self.get_campaign(campaign_id)
        return results_count(campaign, self._register(campaign), credit_code)

    def below_minimum(self, campaign_id: UUID) -> list[ResultsCount]:
        """The applicant units of the campaign with fewer filed results than its minimum."""
        campaign = self.get_campaign(campaign_id)
        return below_minimum(campaign, self._register(campaign))

    # The reviewer pool.

    def enrol_expert(self, profile: ExpertProfile, actor: Actor) -> Expert:
        expert = Expert.enrol(self.tenant, profile, actor)
        if self._find(expert.id, Expert) is not None:
            raise ExpertConflict(
                Problem("certificate.number", "already_enrolled", "该证书编号已在专家库中")
            )
        try:
            self._save(expert)
        except IntegrityError:
            raise ExpertConflict(
                Problem("certificate.number", "already_enrolled", "该证书编号已在专家库中")
            ) from None
        return expert

    def enrol_experts(
        self,
        rows: Sequence[tuple[int, ExpertProfile]],
        actor: Actor,
        unread: Sequence[Problem] = (),
    ) -> list[Expert]:
        """A pool imported at once (its rows numbered as the file numbers them): every row
        checked, each one's problems named `rows[n].<field>`, and all enrolled together or none
        (`unread`: the problems of rows that could not even be read, refused with the rest)."""
        problems = list(unread)
        experts: list[Expert] = []
        seen: set[str] = set()
        for row, profile in rows:
            number = profile.certificate.number.strip()
            found = [
                Problem(f"rows[{row}].{p.field}", p.rule, p.message) for p in profile.problems()
            ]
            if number in seen:
                found.append(
                    Problem(f"rows[{row}].certificate.number", "unique", "与前面的行证书编号重复")
                )
            elif number and self._find(Expert.create_id(self.tenant, number), Expert) is not None:
                found.append(
                    Problem(
                        f"rows[{row}].certificate.number",
                        "already_enrolled",
                        "该证书编号已在专家库中",
                    )
                )
            seen.add(number)
            if found:
                problems += found
                continue
            experts.append(Expert.enrol(self.tenant, profile, actor))
        if not rows and not problems:
            problems.append(Problem("rows", "required", "文件中没有专家"))
        if problems:
            raise InvalidExpert(*sorted(problems, key=_row_order))
        try:
            self._save(*experts)
        except IntegrityError:
            raise ExpertConflict(
                Problem("rows", "already_enrolled", "导入时另有人录入了同一证书编号，请重试")
            ) from None
        return experts

    def get_expert(self, certificate_number: str) -> Expert:
        found = self._find(Expert.create_id(self.tenant, certificate_number), Expert)
        if found is None:
            raise ExpertNotFound()
        return found

    def change_expert(
        self, certificate_number: str, profile: ExpertProfile, actor: Actor
    ) -> Expert:
        return _change_expert(
            self,
            certificate_number,
            lambda e: e.change_profile(profile, actor),
        )

    def declare_conflict(
        self, certificate_number: str, kind: str, value: str, reason: str, actor: Actor
    ) -> Expert:
        return _change_expert(
            self,
            certificate_number,
            lambda e: e.declare_conflict(kind, value, reason, actor),
        )

    def retire_expert(self, certificate_number: str, reason: str, actor: Actor) -> Expert:
        return _change_expert(
            self,
            certificate_number,
            lambda e: e.retire(reason, actor),
        )

    def panelists(self, campaign_id: UUID, certificate_numbers: Iterable[str]) -> list[Panelist]:
        """The reviewers' conflict facts, read from the write side: their pool records and the
        campaign's recommendation rosters (each roster read once)."""
        units = self.facts.units
        rosters = [
            (unit, {r["certificate_number"] for r in recommendation.reviewers})
            for unit in units
            if (
                recommendation := self._find(
                    Recommendation.create_id(campaign_id, unit), Recommendation
                )
            )
        ] + [
            # A member association's forwarded panels (national review).
            (unit, intake.roster_numbers)
            for unit in units
            if (intake := self._find(Intake.create_id(campaign_id, unit), Intake))
        ]
        found = []
        for number in dict.fromkeys(certificate_numbers):
            expert = self._find(Expert.create_id(self.tenant, number), Expert)
            if expert is None:
                raise ExpertNotFound()
            profile = expert.profile
            found.append(
                Panelist(
                    certificate_number=expert.certificate_number,
                    name=expert.name,
                    work_unit=profile["work_unit"],
                    work_unit_credit_code=profile["work_unit_credit_code"],
                    valid_until=profile["certificate"]["valid_until"],
                    retired=expert.retired_reason is not None,
                    panels=frozenset(
                        u for u, roster in rosters if expert.certificate_number in roster
                    ),
                    conflicts=tuple((c["kind"], c["value"], c["reason"]) for c in expert.conflicts),
                )
            )
        return found

    # Rounds.

    def open_round(
        self,
        campaign_id: UUID,
        code: str,
        submissions: list[UUID] | None,
        top: int | None,
        actor: Actor,
    ) -> ReviewRound:
        """Open a round of the plan. Its entrants: those named; else the top N of the rounds
        before; else (the first material round) every submission that passed formal review."""
        campaign = self.get_campaign(campaign_id)
        round_plan, entrants = self.round_entrants(campaign, code, submissions, top)
        review_round = ReviewRound.open(campaign, round_plan, entrants, actor)
        try:
            self._save(review_round)
        except IntegrityError:
            raise ReviewConflict(
                Problem("round", "already_opened", f"{round_plan.name_zh}已开始")
            ) from None
        return review_round

    def round_entrants(
        self,
        campaign: Campaign,
        code: str,
        submissions: list[UUID] | None,
        top: int | None,
    ) -> tuple[RoundPlan, list[Entrant]]:
        """Who would enter the round, by the rule of `open_round` (shown before it is opened)."""
        plan = campaign.review_plan
        round_plan = plan.round(code)
        if round_plan is None:
            raise InvalidCampaign(Problem("round", "not_planned", "评审方案中没有该轮次"))
        if self._find(ReviewRound.create_id(campaign.id, code), ReviewRound) is not None:
            raise ReviewConflict(Problem("round", "already_opened", f"{round_plan.name_zh}已开始"))
        passed = _passed_formal_review(self, campaign)
        earlier = _earlier_rounds(self, campaign, round_plan)
        if submissions is not None:
            unknown = [s for s in submissions if s not in passed]
            if unknown:
                raise ReviewConflict(
                    Problem("submissions", "not_passed", "所列成果须已通过形式审查")
                )
            chosen = list(dict.fromkeys(submissions))
        elif top is not None:
            if not earlier:
                raise InvalidCampaign(Problem("top", "no_earlier_round", "前面没有已结束的轮次"))
            scores = _material_scores(earlier)
            ranked = sorted(scores, key=lambda s: (-scores[s], str(s)))
            chosen = [s for s in ranked if s in passed][:top]
        else:
            chosen = list(passed)
        entrants = [
            _entrant(passed[s], "presentation" if round_plan.kind == "presentation" else None)
            for s in chosen
        ]
        return round_plan, entrants

    def get_round(self, campaign_id: UUID, code: str, version: int | None = None) -> ReviewRound:
        found = self._find(ReviewRound.create_id(campaign_id, code), ReviewRound, version)
        if found is None:
            raise RoundNotFound()
        return found

    def assign_reviewer(
        self,
        campaign_id: UUID,
        code: str,
        submission_id: UUID,
        certificate_number: str,
        actor: Actor,
    ) -> ReviewRound:
        (panelist,) = self.panelists(campaign_id, [certificate_number])
        return _change_round(
            self,
            campaign_id,
            code,
            lambda r: r.assign(submission_id, panelist, self._today(), actor),
        )

    def assign_automatically(
        self,
        campaign_id: UUID,
        code: str,
        certificate_numbers: Iterable[str],
        actor: Actor,
    ) -> ReviewRound:
        panel = self.panelists(campaign_id, certificate_numbers)
        if not panel:
            raise InvalidCampaign(Problem("reviewers", "required", "请选择本轮评委"))
        return _change_round(
            self,
            campaign_id,
            code,
            lambda r: _ignore(r.assign_automatically(panel, self._today(), actor)),
        )

    def release_reviewer(
        self,
        campaign_id: UUID,
        code: str,
        submission_id: UUID,
        certificate_number: str,
        reason: str,
        actor: Actor,
    ) -> ReviewRound:
        return _change_round(
            self,
            campaign_id,
            code,
            lambda r: r.release(submission_id, certificate_number, reason, actor),
        )

    def file_sheet(
        self,
        campaign_id: UUID,
        code: str,
        *,
        submission_id: UUID,
        reviewer: str,
        criteria: Mapping[str, Decimal],
        comment: str,
        corrects: UUID | None,
        reason: str,
        actor: Actor,
        sheet_id: UUID | None = None,
    ) -> tuple[ReviewRound, UUID]:
        new_id = sheet_id or uuid4()
        campaign = self.get_campaign(campaign_id)
        saved = _change_round(
            self,
            campaign_id,
            code,
            lambda r: r.file_sheet(
                campaign,
                sheet_id=new_id,
                submission_id=submission_id,
                reviewer=reviewer,
                criteria=criteria,
                comment=comment,
                corrects=corrects,
                reason=reason,
                at=self.clock(),
                actor=actor,
            ),
        )
        return saved, new_id

    def import_paper_sheets(
        self,
        campaign_id: UUID,
        code: str,
        sheets: list[PaperSheet],
        refused: list[Problem],
        actor: Actor,
    ) -> ReviewRound:
        """Paper sheets of a round entered at once by the secretariat, all or nothing: any row
        refused (here, or already by the file's reader: `refused`) and none is stored."""
        campaign = self.get_campaign(campaign_id)
        ids = [uuid4() for _ in sheets]

        def enter(review_round: ReviewRound) -> None:
            review_round.check_open()
            found = review_round.file_paper_sheets(campaign, sheets, ids, self.clock(), actor)
            problems = sorted([*refused, *found], key=_row_order)
            if problems:
                raise InvalidReview(*problems)
            if not sheets:
                raise InvalidReview(Problem("rows", "required", "文件中没有已填写的评分表"))

        return _change_round(self, campaign_id, code, enter)

    def aggregate_round(self, campaign_id: UUID, code: str, actor: Actor) -> ReviewRound:
        return _change_round(
            self,
            campaign_id,
            code,
            lambda r: r.aggregate_scores(actor),
        )

    def close_round(self, campaign_id: UUID, code: str, actor: Actor) -> ReviewRound:
        return _change_round(
            self,
            campaign_id,
            code,
            lambda r: r.close(actor),
        )

    # The live contest (发表赛).

    def call_presenter(
        self,
        campaign_id: UUID,
        code: str,
        submission_id: UUID | None,
        seconds: int,
        actor: Actor,
    ) -> ReviewRound:
        """Put an entrant of the contest on stage (None: the next in the running order)."""

        def call(r: ReviewRound) -> None:
            chosen = submission_id or r.after_on_stage()
            if chosen is None:
                raise ReviewConflict(Problem("submission_id", "last_done", "已是最后一位"))
            r.call_presenter(chosen, seconds, self.clock(), actor)

        return _change_round(self, campaign_id, code, call)

    def release_scores(
        self, campaign_id: UUID, code: str, submission_id: UUID, actor: Actor
    ) -> ReviewRound:
        return _change_round(
            self, campaign_id, code, lambda r: r.release_scores(submission_id, actor)
        )

    # Grading, public notice, publication.

    def grade_campaign(self, campaign_id: UUID, actor: Actor) -> Grading:
        """Grades from the closed rounds: a result's material score is its score in the last
        material round it was reviewed in; its presentation score, the contest's."""
        campaign = self.get_campaign(campaign_id)
        campaign.check_stage(Phase.GRADING, self.clock())
        rounds = [
            r
            for p in campaign.review_plan.rounds
            if (r := self._find(ReviewRound.create_id(campaign_id, p.code), ReviewRound))
        ]
        open_ones = [r.name_zh for r in rounds if not r.closed]
        if open_ones or not rounds:
            raise CampaignConflict(
                Problem("rounds", "not_closed", f"评审尚未结束：{'、'.join(open_ones) or '未开始'}")
            )
        material = _material_scores([r for r in rounds if r.kind == "material"])
        contest = next((r for r in rounds if r.kind == "presentation"), None)
        standings = []
        for submission_id, score in material.items():
            submission = self.get_submission(submission_id)
            presentation = contest.score(submission_id) if contest is not None else None
            standings.append(standing_of(submission, score, presentation))
        grade_names = self.facts.grade_names(campaign.programme)
        entries = rank_and_grade(standings, campaign.review_plan, grade_names)
        used = {r.code: f"{r.name_zh}（{r.kind}，{r.aggregation}）" for r in rounds}
        existing = self._find(Grading.create_id(campaign_id), Grading)
        if existing is None:
            grading = Grading.grade(campaign, entries, used, actor)
        else:
            grading = existing
            grading.regrade(campaign, entries, used, actor)
        self._save(grading)
        return grading

    def get_grading(self, campaign_id: UUID, version: int | None = None) -> Grading:
        found = self._find(Grading.create_id(campaign_id), Grading, version)
        if found is None:
            raise GradingNotFound()
        return found

    def override_grade(
        self,
        campaign_id: UUID,
        submission_id: UUID,
        grade: str | None,
        reason: str,
        actor: Actor,
    ) -> Grading:
        campaign = self.get_campaign(campaign_id)
        return _change_grading(
            self,
            campaign_id,
            lambda g: g.override(campaign, submission_id, grade, reason, actor),
        )

    def open_notice(self, campaign_id: UUID, actor: Actor) -> Grading:
        campaign = self.get_campaign(campaign_id)
        return _change_grading(
            self,
            campaign_id,
            lambda g: g.open_notice(campaign, self.clock(), actor),
        )

    def file_objection(
        self, campaign_id: UUID, submission_id: UUID, reasons: str, actor: Actor
    ) -> tuple[Grading, UUID]:
        objection_id = uuid4()
        saved = _change_grading(
            self,
            campaign_id,
            lambda g: g.file_objection(objection_id, submission_id, reasons, self.clock(), actor),
        )
        return saved, objection_id

    def check_objection(self, campaign_id: UUID, submission_id: UUID, reasons: str) -> None:
        """Refuses, as filing would, an objection that could not be filed now (nothing stored):
        the public notice page checks before it mails the confirmation code."""
        self.get_grading(campaign_id).check_objection(submission_id, reasons, self.clock())

    def file_public_objection(
        self,
        campaign_id: UUID,
        submission_id: UUID,
        reasons: str,
        objector: tuple[str, str, str],
        actor: Actor,
    ) -> tuple[Grading, UUID]:
        """A member of the public's objection, its e-mail address confirmed (by the caller)."""
        objection_id = uuid4()
        saved = _change_grading(
            self,
            campaign_id,
            lambda g: g.file_public_objection(
                objection_id, submission_id, reasons, objector, self.clock(), actor
            ),
        )
        return saved, objection_id

    def resolve_objection(
        self,
        campaign_id: UUID,
        objection_id: UUID,
        decision: str,
        reason: str,
        grade_changed: bool,
        grade: str | None,
        actor: Actor,
    ) -> Grading:
        campaign = self.get_campaign(campaign_id)
        return _change_grading(
            self,
            campaign_id,
            lambda g: g.resolve_objection(
                campaign, objection_id, decision, reason, grade_changed, grade, actor
            ),
        )

    def close_notice(self, campaign_id: UUID, actor: Actor) -> Grading:
        return _change_grading(
            self,
            campaign_id,
            lambda g: g.close_notice(self.clock(), actor),
        )

    def publish_with_certificates(
        self,
        campaign_id: UUID,
        actor: Actor,
        expected_version: int | None,
    ) -> tuple[Campaign, Grading, int | None]:
        """Publication: the campaign's results published and a certificate per graded result,
        both in one transaction; answers where the last event sits in the log."""
        campaign = self.get_campaign(campaign_id)
        if expected_version is not None and expected_version != campaign.version:
            raise VersionConflict(expected_version, campaign.version)
        grading = self._find(Grading.create_id(campaign_id), Grading)
        if grading is None:
            raise GradingNotFound()
        prefix = certificate_prefix(
            campaign.tenant, campaign.year, PROGRAMME_CODES[campaign.programme]
        )
        if campaign.is_rehearsal:
            prefix = f"{prefix}-{REHEARSAL_CODE_MARK}"
        codes = {str(e["submission_id"]): f"{prefix}-{_random_code()}" for e in grading.graded()}
        at = self.clock()
        campaign.publish_results(at, actor, graded=True)
        grading.issue_certificates(codes, at.astimezone(BEIJING).date(), actor)
        grade_names = self.facts.grade_names(campaign.programme)
        received = _outcomes_to_send(self, campaign, grading, grade_names, actor)
        try:
            position = self._save(campaign, grading, *received)
        except IntegrityError:
            raise VersionConflict(campaign.version - 1, campaign.version) from None
        return campaign, grading, position

    def verify_certificate(self, code: str) -> tuple[Campaign, dict[str, Any]] | None:
        """The campaign and the result a verification code was issued for, if any (a sample's, in
        a rehearsal not deleted, for the caller to say it is not verifiable)."""
        found = self._certified(code)
        if found is None:
            return None
        campaign, grading, submission_id = found
        return campaign, grading.entries[submission_id]

    def certificate_holder(self, code: str) -> UUID | None:
        """The submission a verification code was issued for, if any (the auditor's search)."""
        found = self._certified(code)
        return UUID(found[2]) if found else None

    def _certified(self, code: str) -> tuple[Campaign, Grading, str] | None:
        parsed = parse_certificate_code(code)
        if parsed is None or parsed[0] != self.tenant:
            return None
        _, year, programme_code = parsed
        for programme, known in PROGRAMME_CODES.items():
            if known != programme_code:
                continue
            campaigns = (
                [c for c in self.rehearsals(programme, year) if not c.is_deleted]
                if is_rehearsal_code(code)
                else [self._find(Campaign.create_id(self.tenant, programme, year), Campaign)]
            )
            for campaign in campaigns:
                grading = campaign and self._find(Grading.create_id(campaign.id), Grading)
                holder = grading.holder(code.strip().upper()) if grading else None
                if campaign is not None and grading and holder is not None:
                    return campaign, grading, holder
        return None


def _change_expert(
    ledger: LedgerBase, certificate_number: str, command: Callable[[Expert], None]
) -> Expert:
    expert_id = Expert.create_id(ledger.tenant, certificate_number)
    return ledger._update(expert_id, Expert, ExpertNotFound, None, command).aggregate


def _change_round(
    ledger: LedgerBase, campaign_id: UUID, code: str, command: Callable[[ReviewRound], None]
) -> ReviewRound:
    round_id = ReviewRound.create_id(campaign_id, code)
    return ledger._update(round_id, ReviewRound, RoundNotFound, None, command).aggregate


def _change_grading(
    ledger: LedgerBase, campaign_id: UUID, command: Callable[[Grading], None]
) -> Grading:
    grading_id = Grading.create_id(campaign_id)
    return ledger._update(grading_id, Grading, GradingNotFound, None, command).aggregate


def _ignore(_: object) -> None:
    """For commands whose answer the caller does not need."""


def _random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _row_order(problem: Problem) -> tuple[int, str]:
    """Problems of an imported file in the order of its rows (`rows[3].name`, `rows.3.total`)."""
    found = re.match(r"rows(?:\[(\d+)\]|\.(\d+))", problem.field)
    return (int(found.group(1) or found.group(2)) if found else 0, problem.field)


def _check_recommended(ledger: LedgerBase, submission: Submission) -> None:
    if submission.received_from is not None:
        return  # forwarded by a member association: its forward is the recommendation
    if submission.recommending_unit == DIRECT_CHANNEL:
        if submission.direct_channel_confirmed:
            return
    else:
        recommendation = ledger._find(
            Recommendation.create_id(submission.campaign_id, submission.recommending_unit),
            Recommendation,
        )
        if (
            recommendation is not None
            and recommendation.decision_on(submission.id)[0] == "recommended"
        ):
            return
    raise SubmissionConflict(
        Problem("submission_id", "not_recommended", "该成果尚未经推荐单位正式推荐")
    )


def _outcomes_to_send(
    ledger: LedgerBase,
    campaign: Campaign,
    grading: Grading,
    grade_names: Mapping[str, str],
    actor: Actor,
) -> list[Submission]:
    """At publication, the national outcome of each result a member association forwarded and
    national formal review passed: its grade (or none) and certificate, sent back."""
    sent = []
    for submission in _passed_formal_review(ledger, campaign).values():
        if submission.received_from is None:
            continue
        entry = grading.entries.get(str(submission.id))
        grade = entry["grade"] if entry is not None else None
        outcome = {
            "stage": "publication",
            "result": "graded" if grade is not None else "not_graded",
            "grade": grade,
            "grade_name": grade_names.get(grade, grade) if grade is not None else None,
            "certificate_code": grading.certificates.get(str(submission.id)),
            "campaign_title": campaign.title,
        }
        submission.send_outcome(outcome, actor)
        sent.append(submission)
    return sent


def _passed_formal_review(ledger: LedgerBase, campaign: Campaign) -> dict[UUID, Submission]:
    register = ledger._find(SubmissionRegister.create_id(campaign.id), SubmissionRegister)
    found = {}
    for key in register.entries if register is not None else {}:
        submission = ledger._find(UUID(key), Submission)
        if submission is not None and getattr(submission, "formal_review", None) == "passed":
            found[submission.id] = submission
    return dict(sorted(found.items(), key=lambda kv: kv[1].serial or ""))


def _earlier_rounds(ledger: LedgerBase, campaign: Campaign, plan: RoundPlan) -> list[ReviewRound]:
    earlier = []
    for p in campaign.review_plan.rounds:
        if p.code == plan.code:
            break
        found = ledger._find(ReviewRound.create_id(campaign.id, p.code), ReviewRound)
        if found is None or not found.closed:
            raise ReviewConflict(Problem("round", "earlier_open", f"请先结束{p.name_zh}"))
        earlier.append(found)
    return earlier


def _material_scores(rounds: Iterable[ReviewRound]) -> dict[UUID, Decimal]:
    """Each submission's material score, by the one rule in `material_scores`."""
    return material_scores(
        (r.kind, {UUID(k): result["score"] for k, result in r.results.items()}) for r in rounds
    )


def _entrant(submission: Submission, rubric: str | None) -> Entrant:
    team = submission.programme is Programme.TEAM
    return Entrant(
        submission_id=submission.id,
        serial=submission.serial or "",
        title=submission.title,
        unit_name=submission.unit_name,
        credit_code=submission.credit_code,
        recommending_unit=submission.recommending_unit,
        rubric=rubric or ("team" if team else submission.topic_type or "problem_solving"),
    )


def standing_of(
    submission: Submission, material: Decimal, presentation: Decimal | None
) -> Standing:
    """The facts of a submission that grading reads (the audit's recomputation reads the same)."""
    group, topic = submission.group_and_topic
    return Standing(
        submission_id=submission.id,
        serial=submission.serial or "",
        unit_name=submission.unit_name,
        group_name=group,
        topic=topic,
        recommending_unit=submission.recommending_unit,
        domain=submission.applicant.get("key_domain"),
        material=material,
        presentation=presentation,
        has_video=submission.has_video(),
    )
