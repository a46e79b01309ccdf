"""The ledger's commands of recommending units: the recommendation form, the statistics table and
the work summary. One class of `AssociationLedger`, over `LedgerBase` (ledger_base.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from aggregates.actor import Actor
from aggregates.campaign import Campaign
from aggregates.ledger_base import LedgerBase, check_version, expecting, retrying
from aggregates.problems import Conflict, Problem
from aggregates.recommendation import Candidate, Recommendation, RecommendationNotFound, Reviewer
from aggregates.statistics_table import StatisticsForm, StatisticsNotFound, StatisticsTable
from aggregates.submission import SubmissionStatus
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

    def change_recommendation(
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
        self, campaign_id: UUID, unit: str, form: StatisticsForm, actor: Actor
    ) -> StatisticsTable:
        campaign = self.get_campaign(campaign_id)
        table = self._find(StatisticsTable.create_id(campaign_id, unit), StatisticsTable)
        if table is None:
            table = StatisticsTable.record(campaign, unit, form, self.clock(), actor)
        else:
            table.revise(campaign, form, self.clock(), actor)
        self._save(table)
        return table

    def get_statistics(self, campaign_id: UUID, unit: str) -> StatisticsTable:
        found = self._find(StatisticsTable.create_id(campaign_id, unit), StatisticsTable)
        if found is None:
            raise StatisticsNotFound()
        return found

    def write_summary(self, campaign_id: UUID, unit: str, text: str, actor: Actor) -> WorkSummary:
        campaign = self.get_campaign(campaign_id)
        summary = self._find(WorkSummary.create_id(campaign_id, unit), WorkSummary)
        if summary is None:
            summary = WorkSummary.write(campaign, unit, text, self.clock(), actor)
        else:
            summary.rewrite(campaign, text, self.clock(), actor)
        self._save(summary)
        return summary

    def get_summary(self, campaign_id: UUID, unit: str) -> WorkSummary:
        found = self._find(WorkSummary.create_id(campaign_id, unit), WorkSummary)
        if found is None:
            raise WorkSummaryNotFound()
        return found


def entry_command(
    candidate: Candidate, score: Decimal, evaluation: str, reviewer: str, actor: Actor
) -> Command:
    return lambda r, c, at: r.add_entry(c, candidate, score, evaluation, reviewer, at, actor)


def reviewer_command(reviewer: Reviewer, actor: Actor) -> Command:
    return lambda r, c, at: r.add_reviewer(c, reviewer, at, actor)
