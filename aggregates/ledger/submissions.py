"""The ledger's commands of the applicant channel: registrations and submissions.

One class of `AssociationLedger` (application.py), over `LedgerBase` (ledger_base.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from aggregates.account import Account
from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign
from aggregates.ledger.base import LedgerBase, check_version, expecting, retrying
from aggregates.problems import Problem
from aggregates.registration import (
    Registration,
    RegistrationConflict,
    RegistrationForm,
    RegistrationNotFound,
)
from aggregates.submission import (
    DIRECT_CHANNEL,
    Attachment,
    InvalidSubmission,
    Submission,
    SubmissionConflict,
    SubmissionNotFound,
)
from aggregates.submission_forms import Form
from aggregates.submission_register import SubmissionRegister


class SubmissionCommands(LedgerBase):
    """Registration and submission commands of the tenant's ledger."""

    # Registration (报名).

    def register_for_campaign(
        self,
        campaign_id: UUID,
        credit_code: str,
        form: RegistrationForm,
        actor: Actor,
    ) -> Registration:
        campaign = self.get_campaign(campaign_id)
        existing = self._find(Registration.create_id(campaign_id, credit_code), Registration)
        if existing is not None:
            raise RegistrationConflict(
                Problem("registration", "already_registered", "本单位已报名，请修改报名信息")
            )
        registration = Registration.register(
            campaign,
            credit_code,
            self._named(form, credit_code, actor),
            self.facts.key_industries,
            self.facts.key_domains,
            self.clock(),
            actor,
        )
        try:
            self._save(registration)
        except IntegrityError:
            raise RegistrationConflict(
                Problem("registration", "already_registered", "本单位已报名")
            ) from None
        return registration

    def change_registration(
        self,
        registration_id: UUID,
        form: RegistrationForm,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Registration:
        def change(registration: Registration) -> None:
            campaign = self.get_campaign(registration.campaign_id)
            registration.change(
                campaign,
                self._named(form, registration.credit_code, actor),
                self.facts.key_industries,
                self.facts.key_domains,
                self.clock(),
                actor,
            )

        return self._update(
            registration_id, Registration, RegistrationNotFound, expected_version, change
        ).aggregate

    def get_registration(self, registration_id: UUID) -> Registration:
        found = self._find(registration_id, Registration)
        if found is None:
            raise RegistrationNotFound()
        return found

    # The applicant unit's name (ADR 0037).

    def _enterprise_name(
        self, credit_code: str, actor: Actor, *, verified: bool, account: Account | None = None
    ) -> str | None:
        """The name of the enterprise as the acting applicant's account records it for the
        code, never as typed: as verified (`verified`, submitting), or as claimed (drafting,
        registering: the account's own record until it speaks for the code). None for an actor
        that is not an applicant account, or an account with no name recorded. `account`: the
        acting account as the caller has just read it at its last version, not loaded again
        (another account is not used)."""
        if actor.role is not Role.APPLICANT_UNIT:
            return None
        if account is None or str(account.id) != actor.user_id:
            try:
                account = self._find(UUID(actor.user_id), Account)
            except ValueError:
                return None
        if account is None:
            return None
        if verified:
            return account.verified_name(credit_code)
        return account.enterprise_name(credit_code).strip() or None

    def _named(self, form: RegistrationForm, credit_code: str, actor: Actor) -> RegistrationForm:
        name = self._enterprise_name(credit_code, actor, verified=False)
        return replace(form, unit_name=name) if name else form

    # Submissions.

    def draft_submission(
        self,
        *,
        campaign_id: UUID,
        credit_code: str,
        applicant: dict[str, Any],
        recommending_unit: str,
        form: Form,
        actor: Actor,
        idempotency_key: str | None = None,
        campaign: Campaign | None = None,
        account: Account | None = None,
    ) -> tuple[Submission, bool]:
        """A new draft (created: True), or the one a retried request with the same key made.
        `campaign`: the campaign of `campaign_id` as the caller has just loaded it (the API
        reads the form by its programme), not loaded again.
        `account`: the acting account as the caller has just read it at its last version (the
        API's signed-in account: authentication checked it against the store's last version
        moments before), not loaded again for its enterprise's name."""
        if campaign is None or campaign.id != campaign_id:
            campaign = self.get_campaign(campaign_id)
        _check_unit(recommending_unit, self.facts.units)
        key = f"{credit_code}/{idempotency_key}" if idempotency_key else str(uuid4())
        submission_id = Submission.create_id(campaign_id, key)
        # Only a key the client gave can name a draft made before, not a random one.
        existing = self._find(submission_id, Submission) if idempotency_key else None
        if existing is not None:
            return existing, False
        name = self._enterprise_name(credit_code, actor, verified=False, account=account)
        submission = Submission.draft(
            submission_id=submission_id,
            campaign=campaign,
            credit_code=credit_code,
            applicant={**applicant, "unit_name": name} if name else applicant,
            recommending_unit=recommending_unit,
            form=form,
            actor=actor,
        )
        try:
            self._save(submission)
        except IntegrityError:  # the same key, concurrently
            return self.get_submission(submission_id), False
        return submission, True

    def edit_submission(
        self,
        submission_id: UUID,
        form: Form,
        recommending_unit: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        _check_unit(recommending_unit, self.facts.units)

        def edit(submission: Submission) -> None:
            submission.edit(
                self.get_campaign(submission.campaign_id), form, recommending_unit, actor
            )

        return _update(self, submission_id, expected_version, edit)

    def add_attachment(
        self,
        submission_id: UUID,
        attachment: Attachment,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        return _update(
            self, submission_id, expected_version, lambda s: s.add_attachment(attachment, actor)
        )

    def remove_attachment(
        self,
        submission_id: UUID,
        sha256: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        return _update(
            self, submission_id, expected_version, lambda s: s.remove_attachment(sha256, actor)
        )

    def submit_submission(
        self,
        submission_id: UUID,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        """Submit a draft: it gets the campaign's next serial number, in one transaction with
        the register that enforces the per-unit limits."""

        def attempt() -> Submission:
            submission = self.get_submission(submission_id)
            check_version(expected_version, submission.version)
            campaign = self.get_campaign(submission.campaign_id)
            register = self._find(SubmissionRegister.create_id(campaign.id), SubmissionRegister)
            register = register or SubmissionRegister.open(campaign)
            now = self.clock()
            # The submission's own rules first (state, window, completeness), then the unit's.
            submission.check_submittable(campaign, now)
            serial = register.assign(
                campaign, submission.id, submission.credit_code, submission.topic_type
            )
            seen = submission.version
            name = self._enterprise_name(submission.credit_code, actor, verified=True)
            submission.name_enterprise(name or "", actor)
            submission.submit(campaign, serial, now, actor)
            with expecting(expected_version, seen):
                self.save(submission, register)
            return submission

        return retrying(
            attempt,
            lambda: SubmissionConflict(
                Problem("submission", "concurrent_update", "申报正被同时提交，请稍后重试")
            ),
        )

    def resubmit_submission(
        self,
        submission_id: UUID,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        def resubmit(submission: Submission) -> None:
            name = self._enterprise_name(submission.credit_code, actor, verified=True)
            submission.resubmit(self.get_campaign(submission.campaign_id), actor)
            submission.name_enterprise(name or "", actor)

        return _update(self, submission_id, expected_version, resubmit)

    def withdraw_submission(
        self,
        submission_id: UUID,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:

        def attempt() -> Submission:
            submission = self.get_submission(submission_id)
            check_version(expected_version, submission.version)
            submission.withdraw(reason, actor)
            register = self._find(
                SubmissionRegister.create_id(submission.campaign_id), SubmissionRegister
            )
            aggregates: list[Aggregate] = [submission]
            if register is not None:
                register.release(submission.id)
                aggregates.append(register)
            with expecting(expected_version, submission.version - 1):
                self.save(*aggregates)
            return submission

        return retrying(
            attempt,
            lambda: SubmissionConflict(
                Problem("submission", "concurrent_update", "申报正被同时修改，请稍后重试")
            ),
        )

    def return_submission(
        self,
        submission_id: UUID,
        items: list[str],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        return _update(
            self, submission_id, expected_version, lambda s: s.return_for_correction(items, actor)
        )

    def endorse_submission(
        self,
        submission_id: UUID,
        self_evaluation: str,
        opinion: str,
        score: Decimal,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        def endorse(submission: Submission) -> None:
            rules = self.get_campaign(submission.campaign_id).rules
            submission.endorse(self_evaluation, opinion, score, rules, actor)

        return _update(self, submission_id, expected_version, endorse)

    def confirm_direct_channel(
        self,
        submission_id: UUID,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Submission:
        return _update(
            self, submission_id, expected_version, lambda s: s.confirm_direct_channel(actor)
        )


def _check_unit(unit: str, units: Collection[str]) -> None:
    if unit != DIRECT_CHANNEL and unit not in units:
        raise InvalidSubmission(
            Problem("recommending_unit", "unknown_unit", "请选择本协会的推荐单位或直接受理通道")
        )


def _update(
    ledger: LedgerBase,
    submission_id: UUID,
    expected_version: int | None,
    command: Callable[[Submission], None],
) -> Submission:
    return ledger._update(
        submission_id, Submission, SubmissionNotFound, expected_version, command
    ).aggregate
