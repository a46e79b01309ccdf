"""The ledger's forwarding commands, on both ends of the edge between a member association (a
province or an industry association) and its national parent:

- the province forwards published, graded results (and its statistics table and work summary)
  to the national campaign, and may withdraw a forward until national formal review;
- the national intake records each forward as a national submission, exactly once (the national
  id is derived from the province and its submission; the new events and the tracking position
  of the province's event commit together);
- the national decisions come back and are recorded on the provincial submission the same way.

One class of `AssociationLedger`, over `LedgerBase` (ledger_base.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignNotFound, Phase
from aggregates.expert import Expert
from aggregates.forwarding import (
    Forwarding,
    ForwardingConflict,
    ForwardingNotFound,
    InvalidForwarding,
    NationalCall,
)
from aggregates.grading import Grading
from aggregates.intake import Intake, IntakeNotFound
from aggregates.ledger.base import LedgerBase, retrying
from aggregates.problems import Conflict, DomainError, Problem
from aggregates.review_round import ReviewRound
from aggregates.statistics_table import StatisticsForm, StatisticsTable, form_from_state
from aggregates.submission import Submission, SubmissionNotFound
from aggregates.submission_register import SubmissionRegister
from aggregates.work_summary import WorkSummary, summary_problems


def forwarding_actor(origin_tenant: str) -> Actor:
    """Who records what crosses the edge: the platform, on behalf of the other end."""
    return Actor(f"forwarding:{origin_tenant}", Role.SYSTEM)


class ForwardingCommands(LedgerBase):
    """Forwarding to national, national intake, outcomes back."""

    # The province's side.

    def find_forwarding(self, campaign_id: UUID) -> Forwarding | None:
        return self._find(Forwarding.create_id(campaign_id), Forwarding)

    def get_forwarding(self, campaign_id: UUID) -> Forwarding:
        found = self.find_forwarding(campaign_id)
        if found is None:
            raise ForwardingNotFound()
        return found

    def forward_result(
        self,
        campaign_id: UUID,
        submission_id: UUID,
        call: NationalCall,
        evaluation: str,
        actor: Actor,
    ) -> tuple[Forwarding, int | None]:
        """Forward a published, graded result to the national campaign, with what travels with
        it; recorded on the forwarding and on the submission in one transaction."""
        campaign = self.get_campaign(campaign_id)
        _check_forwardable_campaign(campaign, call, self.clock())
        grading = self._find(Grading.create_id(campaign_id), Grading)
        entry = grading.entries.get(str(submission_id)) if grading is not None else None

        def forward() -> tuple[Forwarding, Submission]:
            submission = _provincial_submission(self, campaign_id, submission_id)
            submission.check_forwardable()
            if grading is None or entry is None or entry["grade"] is None:
                raise ForwardingConflict(
                    Problem("submission_id", "not_graded", "该成果未获评等级，不能推荐全国")
                )
            dossier = self.dossier(campaign, submission, grading, evaluation)
            forwarding = self.find_forwarding(campaign_id)
            forwarding = forwarding or Forwarding.start(campaign, call, actor)
            national_id = forwarding.forward(call, submission_id, dossier, self.clock(), actor)
            submission.record_forward(call.tenant, call.campaign.id, national_id, actor)
            return forwarding, submission

        return _save_retrying(self, forward)

    def dossier(
        self,
        campaign: Campaign,
        submission: Submission,
        grading: Grading,
        evaluation: str,
    ) -> dict[str, Any]:
        """What travels with a forwarded result: the result as filed, its grade and scores, the
        provincial evaluation, and the reviewers who scored it here (with certificate numbers)."""
        entry = grading.entries[str(submission.id)]
        rounds, reviewers = [], []
        for plan in campaign.review_plan.rounds:
            found = self._find(ReviewRound.create_id(campaign.id, plan.code), ReviewRound)
            if found is None or str(submission.id) not in found.assignments:
                continue
            rounds.append(
                {"code": plan.code, "name": plan.name_zh, "score": found.score(submission.id)}
            )
            reviewers += found.assignments[str(submission.id)]
        roster = []
        for number in dict.fromkeys(reviewers):
            expert = self._find(Expert.create_id(self.tenant, number), Expert)
            if expert is not None:
                roster.append(
                    {
                        "name": expert.name,
                        "work_unit": expert.profile["work_unit"],
                        "certificate_kind": expert.profile["certificate"]["kind"],
                        "certificate_number": expert.certificate_number,
                    }
                )
        grade = entry["grade"]
        return {
            "origin": {
                "tenant": campaign.tenant,
                "campaign_id": campaign.id,
                "campaign_title": campaign.title,
                "document_number": campaign.document_number,
                "year": campaign.year,
            },
            "title": submission.title,
            "submission": {
                "submission_id": submission.id,
                "serial": submission.serial or "",
                "credit_code": submission.credit_code,
                "applicant": dict(submission.applicant),
                "recommending_unit": submission.recommending_unit,
                "form": dict(submission.form_state),
                "attachments": [dict(a) for a in submission.attachments_state],
                "topic_type": submission.topic_type,
            },
            "grade": {
                "code": grade,
                "name": self.facts.grade_names(campaign.programme).get(grade, grade),
            },
            "scores": {
                "material": entry["material"],
                "presentation": entry["presentation"],
                "combined": entry["combined"],
                "rank": entry["rank"],
                "of": len(grading.entries),
                "rounds": rounds,
            },
            "certificate_code": grading.certificates.get(str(submission.id)),
            "evaluation": evaluation,
            "roster": roster,
        }

    def withdraw_forward(
        self,
        campaign_id: UUID,
        submission_id: UUID,
        reason: str,
        actor: Actor,
    ) -> tuple[Forwarding, int | None]:
        """Withdraw a forward, until the national formal review has decided on it."""

        def withdraw() -> tuple[Forwarding, Submission]:
            forwarding = self.get_forwarding(campaign_id)
            submission = _provincial_submission(self, campaign_id, submission_id)
            national = submission.national_record
            reviewed = national is not None and national["formal_review"] is not None
            forwarding.withdraw(submission_id, reason, reviewed, actor)
            submission.record_forward_withdrawn(reason.strip(), actor)
            return forwarding, submission

        return _save_retrying(self, withdraw)

    def forward_report(
        self,
        campaign_id: UUID,
        call: NationalCall,
        statistics: StatisticsForm,
        summary: str,
        actor: Actor,
    ) -> tuple[Forwarding, int | None]:
        """The province's statistics table and work summary for the period, forwarded (again, to
        replace them), checked by the national campaign's rules."""
        campaign = self.get_campaign(campaign_id)
        _check_forwardable_campaign(campaign, call, self.clock())
        problems = [
            Problem(f"statistics.{p.field}", p.rule, p.message)
            for p in statistics.problems(call.campaign.programme)
        ] + [
            Problem(f"summary{p.field.removeprefix('text')}", p.rule, p.message)
            for p in summary_problems(summary, call.campaign.rules.work_summary_min_chars)
        ]
        if problems:
            raise InvalidForwarding(*problems)

        def report(forwarding: Forwarding) -> None:
            forwarding.forward_report(call, statistics.to_state(), summary, self.clock(), actor)

        return _start_or_change(
            self,
            Forwarding.create_id(campaign_id),
            Forwarding,
            ForwardingNotFound,
            lambda: Forwarding.start(campaign, call, actor),
            report,
        )

    # The national side: the intake of what a member association forwarded.

    def receive_forward(
        self,
        event: Forwarding.ResultForwarded,
        origin_tenant: str,
        unit: str,
        tracking: Tracking,
    ) -> None:
        """Record a forwarded result as a national submission (its id derived from province and
        submission), numbered in the national campaign, on the association's intake; with the
        tracking position, in one transaction. Raises IntegrityError if already recorded."""
        campaign = self._find(event.national_campaign_id, Campaign)
        if campaign is None:
            raise CampaignNotFound(event.national_campaign_id)
        actor = forwarding_actor(origin_tenant)
        dossier = event.dossier
        filed = dossier["submission"]
        register = self._find(SubmissionRegister.create_id(campaign.id), SubmissionRegister)
        register = register or SubmissionRegister.open(campaign)
        serial = register.receive(
            event.national_submission_id, filed["credit_code"], filed.get("topic_type")
        )
        intake = _intake(self, campaign.id, unit, origin_tenant, actor)
        intake.receive(
            event.national_submission_id, event.submission_id, serial, dossier["roster"], actor
        )
        origin = {**dossier, "tenant": origin_tenant, "submission_id": event.submission_id}
        submission = Submission.receive(
            submission_id=event.national_submission_id,
            campaign=campaign,
            recommending_unit=unit,
            serial=serial,
            dossier=dossier,
            origin=origin,
            actor=actor,
        )
        self.save_tracked(tracking, submission, register, intake)

    def receive_withdrawal(
        self,
        event: Forwarding.ForwardWithdrawn,
        origin_tenant: str,
        unit: str,
        tracking: Tracking,
    ) -> None:
        """The association withdrew a forward: the national submission is withdrawn with its
        reason (or, after national formal review, the withdrawal is declined and said so)."""
        actor = forwarding_actor(origin_tenant)
        submission = self._find(event.national_submission_id, Submission)
        if submission is None:
            raise SubmissionNotFound()
        reason = f"推荐单位撤回：{event.reason}"
        aggregates: list[Aggregate] = [submission]
        if submission.withdraw_by_origin(reason, actor):
            intake = _intake(self, event.national_campaign_id, unit, origin_tenant, actor)
            intake.withdraw(submission.id, event.reason, actor)
            register = self._find(
                SubmissionRegister.create_id(submission.campaign_id), SubmissionRegister
            )
            if register is not None:
                register.release(submission.id)
                aggregates.append(register)
            aggregates.append(intake)
        self.save_tracked(tracking, *aggregates)

    def receive_report(
        self,
        event: Forwarding.ReportForwarded,
        origin_tenant: str,
        unit: str,
        tracking: Tracking,
    ) -> None:
        """The association's statistics table and work summary, filed under it in the national
        campaign (replacing an earlier forward)."""
        campaign = self._find(event.national_campaign_id, Campaign)
        if campaign is None:
            raise CampaignNotFound(event.national_campaign_id)
        actor = forwarding_actor(origin_tenant)
        intake = _intake(self, campaign.id, unit, origin_tenant, actor)
        intake.receive_report(event.statistics, event.summary, actor)
        form = form_from_state(campaign.programme, event.statistics)
        table = self._find(StatisticsTable.create_id(campaign.id, unit), StatisticsTable)
        if table is None:
            table = StatisticsTable.receive(campaign, unit, form, actor)
        else:
            table.receive_revision(form, actor)
        summary = self._find(WorkSummary.create_id(campaign.id, unit), WorkSummary)
        if summary is None:
            summary = WorkSummary.receive(campaign, unit, event.summary, actor)
        else:
            summary.receive_revision(event.summary, actor)
        self.save_tracked(tracking, intake, table, summary)

    def find_intake(self, campaign_id: UUID, unit: str) -> Intake | None:
        return self._find(Intake.create_id(campaign_id, unit), Intake)

    def get_intake(self, campaign_id: UUID, unit: str) -> Intake:
        found = self.find_intake(campaign_id, unit)
        if found is None:
            raise IntakeNotFound()
        return found

    def grant_forwarding_quota(
        self,
        campaign_id: UUID,
        unit: str,
        origin_tenant: str,
        extra: int,
        reason: str,
        actor: Actor,
    ) -> Intake:
        """More forwarding places for one member association (the national secretariat's call)."""
        self.get_campaign(campaign_id)
        intake, _ = _start_or_change(
            self,
            Intake.create_id(campaign_id, unit),
            Intake,
            IntakeNotFound,
            lambda: Intake.open(campaign_id, unit, origin_tenant, actor),
            lambda found: found.grant_quota(extra, reason, actor),
        )
        return intake

    def forwarding_quota(self, campaign: Campaign, unit: str) -> int | None:
        """What the national campaign gives one member association: the campaign's quota per
        recommending unit, plus what was added for it."""
        base = campaign.rules.recommending_unit_quota
        intake = self.find_intake(campaign.id, unit)
        return intake.quota(base) if intake is not None else base

    # Back at the province: the national outcome on its own record.

    def record_national_outcome(
        self,
        event: Submission.OutcomeSent,
        national_tenant: str,
        tracking: Tracking,
    ) -> None:
        """A national decision on a forwarded result, recorded on the provincial submission
        with the tracking position of the national event, in one transaction."""
        submission = self._find(event.origin_submission_id, Submission)
        if submission is None:
            raise SubmissionNotFound()
        outcome = {**event.outcome, "decided_at": event.timestamp}
        submission.record_national_outcome(outcome, forwarding_actor(national_tenant))
        self.save_tracked(tracking, submission)


def _check_forwardable_campaign(campaign: Campaign, call: NationalCall, at: Any) -> None:
    campaign.check_active()
    if campaign.is_rehearsal:
        raise ForwardingConflict(
            Problem("campaign", "rehearsal", "演练活动的成果不推荐全国（演练不上报）")
        )
    if campaign.published_at is None:
        raise ForwardingConflict(
            Problem("campaign", "not_published", "本活动结果尚未发布，发布后才能推荐全国")
        )
    national = call.campaign
    if (national.programme, national.year) != (campaign.programme, campaign.year):
        raise ForwardingConflict(
            Problem(
                "national_campaign",
                "different_campaign",
                "只能推荐到同一活动类别、同一年度的全国活动",
            )
        )
    if Phase.NATIONAL_FORWARDING in campaign.timeline:
        campaign.check_phase_open(Phase.NATIONAL_FORWARDING, at)
    call.check_open(at)


def _intake(
    ledger: ForwardingCommands, campaign_id: UUID, unit: str, origin_tenant: str, actor: Actor
) -> Intake:
    found = ledger.find_intake(campaign_id, unit)
    return found or Intake.open(campaign_id, unit, origin_tenant, actor)


def _provincial_submission(
    ledger: LedgerBase, campaign_id: UUID, submission_id: UUID
) -> Submission:
    submission = ledger._find(submission_id, Submission)
    if submission is None or submission.campaign_id != campaign_id:
        raise SubmissionNotFound()
    return submission


def _save_retrying(
    ledger: LedgerBase, change: Callable[[], tuple[Forwarding, Submission]]
) -> tuple[Forwarding, int | None]:
    """Change the forwarding and the submission on fresh state and save both together, again
    when a concurrent forward or change won."""

    def attempt() -> tuple[Forwarding, int | None]:
        forwarding, submission = change()
        return forwarding, ledger._save(forwarding, submission)

    return retrying(
        attempt,
        lambda: Conflict(
            Problem("version", "concurrent_update", "推荐正被他人同时修改，请稍后重试")
        ),
    )


A = TypeVar("A", bound=Aggregate)


def _start_or_change(
    ledger: LedgerBase,
    aggregate_id: UUID,
    kind: type[A],
    missing: Callable[[], DomainError],
    start: Callable[[], A],
    change: Callable[[A], None],
) -> tuple[A, int | None]:
    """Change an aggregate, starting it first when there is none yet (and changing the one a
    concurrent command started instead, if that one won)."""
    if ledger._find(aggregate_id, kind) is None:
        started = start()
        change(started)
        try:
            return started, ledger._save(started)
        except IntegrityError:
            pass
    saved = ledger._update(aggregate_id, kind, missing, None, change)
    return saved.aggregate, saved.position
