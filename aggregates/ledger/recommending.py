"""The ledger's commands of recommending units: the recommendation form, the statistics table and
the work summary. One class of `AssociationLedger`, over `LedgerBase` (ledger_base.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from aggregates.actor import Actor
from aggregates.campaign import Campaign, CampaignNotFound
from aggregates.ledger.base import LedgerBase, check_version, expecting, retrying
from aggregates.problems import Conflict, Problem
from aggregates.recommendation import (
    Candidate,
    Recommendation,
    RecommendationNotFound,
    Reviewer,
    SheetLine,
    SheetRow,
)
from aggregates.statistics_table import StatisticsForm, StatisticsNotFound, StatisticsTable
from aggregates.submission import SubmissionNotFound, SubmissionStatus
from aggregates.work_summary import WorkSummary, WorkSummaryNotFound

Command = Callable[[Recommendation, Campaign, datetime], None]


class RecommendationCommands(LedgerBase):
    """Commands of a recommending unit, and the secretariat's on its recommendation."""

    def find_recommendation(self, campaign_id: UUID, unit: str) -> Recommendation | None:
        return self._find(Recommendation.create_id(campaign_id, unit), Recommendation)

    def get_recommendation(self, campaign_id: UUID, unit: str) -> Recommendation:
        found = self._find(Recommendation.create_id(campaign_id, unit), Recommendation)
        if found is None:
            raise RecommendationNotFound()
        return found

    def recommendation_filer(self, recommendation: Recommendation) -> str | None:
        """Who filed the form (the actor id of its last `Filed`), while it stands filed."""
        if recommendation.filed_at is None:
            return None
        filer = None
        for event in self.events.get(recommendation.id):
            if isinstance(event, Recommendation.Filed):
                filer = event.actor_id
        return filer

    def _change_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        command: Command,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        """Load (or start) the unit's recommendation, apply the command, save."""

        def attempt() -> Recommendation:
            campaign = self.get_campaign(campaign_id)
            existing = self._find(Recommendation.create_id(campaign_id, unit), Recommendation)
            version = existing.version if existing is not None else 0
            check_version(expected_version, version)
            recommendation = existing or Recommendation.start(campaign, unit, actor)
            command(recommendation, campaign, self.clock())
            with expecting(expected_version, version):
                self._save(recommendation)
            return recommendation

        return retrying(
            attempt,
            lambda: Conflict(
                Problem("recommendation", "concurrent_update", "推荐表正被同时修改，请稍后重试")
            ),
        )

    def add_recommendation_entry(
        self,
        campaign_id: UUID,
        unit: str,
        submission_id: UUID,
        score: Decimal,
        evaluation: str,
        reviewer: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        candidate = self._candidate(unit, submission_id)
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.add_entry(c, candidate, score, evaluation, reviewer, at, actor),
            actor,
            expected_version,
        )

    def revise_recommendation_entry(
        self,
        campaign_id: UUID,
        unit: str,
        submission_id: UUID,
        score: Decimal,
        evaluation: str,
        reviewer: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        """A listed entry's score, evaluation or reviewer changed, keeping its rank."""
        candidate = self._candidate(unit, submission_id)
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.revise_entry(c, candidate, score, evaluation, reviewer, at, actor),
            actor,
            expected_version,
        )

    def import_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        roster: list[tuple[int, Reviewer]],
        rows: list[SheetRow],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        """The form as the unit's edited .xlsx says it: saved whole, or refused whole with each
        row's problems (issue 23)."""
        lines = [
            SheetLine(
                row.row,
                self._candidate(unit, row.submission_id),
                row.score,
                row.evaluation,
                row.reviewer,
            )
            for row in rows
        ]
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.import_sheet(c, roster, lines, at, actor),
            actor,
            expected_version,
        )

    def remove_recommendation_entry(
        self,
        campaign_id: UUID,
        unit: str,
        submission_id: UUID,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.remove_entry(c, submission_id, at, actor),
            actor,
            expected_version,
        )

    def reorder_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        order: list[UUID],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.reorder(c, order, at, actor),
            actor,
            expected_version,
        )

    def add_recommendation_reviewer(
        self,
        campaign_id: UUID,
        unit: str,
        reviewer: Reviewer,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.add_reviewer(c, reviewer, at, actor),
            actor,
            expected_version,
        )

    def remove_recommendation_reviewer(
        self,
        campaign_id: UUID,
        unit: str,
        certificate_number: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.remove_reviewer(c, certificate_number, at, actor),
            actor,
            expected_version,
        )

    def decline_submission(
        self,
        campaign_id: UUID,
        unit: str,
        submission_id: UUID,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        """Record that the unit does not recommend one of its submitted results (不予推荐)."""
        candidate = self._candidate(unit, submission_id)
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.decline(c, candidate, reason, at, actor),
            actor,
            expected_version,
        )

    def declare_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        filled_by: str,
        phone: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.accept_declaration(c, filled_by, phone, at, actor),
            actor,
            expected_version,
        )

    def file_recommendation(
        self, campaign_id: UUID, unit: str, actor: Actor, expected_version: int | None = None
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id, unit, lambda r, c, at: r.file(c, at, actor), actor, expected_version
        )

    # The secretariat's, on a unit's recommendation.

    def return_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.return_to_unit(reason, actor),
            actor,
            expected_version,
        )

    def grant_recommendation_quota(
        self,
        campaign_id: UUID,
        unit: str,
        extra: int,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.grant_quota(extra, reason, actor),
            actor,
            expected_version,
        )

    def invalidate_recommendation(
        self,
        campaign_id: UUID,
        unit: str,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Recommendation:
        return self._change_recommendation(
            campaign_id,
            unit,
            lambda r, c, at: r.invalidate(reason, actor),
            actor,
            expected_version,
        )

    def _candidate(self, unit: str, submission_id: UUID) -> Candidate:
        """One of the unit's results; another unit's answers as if it did not exist."""
        candidate = self.candidate(submission_id)
        if candidate.recommending_unit != unit:
            raise SubmissionNotFound()
        return candidate

    def candidate(self, submission_id: UUID) -> Candidate:
        submission = self.get_submission(submission_id)
        return Candidate(
            submission.id,
            submission.credit_code,
            submission.recommending_unit,
            submission.status is SubmissionStatus.SUBMITTED,
        )

    # Statistics table and work summary.

    def record_statistics(
        self,
        campaign_id: UUID,
        unit: str,
        form: StatisticsForm,
        actor: Actor,
        expected_version: int | None = None,
    ) -> StatisticsTable:
        """Record or revise the unit's table; with `expected_version` (0: none was recorded when
        the form was read) only on that version (VersionConflict otherwise)."""
        campaign = self.get_campaign(campaign_id)
        table = self._find(StatisticsTable.create_id(campaign_id, unit), StatisticsTable)
        check_version(expected_version, table.version if table else 0)
        if table is None:
            table = StatisticsTable.record(campaign, unit, form, self.clock(), actor)
        else:
            table.revise(campaign, form, self.clock(), actor)
        with expecting(expected_version, table.version - 1 if table.version > 1 else 0):
            self._save(table)
        return table

    def get_statistics(self, campaign_id: UUID, unit: str) -> StatisticsTable:
        found = self._find(StatisticsTable.create_id(campaign_id, unit), StatisticsTable)
        if found is None:
            raise StatisticsNotFound()
        return found

    def write_summary(
        self,
        campaign_id: UUID,
        unit: str,
        text: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> WorkSummary:
        """Write or rewrite the unit's summary; with `expected_version` (0: none was written
        when the form was read) only on that version (VersionConflict otherwise)."""
        campaign = self.get_campaign(campaign_id)
        summary = self._find(WorkSummary.create_id(campaign_id, unit), WorkSummary)
        check_version(expected_version, summary.version if summary else 0)
        if summary is None:
            summary = WorkSummary.write(campaign, unit, text, self.clock(), actor)
        else:
            summary.rewrite(campaign, text, self.clock(), actor)
        with expecting(expected_version, summary.version - 1 if summary.version > 1 else 0):
            self._save(summary)
        return summary

    def get_summary(self, campaign_id: UUID, unit: str) -> WorkSummary:
        found = self._find(WorkSummary.create_id(campaign_id, unit), WorkSummary)
        if found is None:
            raise WorkSummaryNotFound()
        return found

    def remind_late_units(
        self, campaign_id: UUID, reminders: Mapping[str, list[str]], recipients: int, actor: Actor
    ) -> Campaign:
        """Record that the late units were reminded by mail (the mails go through the outbox)."""
        return self._update(
            campaign_id,
            Campaign,
            lambda: CampaignNotFound(campaign_id),
            None,
            lambda c: c.remind_late_units(reminders, recipients, actor),
        ).aggregate
