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

from aggregates.submission import Submission, submission_title
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, equality_filters, select

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
            Submission.AttachmentAdded,
            Submission.AttachmentRemoved,
            Submission.FormalReviewPassed,
            Submission.Rejected,
        )
    )
    tables = ("submission_list",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {submission_list} ("
            " submission_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, position BIGINT NOT NULL,"
            " serial TEXT, programme TEXT NOT NULL, credit_code TEXT NOT NULL, unit_name TEXT NOT NULL,"
            " recommending_unit TEXT NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL,"
            " topic_type TEXT, industry TEXT, key_domain TEXT, endorsed BOOLEAN NOT NULL,"
            " direct_channel_confirmed BOOLEAN NOT NULL, version INTEGER NOT NULL,"
            " drafted_by TEXT)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        self._set(tx, event, {})  # attachments: only the version moves

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
                "id": str(event.originator_id),
                "campaign": str(event.campaign_id),
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
                "id": str(event.originator_id),
                "campaign": str(event.campaign_id),
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

    def _set(self, tx: Tx, event: DomainEventProtocol[UUID], changes: dict[str, Any]) -> None:
        assignments = "".join(f", {column} = :{column}" for column in changes)
        tx.execute(
            f"UPDATE {{submission_list}} SET version = :version{assignments} WHERE submission_id = :id",  # noqa: S608 (our columns)
            {"id": str(event.originator_id), "version": event.originator_version, **changes},
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
    that account (an applicant's own, as `api.records` defines them)."""
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
