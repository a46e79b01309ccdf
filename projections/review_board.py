"""The review board (评审看板): the reviewer pool, each reviewer's queue, each round's score matrix
(submission × reviewer) and scores, and the campaign's ranking and results with certificates."""

from __future__ import annotations

from decimal import Decimal
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.account import Account
from aggregates.actor import Role
from aggregates.campaign import Campaign
from aggregates.expert import Expert
from aggregates.grading import Grading
from aggregates.review_round import ReviewRound
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, equality_filters, id_text, select


class ExpertRow(msgspec.Struct, frozen=True, kw_only=True):
    certificate_number: str
    name: str
    work_unit: str
    certificate_kind: str
    issuing_body: str
    level: str
    valid_until: str
    conflicts: int
    retired: bool


class AssignmentRow(msgspec.Struct, frozen=True, kw_only=True):
    round_id: str
    campaign_id: str
    round_code: str
    round_name: str
    submission_id: str
    serial: str
    title: str
    reviewer: str
    reviewer_name: str
    sheet_id: str | None
    total: Decimal | None
    corrections: int
    closed: bool
    entered_by: str | None = None
    """Who entered the counted sheet: the judge ("reviewer") or the secretariat (a paper sheet)."""


class RoundScoreRow(msgspec.Struct, frozen=True, kw_only=True):
    round_id: str
    submission_id: str
    serial: str
    title: str
    score: Decimal | None
    rule: str


class ResultRow(msgspec.Struct, frozen=True, kw_only=True):
    campaign_id: str
    submission_id: str
    serial: str
    unit_name: str
    group_name: str
    topic: str
    recommending_unit: str
    domain: str | None
    material: Decimal
    presentation: Decimal | None
    combined: Decimal
    rank: int
    grade: str | None
    status: str
    certificate_code: str | None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class ReviewBoardProjection(Projection):
    name = "review_board"
    topics = tuple(
        get_topic(e)
        for e in (
            Expert.Enrolled,
            Expert.ProfileChanged,
            Expert.ConflictDeclared,
            Expert.Retired,
            ReviewRound.Opened,
            ReviewRound.ReviewerAssigned,
            ReviewRound.ReviewerReleased,
            ReviewRound.SheetFiled,
            ReviewRound.ScoresAggregated,
            ReviewRound.Closed,
            Grading.Graded,
            Grading.Regraded,
            Grading.GradeOverridden,
            Grading.NoticeOpened,
            Grading.ObjectionResolved,
            Grading.NoticeClosed,
            Grading.CertificatesIssued,
            Campaign.RehearsalDeleted,
            Account.RoleGranted,
            Account.RoleRevoked,
        )
    )
    reads = {
        ReviewRound.SheetFiled: (
            "sheet_id",
            "submission_id",
            "reviewer",
            "total",
            "corrects",
            "actor_role",
        ),
        ReviewRound.ReviewerAssigned: ("submission_id", "reviewer", "reviewer_name"),
    }
    tables = (
        "expert_pool",
        "review_entrants",
        "review_assignments",
        "review_results",
        "review_entered_by",
        "reviewer_accounts",
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {expert_pool} (expert_id TEXT PRIMARY KEY,"
            " certificate_number TEXT NOT NULL,"
            " name TEXT NOT NULL, work_unit TEXT NOT NULL, certificate_kind TEXT NOT NULL,"
            " issuing_body TEXT NOT NULL, level TEXT NOT NULL, valid_until TEXT NOT NULL,"
            " conflicts INTEGER NOT NULL, retired BOOLEAN NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {review_entrants} (round_id TEXT NOT NULL,"
            " campaign_id TEXT NOT NULL, round_code TEXT NOT NULL, round_name TEXT NOT NULL,"
            " submission_id TEXT NOT NULL, serial TEXT NOT NULL, title TEXT NOT NULL, score TEXT,"
            " rule TEXT NOT NULL, closed BOOLEAN NOT NULL, PRIMARY KEY (round_id, submission_id))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {review_assignments} (round_id TEXT NOT NULL,"
            " submission_id TEXT NOT NULL, reviewer TEXT NOT NULL, reviewer_name TEXT NOT NULL,"
            " sheet_id TEXT, total TEXT, corrections INTEGER NOT NULL,"
            " PRIMARY KEY (round_id, submission_id, reviewer))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {review_results} (grading_id TEXT NOT NULL,"
            " campaign_id TEXT NOT NULL,"
            " submission_id TEXT NOT NULL, serial TEXT NOT NULL, unit_name TEXT NOT NULL,"
            " group_name TEXT NOT NULL, topic TEXT NOT NULL, recommending_unit TEXT NOT NULL,"
            " domain TEXT, material TEXT NOT NULL, presentation TEXT, combined TEXT NOT NULL,"
            " rank INTEGER NOT NULL, grade TEXT, status TEXT NOT NULL, certificate_code TEXT,"
            " PRIMARY KEY (campaign_id, submission_id))"
        )
        # Tables of their own (not columns): a store built before them gets them on start; its
        # older sheets show unmarked until the read model is rebuilt (ADR 0039).
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {review_entered_by} (round_id TEXT NOT NULL,"
            " submission_id TEXT NOT NULL, reviewer TEXT NOT NULL, entered_by TEXT NOT NULL,"
            " PRIMARY KEY (round_id, submission_id, reviewer))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {reviewer_accounts} (account_id TEXT NOT NULL,"
            " certificate_number TEXT NOT NULL, PRIMARY KEY (account_id, certificate_number))"
        )
        # A grading's results are found by it (regrades, grades, status, certificates): without
        # it, each of those scanned the whole table (a rebuild went quadratic).
        tx.execute(
            "CREATE INDEX IF NOT EXISTS {review_results.grading}"
            " ON {review_results} (grading_id, submission_id)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        raise TypeError(f"review board: unexpected event {type(event).__qualname__}")

    @process.register
    def _rehearsal_deleted(self, event: Campaign.RehearsalDeleted, tx: Tx, position: int) -> None:
        """A deleted rehearsal's rounds and results leave the board (its events stay in the log)."""
        params = {"id": id_text(event.originator_id)}
        tx.execute(
            "DELETE FROM {review_assignments} WHERE round_id IN"
            " (SELECT round_id FROM {review_entrants} WHERE campaign_id = :id)",
            params,
        )
        tx.execute("DELETE FROM {review_entrants} WHERE campaign_id = :id", params)
        tx.execute("DELETE FROM {review_results} WHERE campaign_id = :id", params)

    # The pool.

    @process.register
    def _enrolled(self, event: Expert.Enrolled, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {expert_pool} (expert_id, certificate_number, name, work_unit,"
            " certificate_kind, issuing_body, level, valid_until, conflicts, retired) VALUES"
            " (:id, :number, :name, :work_unit, :kind, :issuing_body, :level, :valid_until, 0,"
            " FALSE)",
            _pool_row(event),
        )

    @process.register
    def _profile(self, event: Expert.ProfileChanged, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {expert_pool} SET name = :name, work_unit = :work_unit,"
            " certificate_kind = :kind, issuing_body = :issuing_body, level = :level,"
            " valid_until = :valid_until WHERE expert_id = :id",
            _pool_row(event),
        )

    @process.register
    def _conflict(self, event: Expert.ConflictDeclared, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {expert_pool} SET conflicts = conflicts + 1 WHERE expert_id = :id",
            {"id": id_text(event.originator_id)},
        )

    @process.register
    def _retired(self, event: Expert.Retired, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {expert_pool} SET retired = TRUE WHERE expert_id = :id",
            {"id": id_text(event.originator_id)},
        )

    # Rounds.

    @process.register
    def _opened(self, event: ReviewRound.Opened, tx: Tx, position: int) -> None:
        for entrant in event.entrants:
            tx.execute(
                "INSERT INTO {review_entrants} (round_id, campaign_id, round_code, round_name,"
                " submission_id, serial, title, score, rule, closed) VALUES (:round, :campaign,"
                " :code, :name, :submission, :serial, :title, NULL, '', FALSE)",
                {
                    "round": id_text(event.originator_id),
                    "campaign": id_text(event.campaign_id),
                    "code": event.code,
                    "name": event.name_zh,
                    "submission": id_text(entrant["submission_id"]),
                    "serial": entrant["serial"],
                    "title": entrant["title"],
                },
            )

    @process.register
    def _assigned(self, event: ReviewRound.ReviewerAssigned, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {review_assignments} (round_id, submission_id, reviewer, reviewer_name,"
            " sheet_id, total, corrections) VALUES (:round, :submission, :reviewer, :name,"
            " NULL, NULL, 0)",
            {
                "round": id_text(event.originator_id),
                "submission": id_text(event.submission_id),
                "reviewer": event.reviewer,
                "name": event.reviewer_name,
            },
        )

    @process.register
    def _released(self, event: ReviewRound.ReviewerReleased, tx: Tx, position: int) -> None:
        tx.execute(
            "DELETE FROM {review_assignments} WHERE round_id = :round AND"
            " submission_id = :submission AND reviewer = :reviewer",
            {
                "round": id_text(event.originator_id),
                "submission": id_text(event.submission_id),
                "reviewer": event.reviewer,
            },
        )

    @process.register
    def _sheet(self, event: ReviewRound.SheetFiled, tx: Tx, position: int) -> None:
        keys = {
            "round": id_text(event.originator_id),
            "submission": id_text(event.submission_id),
            "reviewer": event.reviewer,
        }
        tx.execute(
            "UPDATE {review_assignments} SET sheet_id = :sheet, total = :total,"
            " corrections = corrections + :correction WHERE round_id = :round AND"
            " submission_id = :submission AND reviewer = :reviewer",
            {
                **keys,
                "sheet": id_text(event.sheet_id),
                "total": str(event.total),
                "correction": 0 if event.corrects is None else 1,
            },
        )
        tx.execute(
            "INSERT INTO {review_entered_by} (round_id, submission_id, reviewer, entered_by)"
            " VALUES (:round, :submission, :reviewer, :by)"
            " ON CONFLICT (round_id, submission_id, reviewer)"
            " DO UPDATE SET entered_by = excluded.entered_by",
            {**keys, "by": event.actor_role},
        )

    # Reviewers' accounts: whom a reminder is mailed to (the account decides, when loaded).

    @process.register
    def _granted(self, event: Account.RoleGranted, tx: Tx, position: int) -> None:
        if event.role is not Role.REVIEWER or not event.scope:
            return
        tx.execute(
            "INSERT INTO {reviewer_accounts} (account_id, certificate_number)"
            " VALUES (:id, :number) ON CONFLICT DO NOTHING",
            {"id": id_text(event.originator_id), "number": event.scope},
        )

    @process.register
    def _revoked(self, event: Account.RoleRevoked, tx: Tx, position: int) -> None:
        if event.role is not Role.REVIEWER or not event.scope:
            return
        tx.execute(
            "DELETE FROM {reviewer_accounts} WHERE account_id = :id AND"
            " certificate_number = :number",
            {"id": id_text(event.originator_id), "number": event.scope},
        )

    @process.register
    def _aggregated(self, event: ReviewRound.ScoresAggregated, tx: Tx, position: int) -> None:
        for submission_id, result in event.results.items():
            tx.execute(
                "UPDATE {review_entrants} SET score = :score, rule = :rule"
                " WHERE round_id = :round AND submission_id = :submission",
                {
                    "score": _text(result["score"]),
                    "rule": result["rule"],
                    "round": id_text(event.originator_id),
                    "submission": submission_id,
                },
            )

    @process.register
    def _closed(self, event: ReviewRound.Closed, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {review_entrants} SET closed = TRUE WHERE round_id = :round",
            {"round": id_text(event.originator_id)},
        )

    # Results.

    @process.register
    def _graded(self, event: Grading.Graded, tx: Tx, position: int) -> None:
        self._replace_results(tx, event, id_text(event.campaign_id), event.entries)

    @process.register
    def _regraded(self, event: Grading.Regraded, tx: Tx, position: int) -> None:
        rows = tx.execute(
            "SELECT campaign_id FROM {review_results} WHERE grading_id = :grading LIMIT 1",
            {"grading": id_text(event.originator_id)},
        )
        self._replace_results(tx, event, str(rows[0][0]), event.entries)

    def _replace_results(
        self,
        tx: Tx,
        event: DomainEventProtocol[UUID],
        campaign_id: str,
        entries: list[dict[str, Any]],
    ) -> None:
        grading = id_text(event.originator_id)
        tx.execute("DELETE FROM {review_results} WHERE grading_id = :grading", {"grading": grading})
        for e in entries:
            tx.execute(
                "INSERT INTO {review_results} (grading_id, campaign_id, submission_id, serial,"
                " unit_name, group_name, topic, recommending_unit, domain, material, presentation,"
                " combined, rank, grade, status, certificate_code) VALUES (:grading, :campaign,"
                " :submission, :serial,"
                " :unit_name, :group_name, :topic, :unit, :domain, :material, :presentation,"
                " :combined, :rank, :grade, 'graded', NULL)",
                {
                    "grading": grading,
                    "campaign": campaign_id,
                    "submission": id_text(e["submission_id"]),
                    "serial": e["serial"],
                    "unit_name": e["unit_name"],
                    "group_name": e["group_name"],
                    "topic": e["topic"],
                    "unit": e["recommending_unit"],
                    "domain": e["domain"],
                    "material": str(e["material"]),
                    "presentation": _text(e["presentation"]),
                    "combined": str(e["combined"]),
                    "rank": e["rank"],
                    "grade": e["grade"],
                },
            )

    @process.register
    def _overridden(self, event: Grading.GradeOverridden, tx: Tx, position: int) -> None:
        self._set_grade(tx, event, event.submission_id, event.grade)

    @process.register
    def _resolved(self, event: Grading.ObjectionResolved, tx: Tx, position: int) -> None:
        if event.grade_changed:
            self._set_grade(tx, event, event.submission_id, event.grade)

    @process.register
    def _notice(self, event: Grading.NoticeOpened, tx: Tx, position: int) -> None:
        self._set_status(tx, event, "public_notice")

    @process.register
    def _notice_closed(self, event: Grading.NoticeClosed, tx: Tx, position: int) -> None:
        self._set_status(tx, event, "notice_closed")

    @process.register
    def _certificates(self, event: Grading.CertificatesIssued, tx: Tx, position: int) -> None:
        self._set_status(tx, event, "published")
        for submission_id, code in event.certificates.items():
            tx.execute(
                "UPDATE {review_results} SET certificate_code = :code"
                " WHERE grading_id = :grading AND submission_id = :submission",
                {
                    "code": code,
                    "grading": id_text(event.originator_id),
                    "submission": submission_id,
                },
            )

    def _set_grade(
        self, tx: Tx, event: DomainEventProtocol[UUID], submission_id: UUID, grade: str | None
    ) -> None:
        tx.execute(
            "UPDATE {review_results} SET grade = :grade WHERE grading_id = :grading"
            " AND submission_id = :submission",
            {
                "grade": grade,
                "grading": id_text(event.originator_id),
                "submission": id_text(submission_id),
            },
        )

    def _set_status(self, tx: Tx, event: DomainEventProtocol[UUID], status: str) -> None:
        tx.execute(
            "UPDATE {review_results} SET status = :status WHERE grading_id = :grading",
            {"status": status, "grading": id_text(event.originator_id)},
        )


def _pool_row(event: Expert.Enrolled | Expert.ProfileChanged) -> dict[str, Any]:
    profile = event.profile
    certificate = profile["certificate"]
    return {
        "id": id_text(event.originator_id),
        "number": certificate["number"],
        "name": profile["name"],
        "work_unit": profile["work_unit"],
        "kind": certificate["kind"],
        "issuing_body": certificate["issuing_body"],
        "level": certificate["level"],
        "valid_until": certificate["valid_until"].isoformat(),
    }


def list_experts(db: ViewDatabase) -> list[ExpertRow]:
    return select(
        db,
        ExpertRow,
        "SELECT certificate_number, name, work_unit, certificate_kind, issuing_body, level,"
        " valid_until, conflicts, retired FROM {expert_pool} ORDER BY certificate_number",
        {},
    )


_ASSIGNMENTS = (
    "SELECT e.round_id, e.campaign_id, e.round_code, e.round_name, e.submission_id, e.serial,"
    " e.title, a.reviewer, a.reviewer_name, a.sheet_id, a.total, a.corrections, e.closed,"
    " b.entered_by FROM {review_assignments} a JOIN {review_entrants} e"
    " ON e.round_id = a.round_id AND e.submission_id = a.submission_id"
    " LEFT JOIN {review_entered_by} b ON b.round_id = a.round_id"
    " AND b.submission_id = a.submission_id AND b.reviewer = a.reviewer"
)


def reviewer_queue(db: ViewDatabase, campaign_id: UUID, reviewer: str) -> list[AssignmentRow]:
    """What one reviewer has been given in a campaign, with what they have filed."""
    return select(
        db,
        AssignmentRow,
        _ASSIGNMENTS + " WHERE e.campaign_id = :campaign AND a.reviewer = :reviewer"
        " ORDER BY e.round_code, e.serial",
        {"campaign": str(campaign_id), "reviewer": reviewer},
    )


def score_matrix(
    db: ViewDatabase, round_id: UUID
) -> tuple[list[RoundScoreRow], list[AssignmentRow]]:
    """A round's entrants with their scores, and every (submission, reviewer) cell."""
    entrants = select(
        db,
        RoundScoreRow,
        "SELECT round_id, submission_id, serial, title, score, rule FROM {review_entrants}"
        " WHERE round_id = :round ORDER BY serial",
        {"round": str(round_id)},
    )
    cells = select(
        db,
        AssignmentRow,
        _ASSIGNMENTS + " WHERE e.round_id = :round ORDER BY e.serial, a.reviewer",
        {"round": str(round_id)},
    )
    return entrants, cells


class _AccountId(msgspec.Struct, frozen=True):
    account_id: str


def reviewer_accounts(db: ViewDatabase, certificate_number: str) -> list[UUID]:
    """The accounts granted the reviewer role for this certificate, as far as this view knows
    (load each one: the account decides whether it still holds the grant)."""
    rows = select(
        db,
        _AccountId,
        "SELECT account_id FROM {reviewer_accounts} WHERE certificate_number = :number"
        " ORDER BY account_id",
        {"number": certificate_number},
    )
    return [UUID(r.account_id) for r in rows]


RESULT_FILTERS = ("grade", "recommending_unit", "domain")


class ShownResult(msgspec.Struct, frozen=True, kw_only=True):
    """A result as the public list of published results shows it: the columns it writes, and
    no others to read and convert (the scores, as Decimals, are not shown)."""

    serial: str
    unit_name: str
    group_name: str
    topic: str
    recommending_unit: str
    grade: str


def published_results(db: ViewDatabase, campaign_id: UUID) -> list[ShownResult]:
    """The campaign's published results with a grade, best first (the public's list)."""
    return select(
        db,
        ShownResult,
        "SELECT serial, unit_name, group_name, topic, recommending_unit, grade"
        " FROM {review_results} WHERE campaign_id = :campaign AND status = 'published'"
        " AND grade IS NOT NULL AND grade <> '' ORDER BY rank",
        {"campaign": str(campaign_id)},
    )


def campaign_results(
    db: ViewDatabase, campaign_id: UUID, filters: dict[str, str | None]
) -> list[ResultRow]:
    """The campaign's ranking, best first, with grades and certificate codes."""
    where, params = equality_filters(filters, RESULT_FILTERS)
    params["campaign"] = str(campaign_id)
    return select(
        db,
        ResultRow,
        "SELECT campaign_id, submission_id, serial, unit_name, group_name, topic,"  # noqa: S608 (our columns)
        " recommending_unit, domain, material, presentation, combined, rank, grade, status,"
        " certificate_code FROM {review_results} WHERE campaign_id = :campaign AND "
        + where
        + " ORDER BY rank",
        params,
    )
