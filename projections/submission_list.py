"""Submission lists (申报列表): a unit's own, the secretariat's and each recommending unit's view of
a campaign's submissions, with filters and stable, paginated order."""

from __future__ import annotations

from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.campaign import Campaign
from aggregates.grading import Grading
from aggregates.recommendation import Recommendation
from aggregates.review_round import ReviewRound
from aggregates.submission import TITLE_KEYS, Submission, submission_title
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, equality_filters, id_text, select

FILTERS = ("credit_code", "recommending_unit", "status", "key_domain", "industry", "topic_type")


class SubmissionRow(msgspec.Struct, frozen=True, kw_only=True):
    submission_id: str
    campaign_id: str
    position: int
    """Where it was drafted in the tenant's log: the stable order of every list."""
    serial: str | None
    programme: str
    credit_code: str
    unit_name: str
    recommending_unit: str
    status: str
    title: str
    topic_type: str | None
    industry: str | None
    key_domain: str | None
    endorsed: bool
    direct_channel_confirmed: bool
    version: int


def _topic(form: dict[str, Any]) -> str | None:
    value = form.get("topic_type")
    return str(value.value if hasattr(value, "value") else value) if value else None


_FORM = tuple(f"form.{key}" for key in (*TITLE_KEYS, "topic_type", "industry"))
"""What this list reads of a result's form."""
_DRAFTED = (
    "campaign_id",
    "programme",
    "credit_code",
    "applicant.unit_name",
    "applicant.key_domain",
    "recommending_unit",
    "actor_id",
    *_FORM,
)
"""What it reads of a drafted result."""


class SubmissionListProjection(Projection):
    name = "submission_list"
    topics = tuple(
        get_topic(e)
        for e in (
            Submission.Drafted,
            Submission.Received,
            Submission.Edited,
            Submission.Submitted,
            Submission.Withdrawn,
            Submission.ReturnedForCorrection,
            Submission.Resubmitted,
            Submission.Endorsed,
            Submission.DirectChannelConfirmed,
            Submission.EnterpriseNamed,
            Submission.AttachmentAdded,
            Submission.AttachmentRemoved,
            Submission.FormalReviewPassed,
            Submission.Rejected,
            Submission.ForwardedToNational,
            Submission.NationalForwardWithdrawn,
            Submission.NationalOutcomeRecorded,
            Recommendation.EntryAdded,
            Recommendation.EntryRemoved,
            Recommendation.Filed,
            Recommendation.Returned,
            ReviewRound.Opened,
            Grading.Graded,
            Grading.NoticeOpened,
            Grading.CertificatesIssued,
            Campaign.RehearsalDeleted,
        )
    )
    reads = {
        Submission.Drafted: _DRAFTED,
        Submission.Edited: ("recommending_unit", *_FORM),
        Submission.Submitted: ("serial",),
        **dict.fromkeys(
            (
                Submission.AttachmentAdded,
                Submission.AttachmentRemoved,
                Submission.FormalReviewPassed,
                Submission.Resubmitted,
                Submission.ReturnedForCorrection,
                Submission.Rejected,
                Submission.Endorsed,
            ),
            (),
        ),
        Recommendation.EntryAdded: ("submission_id",),
    }
    tables = ("submission_list",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {submission_list} ("
            " submission_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, position BIGINT NOT NULL,"
            " serial TEXT, programme TEXT NOT NULL, credit_code TEXT NOT NULL, unit_name TEXT NOT NULL,"
            " recommending_unit TEXT NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL,"
            " topic_type TEXT, industry TEXT, key_domain TEXT, endorsed BOOLEAN NOT NULL,"
            " direct_channel_confirmed BOOLEAN NOT NULL, version INTEGER NOT NULL,"
            " drafted_by TEXT, stage TEXT, recommendation_id TEXT, grading_id TEXT)"
        )
        # A form's entries are found by it (filed, returned): without it, each scanned the whole
        # table (a rebuild spent a tenth of its time there).
        tx.execute(
            "CREATE INDEX IF NOT EXISTS {submission_list.recommendation}"
            " ON {submission_list} (recommendation_id)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        self._set(tx, event, {})  # attachments: only the version moves

    @process.register
    def _rehearsal_deleted(self, event: Campaign.RehearsalDeleted, tx: Tx, position: int) -> None:
        """A deleted rehearsal's entries leave the lists (their events stay in the log)."""
        tx.execute(
            "DELETE FROM {submission_list} WHERE campaign_id = :id",
            {"id": id_text(event.originator_id)},
        )

    @process.register
    def _drafted(self, event: Submission.Drafted, tx: Tx, position: int) -> None:
        form = dict(event.form)
        tx.execute(
            "INSERT INTO {submission_list} (submission_id, campaign_id, position, programme, credit_code,"
            " unit_name, recommending_unit, status, title, topic_type, industry, key_domain, endorsed,"
            " direct_channel_confirmed, version, drafted_by) VALUES (:id, :campaign, :position,"
            " :programme, :credit, :unit_name, :unit, 'draft', :title, :topic, :industry, :domain,"
            " FALSE, FALSE, :version, :drafted_by)",
            {
                "id": id_text(event.originator_id),
                "campaign": id_text(event.campaign_id),
                "position": position,
                "programme": event.programme.value,
                "credit": event.credit_code,
                "unit_name": str(event.applicant.get("unit_name", "")),
                "unit": event.recommending_unit,
                "title": submission_title(form),
                "topic": _topic(form),
                "industry": form.get("industry"),
                "domain": event.applicant.get("key_domain"),
                "version": event.originator_version,
                "drafted_by": event.actor_id,
            },
        )

    @process.register
    def _received(self, event: Submission.Received, tx: Tx, position: int) -> None:
        form = dict(event.form)
        tx.execute(
            "INSERT INTO {submission_list} (submission_id, campaign_id, position, serial, programme,"
            " credit_code, unit_name, recommending_unit, status, title, topic_type, industry,"
            " key_domain, endorsed, direct_channel_confirmed, version, drafted_by) VALUES (:id,"
            " :campaign, :position, :serial, :programme, :credit, :unit_name, :unit, 'submitted',"
            " :title, :topic, :industry, :domain, FALSE, FALSE, :version, :drafted_by)",
            {
                "id": id_text(event.originator_id),
                "campaign": id_text(event.campaign_id),
                "position": position,
                "serial": event.serial,
                "programme": event.programme.value,
                "credit": event.credit_code,
                "unit_name": str(event.applicant.get("unit_name", "")),
                "unit": event.recommending_unit,
                "title": submission_title(form),
                "topic": _topic(form),
                "industry": form.get("industry"),
                "domain": event.applicant.get("key_domain"),
                "version": event.originator_version,
                "drafted_by": event.actor_id,
            },
        )

    @process.register
    def _edited(self, event: Submission.Edited, tx: Tx, position: int) -> None:
        form = dict(event.form)
        self._set(
            tx,
            event,
            {
                "recommending_unit": event.recommending_unit,
                "title": submission_title(form),
                "topic_type": _topic(form),
                "industry": form.get("industry"),
            },
        )

    @process.register
    def _submitted(self, event: Submission.Submitted, tx: Tx, position: int) -> None:
        self._set(tx, event, {"serial": event.serial, "status": "submitted"})

    @process.register
    def _withdrawn(self, event: Submission.Withdrawn, tx: Tx, position: int) -> None:
        self._set(tx, event, {"status": "withdrawn"})

    @process.register
    def _returned(self, event: Submission.ReturnedForCorrection, tx: Tx, position: int) -> None:
        self._set(tx, event, {"status": "returned"})

    @process.register
    def _named(self, event: Submission.EnterpriseNamed, tx: Tx, position: int) -> None:
        self._set(tx, event, {"unit_name": event.unit_name})

    @process.register
    def _resubmitted(self, event: Submission.Resubmitted, tx: Tx, position: int) -> None:
        self._set(tx, event, {"status": "submitted"})

    @process.register
    def _rejected(self, event: Submission.Rejected, tx: Tx, position: int) -> None:
        self._set(tx, event, {"status": "rejected"})

    @process.register
    def _endorsed(self, event: Submission.Endorsed, tx: Tx, position: int) -> None:
        self._set(tx, event, {"endorsed": True})

    @process.register
    def _confirmed(self, event: Submission.DirectChannelConfirmed, tx: Tx, position: int) -> None:
        self._set(tx, event, {"direct_channel_confirmed": True})

    # Where a filed result stands after the applicant's part (`stage`, for 我的申报's step line):
    # the recommending unit's form filed with it, formal review passed, a review round opened
    # with it, the public notice, the certificates, forwarded to national and its outcome there.

    @process.register
    def _formal_review(self, event: Submission.FormalReviewPassed, tx: Tx, position: int) -> None:
        self._set(tx, event, {"stage": "formal_review"})

    @process.register
    def _forwarded(self, event: Submission.ForwardedToNational, tx: Tx, position: int) -> None:
        self._set(tx, event, {"stage": "forwarded"})

    @process.register
    def _unforwarded(
        self, event: Submission.NationalForwardWithdrawn, tx: Tx, position: int
    ) -> None:
        self._set(tx, event, {"stage": "published"})

    @process.register
    def _national(self, event: Submission.NationalOutcomeRecorded, tx: Tx, position: int) -> None:
        final = event.outcome.get("stage") == "publication"
        self._set(tx, event, {"stage": "national_result" if final else "forwarded"})

    @process.register
    def _entry_added(self, event: Recommendation.EntryAdded, tx: Tx, position: int) -> None:
        self._stage_of(
            tx,
            "recommendation_id = :recommendation",
            "submission_id = :submission",
            recommendation=id_text(event.originator_id),
            submission=id_text(event.submission_id),
        )

    @process.register
    def _entry_removed(self, event: Recommendation.EntryRemoved, tx: Tx, position: int) -> None:
        self._stage_of(
            tx,
            "recommendation_id = NULL, stage = CASE WHEN stage = 'recommended' THEN NULL"
            " ELSE stage END",
            "submission_id = :submission AND recommendation_id = :recommendation",
            recommendation=id_text(event.originator_id),
            submission=id_text(event.submission_id),
        )

    @process.register
    def _filed(self, event: Recommendation.Filed, tx: Tx, position: int) -> None:
        self._stage_of(
            tx,
            "stage = 'recommended'",
            "recommendation_id = :recommendation AND stage IS NULL",
            recommendation=id_text(event.originator_id),
        )

    @process.register
    def _unfiled(self, event: Recommendation.Returned, tx: Tx, position: int) -> None:
        self._stage_of(
            tx,
            "stage = NULL",
            "recommendation_id = :recommendation AND stage = 'recommended'",
            recommendation=id_text(event.originator_id),
        )

    @process.register
    def _round(self, event: ReviewRound.Opened, tx: Tx, position: int) -> None:
        for entrant in event.entrants:
            self._stage_of(
                tx,
                "stage = 'in_review'",
                "submission_id = :submission AND (stage IS NULL OR stage IN"
                " ('recommended', 'formal_review'))",
                submission=id_text(entrant["submission_id"]),
            )

    @process.register
    def _graded(self, event: Grading.Graded, tx: Tx, position: int) -> None:
        for entry in event.entries:
            self._stage_of(
                tx,
                "grading_id = :grading",
                "submission_id = :submission",
                grading=id_text(event.originator_id),
                submission=id_text(entry["submission_id"]),
            )

    @process.register
    def _notice(self, event: Grading.NoticeOpened, tx: Tx, position: int) -> None:
        self._stage_of(
            tx,
            "stage = 'public_notice'",
            "grading_id = :grading",
            grading=id_text(event.originator_id),
        )

    @process.register
    def _certificates(self, event: Grading.CertificatesIssued, tx: Tx, position: int) -> None:
        self._stage_of(
            tx, "stage = 'published'", "grading_id = :grading", grading=id_text(event.originator_id)
        )

    def _stage_of(self, tx: Tx, assignments: str, where: str, **params: str) -> None:
        # Another aggregate's event: the rows' own versions do not move.
        tx.execute(
            f"UPDATE {{submission_list}} SET {assignments} WHERE {where}",  # noqa: S608 (ours)
            params,
        )

    def _set(self, tx: Tx, event: DomainEventProtocol[UUID], changes: dict[str, Any]) -> None:
        assignments = "".join(f", {column} = :{column}" for column in changes)
        tx.execute(
            f"UPDATE {{submission_list}} SET version = :version{assignments} WHERE submission_id = :id",  # noqa: S608 (our columns)
            {"id": id_text(event.originator_id), "version": event.originator_version, **changes},
        )


def list_submissions(
    db: ViewDatabase,
    campaign_id: UUID,
    *,
    filters: dict[str, str | None],
    include_drafts: bool,
    owner: tuple[Collection[str], str] | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[SubmissionRow]:
    """One page of a campaign's submissions in drafting order, after the `after` position.
    `owner` (credit codes, account id): only the rows under one of those codes or drafted by
    that account (an applicant's own, as `api.platform.records` defines them)."""
    where, params = equality_filters(filters, FILTERS)
    if owner is not None:
        codes, account = owner
        names = [f"owner_code_{i}" for i in range(len(codes))]
        params.update(zip(names, sorted(codes), strict=True), owner_account=account)
        among = "credit_code IN (" + ", ".join(f":{n}" for n in names) + ") OR " if names else ""
        where += f" AND ({among}drafted_by = :owner_account)"
    params.update(campaign=str(campaign_id), after=after, limit=limit, drafts=include_drafts)
    query = (  # the filter's column names are ours; every value is a parameter
        "SELECT submission_id, campaign_id, position, serial, programme, credit_code, unit_name,"  # noqa: S608
        " recommending_unit, status, title, topic_type, industry, key_domain, endorsed,"
        " direct_channel_confirmed, version FROM {submission_list}"
        " WHERE campaign_id = :campaign AND position > :after AND (:drafts OR status <> 'draft')"
        " AND " + where + " ORDER BY position LIMIT :limit"
    )
    return select(db, SubmissionRow, query, params)


def find_submissions(db: ViewDatabase, text: str, limit: int = 50) -> list[SubmissionRow]:
    """The results of every campaign (drafts included) whose serial or credit code is `text`
    (in any case), or whose unit name contains it: the auditor's search, newest first."""
    wanted = text.strip()
    like = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(
        db,
        SubmissionRow,
        "SELECT submission_id, campaign_id, position, serial, programme, credit_code, unit_name,"
        " recommending_unit, status, title, topic_type, industry, key_domain, endorsed,"
        " direct_channel_confirmed, version FROM {submission_list}"
        " WHERE upper(serial) = :upper OR credit_code = :upper"
        " OR unit_name LIKE :like ESCAPE '\\' ORDER BY position DESC LIMIT :limit",
        {"upper": wanted.upper(), "like": like, "limit": limit},
    )


class OwnRow(msgspec.Struct, frozen=True, kw_only=True):
    """An applicant's result as 我的申报 lists it."""

    submission_id: str
    campaign_id: str
    credit_code: str
    serial: str | None
    programme: str
    title: str
    recommending_unit: str
    status: str
    endorsed: bool
    stage: str | None
    version: int


def own_submissions(
    db: ViewDatabase,
    owner: tuple[Collection[str], str],
    campaign_id: UUID | None = None,
) -> list[OwnRow]:
    """An applicant's own results (as `api.platform.records` defines them: under one of its credit
    codes or drafted by its account), of one campaign or of every one, in drafting order: one
    query, whatever their number."""
    codes, account = owner
    names = [f"owner_code_{i}" for i in range(len(codes))]
    params: dict[str, Any] = dict(zip(names, sorted(codes), strict=True))
    params["owner_account"] = account
    among = "credit_code IN (" + ", ".join(f":{n}" for n in names) + ") OR " if names else ""
    where = f"({among}drafted_by = :owner_account)"
    if campaign_id is not None:
        where += " AND campaign_id = :campaign"
        params["campaign"] = str(campaign_id)
    return select(
        db,
        OwnRow,
        "SELECT submission_id, campaign_id, credit_code, serial, programme, title, recommending_unit,"  # noqa: S608 (ours)
        " status, endorsed, stage, version FROM {submission_list} WHERE "
        + where
        + " ORDER BY position",
        params,
    )


class _CreditCode(msgspec.Struct, frozen=True):
    credit_code: str


def credit_codes_under(db: ViewDatabase, unit: str) -> set[str]:
    """The enterprises (credit codes) that filed or drafted a result under a recommending unit,
    in any campaign: those under it, for verifying their accounts (ADR 0017)."""
    rows = select(
        db,
        _CreditCode,
        "SELECT DISTINCT credit_code FROM {submission_list} WHERE recommending_unit = :unit",
        {"unit": unit},
    )
    return {r.credit_code for r in rows}


def submission_rows(db: ViewDatabase, submission_ids: Collection[UUID]) -> dict[str, SubmissionRow]:
    """The listed submissions among `submission_ids`, by id (for reads that show a few results,
    such as a recommendation form's entries, without loading each aggregate)."""
    if not submission_ids:
        return {}
    names = [f"id_{i}" for i in range(len(submission_ids))]
    params = dict(zip(names, (str(i) for i in submission_ids), strict=True))
    query = (  # the placeholders are ours; every value is a parameter
        "SELECT submission_id, campaign_id, position, serial, programme, credit_code, unit_name,"  # noqa: S608
        " recommending_unit, status, title, topic_type, industry, key_domain, endorsed,"
        " direct_channel_confirmed, version FROM {submission_list} WHERE submission_id IN ("
        + ", ".join(f":{n}" for n in names)
        + ")"
    )
    return {r.submission_id: r for r in select(db, SubmissionRow, query, params)}


class FormalReviewRow(msgspec.Struct, frozen=True, kw_only=True):
    """A recommended result in formal review's queue, and where it stands."""

    submission_id: str
    position: int
    serial: str | None
    title: str
    unit_name: str
    recommending_unit: str
    topic_type: str | None
    status: str
    stage: str | None
    version: int

    @property
    def outcome(self) -> str:
        """pending (to review), passed, returned (awaiting the applicant's correction) or
        rejected."""
        if self.status == "rejected":
            return "rejected"
        if self.status == "returned":
            return "returned"
        if self.stage not in (None, "recommended"):
            return "passed"
        return "pending"


def formal_review_queue(db: ViewDatabase, campaign_id: UUID) -> list[FormalReviewRow]:
    """A campaign's results that came to formal review: filed in a recommending unit's form, or
    confirmed through the direct channel; in the order they were drafted."""
    query = (
        "SELECT submission_id, position, serial, title, unit_name, recommending_unit, topic_type,"
        " status, stage, version FROM {submission_list} WHERE campaign_id = :campaign"
        " AND status IN ('submitted', 'returned', 'rejected')"
        " AND (stage IS NOT NULL OR direct_channel_confirmed) ORDER BY position"
    )
    return select(db, FormalReviewRow, query, {"campaign": str(campaign_id)})


FILED_STATUSES = ("submitted", "returned", "rejected")
"""Where a result numbered and not withdrawn stands in this list: what the submission register
counts for an applicant unit's least number of results (`short_of_minimum`)."""


class StageCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many of a campaign's results, of one applicant unit under one recommending unit,
    stand at one status and stage (the campaign desk's counts)."""

    recommending_unit: str
    credit_code: str
    unit_name: str
    status: str
    stage: str | None
    results: int


def stage_counts(db: ViewDatabase, campaign_id: UUID) -> list[StageCount]:
    """A campaign's results counted by recommending unit, applicant unit, status and stage: one
    query, whatever their number."""
    return select(
        db,
        StageCount,
        "SELECT recommending_unit, credit_code, MAX(unit_name), status, stage, COUNT(*)"
        " FROM {submission_list} WHERE campaign_id = :campaign"
        " GROUP BY recommending_unit, credit_code, status, stage",
        {"campaign": str(campaign_id)},
    )
