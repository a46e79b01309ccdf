"""Record-level access: which of its tenant's records a signed-in account may read or change, and
what of a record each role is answered. Every such rule is here and nowhere else.

The route guard (`api.platform.access`) decides whether a role may call a route at all; the handler then
asks its `records` dependency (a `Records` bound to the request's principal) for the record. A
record the account may not read answers 404, as if it did not exist; one it may read but not
change answers what the domain or the route says (403, 409). Handlers never read the principal to
decide about a record.

The scopes:
- secretariat, national staff and auditors: everything of their tenant (`SEES_EVERYTHING`);
- an applicant unit: what it filed or registered (`applicant_may_read`);
- a recommending unit: what was filed (not drafted) under it; its own recommendation form,
  statistics table and work summary;
- a reviewer: their own expert record, assignments and score sheets;
- national scope: in the national tenant a forwarded result is read by its staff whole, by
  others without the provincial reviewer roster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import msgspec

from aggregates.actor import Role
from aggregates.registration import Registration
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.applicants.schemas import SubmissionOut
from api.platform.access import Principal, not_found, scopes
from api.review.schemas import RoundOut
from projections.review_board import ResultRow
from projections.service import TenantViews
from projections.submission_list import credit_codes_under
from tenants.registry import ClaimVerifiers
from tenants.runtime import TenantRuntime

SEES_EVERYTHING = frozenset((Role.SECRETARIAT, Role.NATIONAL_STAFF, Role.AUDITOR))


def enterprise_codes(principal: Principal) -> frozenset[str]:
    """Which enterprises (unified social credit codes) an account speaks for, as the domain says
    (`Account.speaks_for`: its applicant grants less claims awaiting verification or refused,
    ADR 0017). Every applicant rule reads it from here."""
    return principal.account.speaks_for()


@dataclass(frozen=True)
class ListScope:
    """What of a campaign's submission list a role reads: `None` where a filter is not forced."""

    recommending_unit: str | None = None
    include_drafts: bool = False
    owner: tuple[frozenset[str], str] | None = None
    """An applicant's own: (the credit codes it speaks for, its account id)."""
    empty: bool = False
    """The filter asked for another unit's entries: nothing."""


@dataclass(frozen=True)
class Records:
    """The record-level rules for one signed-in account."""

    principal: Principal

    @property
    def account_id(self) -> str:
        return str(self.principal.account.id)

    @property
    def sees_everything(self) -> bool:
        return bool(self.principal.roles & SEES_EVERYTHING)

    # Applicant scope.

    def applicant_may_read(self, credit_code: str, created_by: str | None) -> bool:
        """An applicant's record: filed under a code it speaks for, or begun by this account."""
        return credit_code in enterprise_codes(self.principal) or created_by == self.account_id

    def filing_code(self) -> str:
        """The credit code an applicant files and registers under: the one its grant names,
        whether or not it yet speaks for that enterprise (what it files there is its own by
        `applicant_may_read`, as the account that began it, until it does)."""
        codes = sorted(scopes(self.principal, Role.APPLICANT_UNIT))
        if not codes:
            raise not_found("credit_code")
        return codes[0]

    def claimed_code(self, credit_code: str) -> str:
        """A credit code the account is bound to (claimed, whether or not yet verified), else 404."""
        if credit_code not in scopes(self.principal, Role.APPLICANT_UNIT):
            raise not_found("credit_code")
        return credit_code

    def speaking_for(self, credit_code: str) -> str:
        """A credit code the account speaks for: 404 if not bound to it, 409 while its claim
        awaits verification or was refused."""
        self.principal.account.check_speaks_for(self.claimed_code(credit_code))
        return credit_code

    # Enterprise claims.

    def verifiable_codes(self, views: TenantViews) -> set[str] | None:
        """The credit codes whose claims the account may see and decide: None for every code
        (the secretariat; auditors reading); for a recommending unit, where the tenant delegates
        verification, the enterprises that filed or drafted a result under it."""
        if self.sees_everything:
            return None
        if views.runtime.tenant.claim_verifiers is not ClaimVerifiers.RECOMMENDING_UNITS:
            return set()
        db = views.db("submission_list")
        return {c for unit in self.units() for c in credit_codes_under(db, unit)}

    # Entries (submissions) and registrations.

    def may_read_entry(
        self, credit_code: str, created_by: str | None, unit: str, status: str
    ) -> bool:
        """Everything for those who see everything; an applicant its own; a recommending unit
        what was filed (not drafted) under it."""
        if self.sees_everything or self.applicant_may_read(credit_code, created_by):
            return True
        return status != "draft" and unit in self.units()

    def submission(self, runtime: TenantRuntime, submission_id: UUID) -> Submission:
        """A submission the account may read, else 404 (also once its rehearsal was deleted)."""
        submission = runtime.ledger.get_submission(submission_id)
        if runtime.ledger.campaign_deleted(submission.campaign_id) or not self.may_read_entry(
            submission.credit_code,
            submission.created_by,
            submission.recommending_unit,
            submission.status.value,
        ):
            raise not_found("submission_id")
        return submission

    def own_submission(
        self, runtime: TenantRuntime, submission_id: UUID, *, speaking: bool = False
    ) -> Submission:
        """A submission the applicant may change (the domain then says whether it may now).
        `speaking`: the change speaks for the enterprise (submit, resubmit, endorse), refused
        while the account's claim on it awaits verification or was refused (ADR 0017)."""
        submission = self.own(runtime.ledger.get_submission(submission_id))
        if speaking:
            self.principal.account.check_speaks_for(submission.credit_code)
        return submission

    def own(self, submission: Submission) -> Submission:
        """The submission if it is the applicant's, else 404 (e.g. a draft's idempotent replay
        that found another account's draft under the same key)."""
        if not self.applicant_may_read(submission.credit_code, submission.created_by):
            raise not_found("submission_id")
        return submission

    def submission_out(
        self, submission: Submission, decision: tuple[str, str | None] | None = None
    ) -> SubmissionOut:
        """A submission as this account reads it. National scope: the provincial reviewer
        roster of a forwarded result is for the national tenant's staff (and the association
        that forwarded it, as its recommending unit), not for the applicant."""
        body = SubmissionOut.of(submission, decision)
        forwarder = submission.recommending_unit in self.units()
        if body.origin is None or self.sees_everything or forwarder:
            return body
        origin = {k: v for k, v in body.origin.items() if k != "roster"}
        return msgspec.structs.replace(body, origin=origin)

    def list_scope(self, recommending_unit: str | None) -> ListScope:
        """What of a campaign's submission list the account reads."""
        if self.sees_everything:
            return ListScope(recommending_unit=recommending_unit)
        if Role.APPLICANT_UNIT in self.principal.roles:
            owner = (frozenset(enterprise_codes(self.principal)), self.account_id)
            return ListScope(recommending_unit=recommending_unit, include_drafts=True, owner=owner)
        units = self.units()
        if not units or (recommending_unit is not None and recommending_unit not in units):
            return ListScope(empty=True)
        return ListScope(recommending_unit=recommending_unit or sorted(units)[0])

    def registration(self, runtime: TenantRuntime, registration_id: UUID) -> Registration:
        """A registration the account may read (its own, or everything), else 404."""
        registration = runtime.ledger.get_registration(registration_id)
        if not self.sees_everything and not self.applicant_may_read(
            registration.credit_code, registration.created_by
        ):
            raise not_found("registration_id")
        return registration

    def own_registration(self, runtime: TenantRuntime, registration_id: UUID) -> Registration:
        """A registration the applicant may change (or read as its own), else 404."""
        registration = runtime.ledger.get_registration(registration_id)
        if not self.applicant_may_read(registration.credit_code, registration.created_by):
            raise not_found("registration_id")
        return registration

    # Unit scope.

    def units(self) -> set[str]:
        return scopes(self.principal, Role.RECOMMENDING_UNIT)

    def unit_name(self, runtime: TenantRuntime, unit: str, *, own: bool) -> str:
        """The unit's name, if the account may act on it (`own`: only the unit itself) or read
        it (the unit, and those who see everything); else 404."""
        config = runtime.tenant.unit(unit)
        mine = unit in self.units()
        if config is None or not (mine or (not own and self.sees_everything)):
            raise not_found("unit")
        return config.name_zh

    def statistics_filters(self, **filters: str | None) -> dict[str, str | None]:
        """A recommending unit reads only the figures of what was filed under it."""
        if self.sees_everything:
            return filters
        units = self.units()
        wanted = filters.get("recommending_unit")
        if not units or (wanted is not None and wanted not in units):
            raise not_found("recommending_unit")
        return {**filters, "recommending_unit": wanted or sorted(units)[0]}

    # Reviewer scope.

    def reviewer_numbers(self) -> set[str]:
        """The certificate numbers of the reviewer's own expert records."""
        return scopes(self.principal, Role.REVIEWER)

    def expert(self, certificate_number: str, role: Role) -> None:
        """A reviewer reads and declares conflicts on their own expert record only."""
        if role is Role.REVIEWER and certificate_number not in self.reviewer_numbers():
            raise not_found("certificate_number")

    def scorer(self, named: str | None) -> str:
        """Whose sheet a reviewer files: their own (a number they hold), else 404."""
        mine = self.reviewer_numbers()
        if named is not None and named not in mine:
            raise not_found("reviewer")
        return named or min(mine)

    def assigned_number(self, review_round: ReviewRound, submission_id: UUID) -> str:
        """The reviewer's certificate number assigned to this result in the round, else 404:
        a reviewer opens only the results given to them (their sheet, its report)."""
        given = set(review_round.assignments.get(str(submission_id), ())) & self.reviewer_numbers()
        if not given:
            raise not_found("submission_id")
        return min(given)

    def round_out(self, review_round: ReviewRound) -> RoundOut:
        """A round as the account reads it: whole for those who see everything; a reviewer its
        own part: the entrants assigned to them, their assignments and their own sheets; never
        another reviewer's sheets, criteria or exclusions, nor the round's aggregated scores."""
        whole = RoundOut.of(review_round)
        if self.sees_everything:
            return whole
        mine = self.reviewer_numbers()
        given = {k for k, numbers in whole.assignments.items() if mine & set(numbers)}
        return msgspec.structs.replace(
            whole,
            entrants=[e for e in whole.entrants if str(e["submission_id"]) in given],
            assignments={k: sorted(mine & set(whole.assignments[k])) for k in sorted(given)},
            exclusions={},
            sheets=[s for s in whole.sheets if s["reviewer"] in mine],
            results={},
        )

    # Results.

    def results(self, rows: Iterable[ResultRow]) -> list[ResultRow]:
        """The ranking: whole for those who see everything as soon as it is graded; for everyone
        else of the tenant the graded results from the public notice on."""
        if self.sees_everything:
            return list(rows)
        return [r for r in rows if r.status != "graded" and r.grade is not None]

    def certificate_of(
        self, runtime: TenantRuntime, campaign_id: UUID, submission_id: UUID
    ) -> Submission:
        """A result of the campaign whose certificate the account may download, else 404."""
        submission = self.submission(runtime, submission_id)
        if submission.campaign_id != campaign_id:
            raise not_found("submission_id")
        return submission
