"""The tenant's ledger: the eventsourcing Application whose command methods load, call and save."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate

from aggregates.account import Account
from aggregates.actor import Actor
from aggregates.audit_trail import AuditTrail
from aggregates.campaign import (
    Campaign,
    CampaignAlreadyOpened,
    CampaignNotFound,
    CampaignRules,
    Contact,
    Phase,
    Programme,
    RehearsalAlreadyOpened,
    Window,
)
from aggregates.forwarding import Forwarding
from aggregates.grading import Grading
from aggregates.intake import Intake
from aggregates.ledger.accounts import AccountCommands
from aggregates.ledger.audit import AuditQueries
from aggregates.ledger.base import Saved, retrying
from aggregates.ledger.forwarding import ForwardingCommands
from aggregates.ledger.recommending import RecommendationCommands
from aggregates.ledger.review import ReviewCommands
from aggregates.ledger.submissions import SubmissionCommands
from aggregates.problems import Problem
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from aggregates.submission_register import SubmissionRegister


class AssociationLedger(
    AccountCommands,
    SubmissionCommands,
    RecommendationCommands,
    ReviewCommands,
    ForwardingCommands,
    AuditQueries,
):
    """All event-sourced records of one association (tenant), in one log: the commands of each
    context are read off its class (AccountCommands, SubmissionCommands, ...); the campaign's
    and the audit trail's, here. Load, save and retry are `LedgerBase`'s (ledger_base.py).

    The name is stored data: it names the tables (`ledger_events`) and tracking keys.
    """

    name = "ledger"
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Campaign: 50,
        Account: 50,
        Submission: 50,
        SubmissionRegister: 50,
        ReviewRound: 50,
        Grading: 50,
        Forwarding: 50,
        Intake: 50,
        AuditTrail: 50,
    }
    kept: ClassVar[dict[type[Aggregate], int]] = {Campaign: 32, Account: 256}
    """Kept in memory (`LedgerBase._load_kept`): a tenant's campaigns (a few at a time, one a
    programme and year, and rehearsals), which nearly every command reads, and its accounts
    that act (each command by an applicant reads its account for the enterprise's name)."""

    # Campaigns.

    def open_campaign(
        self,
        *,
        programme: Programme,
        year: int,
        title: str,
        document_number: str | None,
        theme: str | None,
        co_organisers: list[str],
        contact: Contact,
        period_start: date,
        period_end: date,
        rules: CampaignRules,
        timeline: Mapping[Phase, Window],
        actor: Actor,
        idempotency_key: str | None = None,
        rehearsal: bool = False,
    ) -> Saved[Campaign]:
        """Open the campaign of a programme and year (or a rehearsal beside it: ADR 36); a retry
        with the same key returns it."""
        fields = {
            "programme": programme,
            "year": year,
            "title": title,
            "document_number": document_number,
            "theme": theme,
            "co_organisers": co_organisers,
            "contact": contact,
            "period_start": period_start,
            "period_end": period_end,
            "rules": rules,
            "timeline": timeline,
        }

        def attempt() -> Saved[Campaign]:  # opened concurrently: answered as an existing one
            existing, campaign = self._opening(fields, actor, idempotency_key, rehearsal)
            if existing is not None:
                return Saved(existing, position=None)
            return Saved(campaign, self._save(campaign), created=True)

        return retrying(
            attempt,
            lambda: CampaignAlreadyOpened(
                Problem("year", "one_campaign_per_year", "该项活动已开设")
            ),
        )

    def preview_campaign(
        self, fields: Mapping[str, Any], actor: Actor, rehearsal: bool = False
    ) -> Campaign:
        """The campaign `open_campaign` would open with these fields, refused by the same rules
        (the year's slot taken too), and not saved: what the open-a-campaign page previews."""
        return self._opening(fields, actor, None, rehearsal)[1]

    def _opening(
        self,
        fields: Mapping[str, Any],
        actor: Actor,
        idempotency_key: str | None,
        rehearsal: bool,
    ) -> tuple[Campaign | None, Campaign]:
        """(the campaign a retry with the same key answers, or None; the campaign to save)."""
        programme, year = fields["programme"], fields["year"]
        number: int | None = None
        if rehearsal:
            number, existing = self._live_rehearsal(programme, year)
        else:
            existing = self._find(Campaign.create_id(self.tenant, programme, year), Campaign)
        if existing is not None:
            if idempotency_key is not None and existing.idempotency_key == idempotency_key:
                return existing, existing
            if rehearsal:
                raise RehearsalAlreadyOpened(
                    Problem(
                        "rehearsal",
                        "one_rehearsal_per_year",
                        f"{year} 年度的该项活动已有演练：{existing.title}；删除后才能再开演练",
                    )
                )
            raise CampaignAlreadyOpened(
                Problem(
                    "year",
                    "one_campaign_per_year",
                    f"{year} 年度的该项活动已开设：{existing.title}",
                )
            )
        campaign = Campaign.open(
            tenant=self.tenant,
            **fields,
            actor=actor,
            idempotency_key=idempotency_key,
            rehearsal_number=number,
        )
        return None, campaign

    def delete_rehearsal(
        self, campaign_id: UUID, reason: str, actor: Actor, expected_version: int | None = None
    ) -> Saved[Campaign]:
        """Delete a rehearsal with everything filed in it (its events stay in the log)."""
        return self._update_campaign(
            campaign_id, expected_version, lambda c: c.delete_rehearsal(reason, actor)
        )

    def reschedule_phase(
        self,
        campaign_id: UUID,
        phase: Phase,
        window: Window,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.reschedule_phase(phase, window, self.clock(), actor),
        )

    def extend_deadline(
        self,
        campaign_id: UUID,
        phase: Phase,
        until: datetime,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.extend_deadline(phase, until, reason, self.clock(), actor),
        )

    def close_phase_now(
        self,
        campaign_id: UUID,
        phase: Phase,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.close_phase_now(phase, reason, self.clock(), actor),
        )

    def open_phase_now(
        self,
        campaign_id: UUID,
        phase: Phase,
        reason: str,
        actor: Actor,
        closes_at: datetime | None = None,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.open_phase_now(phase, reason, self.clock(), actor, closes_at),
        )

    def reopen_phase(
        self,
        campaign_id: UUID,
        phase: Phase,
        until: datetime,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.reopen_phase(phase, until, reason, self.clock(), actor),
        )

    def amend_rules(
        self,
        campaign_id: UUID,
        changes: Mapping[str, Any],
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.amend_rules(changes, reason, self.clock(), actor),
        )

    def publish_results(
        self,
        campaign_id: UUID,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        """Publish the results: with a certificate per graded result when the review ran here
        (and each forwarded result's outcome sent back to its association); the campaign alone
        when its review ran elsewhere (nothing graded on the platform)."""
        if self._find(Grading.create_id(campaign_id), Grading) is not None:
            campaign, _, position = self.publish_with_certificates(
                campaign_id, actor, expected_version
            )
            return Saved(campaign, position)
        return self._update_campaign(
            campaign_id, expected_version, lambda c: c.publish_results(self.clock(), actor)
        )

    def archive_campaign(
        self, campaign_id: UUID, reason: str, actor: Actor, expected_version: int | None = None
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id, expected_version, lambda c: c.archive(reason, actor)
        )

    def open_phases(self, campaign_id: UUID, at: datetime) -> list[Phase]:
        return self.get_campaign(campaign_id).open_phases(at)

    # Audit reads: the one thing an audit writes is the record that it read.

    def note_audit_read(
        self,
        actor: Actor,
        what: str,
        record: str | None = None,
        record_id: UUID | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> None:
        """Add a read to the account's audit trail of the day (the tenant's day)."""
        day = self.today()
        trail_id = AuditTrail.create_id(self.tenant, actor.user_id, day)

        def attempt() -> None:  # the same account read at the same moment elsewhere: again
            trail = self._find(trail_id, AuditTrail) or AuditTrail.start(self.tenant, day, actor)
            trail.note_read(what, record, record_id, dict(detail or {}), actor)
            self._save(trail)

        retrying(attempt)

    def audit_trail(self, account_id: str, on: date) -> AuditTrail | None:
        return self._find(AuditTrail.create_id(self.tenant, account_id, on), AuditTrail)

    def _update_campaign(
        self,
        campaign_id: UUID,
        expected_version: int | None,
        command: Callable[[Campaign], None],
    ) -> Saved[Campaign]:
        return self._update(
            campaign_id, Campaign, lambda: CampaignNotFound(campaign_id), expected_version, command
        )
