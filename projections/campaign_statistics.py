"""Campaign statistics (活动统计): what the platform knows from its own records, one row per
registration and per filed entry with the attributes it is counted by (recommending unit, key
domain, key industries, topic type) and how far it went (recommended, formal review, grade,
forwarded, national outcome). The figures are counted from these rows on read
(`projections.campaign_figures`)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.campaign import Campaign
from aggregates.grading import Grading
from aggregates.recommendation import Recommendation
from aggregates.registration import Registration
from aggregates.submission import Submission, national_status
from projections.runner import Projection
from projections.store import Tx, id_text


def _topic_type(form: dict[str, Any]) -> str | None:
    value = form.get("topic_type")
    return str(value.value if hasattr(value, "value") else value) if value else None


_DRAFTED = (
    "campaign_id",
    "credit_code",
    "recommending_unit",
    "applicant.key_domain",
    "applicant.key_industries",
    "form.topic_type",
)
"""What the statistics read of a drafted result."""


class CampaignStatisticsProjection(Projection):
    name = "campaign_statistics"
    topics = tuple(
        get_topic(e)
        for e in (
            Campaign.Opened,
            Campaign.RehearsalOpened,
            Campaign.RehearsalDeleted,
            Campaign.ResultsPublished,
            Registration.Registered,
            Registration.Changed,
            Submission.Drafted,
            Submission.Received,
            Submission.Edited,
            Submission.Submitted,
            Submission.Withdrawn,
            Submission.DirectChannelConfirmed,
            Submission.ReturnedForCorrection,
            Submission.Resubmitted,
            Submission.FormalReviewPassed,
            Submission.Rejected,
            Submission.ForwardedToNational,
            Submission.NationalForwardWithdrawn,
            Submission.NationalOutcomeRecorded,
            Recommendation.Started,
            Recommendation.EntryAdded,
            Recommendation.EntryRemoved,
            Recommendation.Filed,
            Recommendation.Returned,
            Recommendation.Invalidated,
            Grading.Graded,
            Grading.Regraded,
            Grading.GradeOverridden,
            Grading.ObjectionResolved,
        )
    )
    reads = {
        Submission.Drafted: _DRAFTED,
        Submission.Edited: ("recommending_unit", "form.topic_type"),
        Registration.Registered: (
            "campaign_id",
            "credit_code",
            "form.key_domain",
            "form.key_industries",
        ),
        Registration.Changed: ("form.key_domain", "form.key_industries"),
        **dict.fromkeys(
            (
                Submission.Submitted,
                Submission.ReturnedForCorrection,
                Submission.Resubmitted,
                Submission.FormalReviewPassed,
                Submission.Rejected,
            ),
            (),
        ),
        Recommendation.EntryAdded: ("submission_id",),
    }
    tables = (
        "stat_campaigns",
        "stat_entries",
        "stat_entry_industries",
        "stat_recommendations",
        "stat_recommended_entries",
        "stat_direct_entries",
        "stat_gradings",
    )

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_campaigns} ("
            " campaign_id TEXT PRIMARY KEY, programme TEXT NOT NULL, year INTEGER NOT NULL,"
            " title TEXT NOT NULL, published BOOLEAN NOT NULL)"
        )
        # kind: registration or submission. status: registered; or the submission's status.
        # filed: numbered (submitted) at some point; a withdrawn entry keeps it, so a withdrawal
        # counts only what had been filed, never a draft given up.
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_entries} ("
            " entry_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, kind TEXT NOT NULL,"
            " credit_code TEXT NOT NULL, recommending_unit TEXT, key_domain TEXT,"
            " topic_type TEXT, status TEXT NOT NULL, filed BOOLEAN NOT NULL,"
            " received BOOLEAN NOT NULL, formal_review TEXT, grade TEXT,"
            " national_status TEXT, national_grade_name TEXT)"
        )
        # A campaign's entries are read by it (its figures, a regrade, a deleted rehearsal):
        # without the index each read scanned every campaign's. A store made before it gets it
        # on start (the tables are created, if not there, each time), and a rebuild keeps it.
        tx.execute(
            "CREATE INDEX IF NOT EXISTS {stat_entries.campaign} ON {stat_entries} (campaign_id)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_entry_industries} ("
            " entry_id TEXT NOT NULL, campaign_id TEXT NOT NULL, industry TEXT NOT NULL,"
            " PRIMARY KEY (entry_id, industry))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_recommendations} ("
            " recommendation_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, unit TEXT NOT NULL,"
            " filed BOOLEAN NOT NULL, invalid BOOLEAN NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_recommended_entries} ("
            " recommendation_id TEXT NOT NULL, submission_id TEXT NOT NULL,"
            " PRIMARY KEY (recommendation_id, submission_id))"
        )
        # Results the secretariat confirmed through the direct channel (直接受理): recommended
        # with no recommendation form.
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_direct_entries} ("
            " submission_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {stat_gradings} ("
            " grading_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    # Campaigns.

    @process.register
    def _opened(self, event: Campaign.Opened, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_campaigns} (campaign_id, programme, year, title, published)"
            " VALUES (:id, :programme, :year, :title, FALSE)",
            {
                "id": id_text(event.originator_id),
                "programme": event.programme.value,
                "year": event.year,
                "title": event.title,
            },
        )

    @process.register
    def _rehearsal_opened(self, event: Campaign.RehearsalOpened, tx: Tx, position: int) -> None:
        """A rehearsal is never counted (ADR 36): without its row here no figure, tenant total or
        year-over-year comparison reads its entries."""

    @process.register
    def _rehearsal_deleted(self, event: Campaign.RehearsalDeleted, tx: Tx, position: int) -> None:
        params = {"id": id_text(event.originator_id)}
        tx.execute(
            "DELETE FROM {stat_recommended_entries} WHERE recommendation_id IN"
            " (SELECT recommendation_id FROM {stat_recommendations} WHERE campaign_id = :id)",
            params,
        )
        for table in ("stat_entries", "stat_entry_industries", "stat_recommendations"):
            tx.execute(f"DELETE FROM {{{table}}} WHERE campaign_id = :id", params)  # noqa: S608
        tx.execute("DELETE FROM {stat_gradings} WHERE campaign_id = :id", params)

    @process.register
    def _published(self, event: Campaign.ResultsPublished, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {stat_campaigns} SET published = TRUE WHERE campaign_id = :id",
            {"id": id_text(event.originator_id)},
        )

    # Registrations.

    @process.register
    def _registered(self, event: Registration.Registered, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_entries} (entry_id, campaign_id, kind, credit_code, key_domain,"
            " status, filed, received) VALUES (:id, :campaign, 'registration', :credit, :domain,"
            " 'registered', FALSE, FALSE)",
            {
                "id": id_text(event.originator_id),
                "campaign": id_text(event.campaign_id),
                "credit": event.credit_code,
                "domain": event.form.get("key_domain"),
            },
        )
        self._industries(tx, event.originator_id, event.campaign_id, event.form)

    @process.register
    def _registration_changed(self, event: Registration.Changed, tx: Tx, position: int) -> None:
        rows = tx.execute(
            "SELECT campaign_id FROM {stat_entries} WHERE entry_id = :id",
            {"id": id_text(event.originator_id)},
        )
        self._set(tx, event.originator_id, key_domain=event.form.get("key_domain"))
        self._industries(tx, event.originator_id, rows[0][0], event.form)

    # Submissions.

    @process.register
    def _drafted(self, event: Submission.Drafted, tx: Tx, position: int) -> None:
        self._insert_submission(tx, event, status="draft", filed=False, received=False)

    @process.register
    def _received(self, event: Submission.Received, tx: Tx, position: int) -> None:
        self._insert_submission(tx, event, status="submitted", filed=True, received=True)

    @process.register
    def _edited(self, event: Submission.Edited, tx: Tx, position: int) -> None:
        self._set(
            tx,
            event.originator_id,
            recommending_unit=event.recommending_unit,
            topic_type=_topic_type(dict(event.form)),
        )

    @process.register
    def _submitted(self, event: Submission.Submitted, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, status="submitted", filed=True)

    @process.register
    def _withdrawn(self, event: Submission.Withdrawn, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, status="withdrawn")

    @process.register
    def _direct(self, event: Submission.DirectChannelConfirmed, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_direct_entries} (submission_id, campaign_id)"
            " SELECT entry_id, campaign_id FROM {stat_entries} WHERE entry_id = :id"
            " ON CONFLICT DO NOTHING",
            {"id": id_text(event.originator_id)},
        )

    @process.register
    def _returned(self, event: Submission.ReturnedForCorrection, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, status="returned")

    @process.register
    def _resubmitted(self, event: Submission.Resubmitted, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, status="submitted")

    @process.register
    def _passed(self, event: Submission.FormalReviewPassed, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, formal_review="passed")

    @process.register
    def _rejected(self, event: Submission.Rejected, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, formal_review="rejected", status="rejected")

    @process.register
    def _forwarded(self, event: Submission.ForwardedToNational, tx: Tx, position: int) -> None:
        self._set(tx, event.originator_id, national_status="forwarded")

    @process.register
    def _forward_withdrawn(
        self, event: Submission.NationalForwardWithdrawn, tx: Tx, position: int
    ) -> None:
        self._set(tx, event.originator_id, national_status="withdrawn")

    @process.register
    def _national_outcome(
        self, event: Submission.NationalOutcomeRecorded, tx: Tx, position: int
    ) -> None:
        status = national_status(event.outcome)
        if status is not None:
            self._set(
                tx,
                event.originator_id,
                national_status=status,
                national_grade_name=event.outcome.get("grade_name") if status == "graded" else None,
            )

    # Recommendation forms: an entry counts as recommended while its form is filed and valid
    # (or when the secretariat confirmed it through the direct channel, above).

    @process.register
    def _started(self, event: Recommendation.Started, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_recommendations} (recommendation_id, campaign_id, unit, filed,"
            " invalid) VALUES (:id, :campaign, :unit, FALSE, FALSE)",
            {
                "id": id_text(event.originator_id),
                "campaign": id_text(event.campaign_id),
                "unit": event.unit,
            },
        )

    @process.register
    def _entry_added(self, event: Recommendation.EntryAdded, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_recommended_entries} (recommendation_id, submission_id)"
            " VALUES (:id, :submission) ON CONFLICT DO NOTHING",
            {"id": id_text(event.originator_id), "submission": id_text(event.submission_id)},
        )

    @process.register
    def _entry_removed(self, event: Recommendation.EntryRemoved, tx: Tx, position: int) -> None:
        tx.execute(
            "DELETE FROM {stat_recommended_entries}"
            " WHERE recommendation_id = :id AND submission_id = :submission",
            {"id": id_text(event.originator_id), "submission": id_text(event.submission_id)},
        )

    @process.register
    def _filed(self, event: Recommendation.Filed, tx: Tx, position: int) -> None:
        self._form(tx, event.originator_id, "filed = TRUE")

    @process.register
    def _form_returned(self, event: Recommendation.Returned, tx: Tx, position: int) -> None:
        self._form(tx, event.originator_id, "filed = FALSE")

    @process.register
    def _invalidated(self, event: Recommendation.Invalidated, tx: Tx, position: int) -> None:
        self._form(tx, event.originator_id, "invalid = TRUE")

    # Grades: the grading record's current grade of each entry.

    @process.register
    def _graded(self, event: Grading.Graded, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {stat_gradings} (grading_id, campaign_id) VALUES (:id, :campaign)",
            {"id": id_text(event.originator_id), "campaign": id_text(event.campaign_id)},
        )
        self._grades(tx, event.originator_id, event.entries)

    @process.register
    def _regraded(self, event: Grading.Regraded, tx: Tx, position: int) -> None:
        self._grades(tx, event.originator_id, event.entries)

    @process.register
    def _overridden(self, event: Grading.GradeOverridden, tx: Tx, position: int) -> None:
        self._set(tx, event.submission_id, grade=event.grade)

    @process.register
    def _objection(self, event: Grading.ObjectionResolved, tx: Tx, position: int) -> None:
        if event.grade_changed:
            self._set(tx, event.submission_id, grade=event.grade)

    # Writing.

    def _insert_submission(
        self,
        tx: Tx,
        event: Submission.Drafted | Submission.Received,
        *,
        status: str,
        filed: bool,
        received: bool,
    ) -> None:
        tx.execute(
            "INSERT INTO {stat_entries} (entry_id, campaign_id, kind, credit_code,"
            " recommending_unit, key_domain, topic_type, status, filed, received) VALUES (:id,"
            " :campaign, 'submission', :credit, :unit, :domain, :topic, :status, :filed,"
            " :received)",
            {
                "id": id_text(event.originator_id),
                "campaign": id_text(event.campaign_id),
                "credit": event.credit_code,
                "unit": event.recommending_unit,
                "domain": event.applicant.get("key_domain"),
                "topic": _topic_type(dict(event.form)),
                "status": status,
                "filed": filed,
                "received": received,
            },
        )
        self._industries(tx, event.originator_id, event.campaign_id, event.applicant)

    def _industries(
        self, tx: Tx, entry_id: UUID, campaign_id: UUID | str, values: dict[str, Any]
    ) -> None:
        tx.execute(
            "DELETE FROM {stat_entry_industries} WHERE entry_id = :id", {"id": id_text(entry_id)}
        )
        for industry in dict.fromkeys(values.get("key_industries") or ()):
            tx.execute(
                "INSERT INTO {stat_entry_industries} (entry_id, campaign_id, industry)"
                " VALUES (:id, :campaign, :industry)",
                {"id": id_text(entry_id), "campaign": id_text(campaign_id), "industry": industry},
            )

    def _set(self, tx: Tx, entry_id: UUID, **changes: Any) -> None:
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        tx.execute(
            f"UPDATE {{stat_entries}} SET {assignments} WHERE entry_id = :entry_id",  # noqa: S608 (our columns)
            {"entry_id": id_text(entry_id), **changes},
        )

    def _form(self, tx: Tx, recommendation_id: UUID, assignment: str) -> None:
        tx.execute(
            f"UPDATE {{stat_recommendations}} SET {assignment} WHERE recommendation_id = :id",  # noqa: S608 (ours)
            {"id": id_text(recommendation_id)},
        )

    def _grades(self, tx: Tx, grading_id: UUID, entries: list[dict[str, Any]]) -> None:
        tx.execute(
            "UPDATE {stat_entries} SET grade = NULL WHERE campaign_id ="
            " (SELECT campaign_id FROM {stat_gradings} WHERE grading_id = :id)",
            {"id": id_text(grading_id)},
        )
        for entry in entries:
            if entry.get("grade") is not None:
                self._set(tx, UUID(str(entry["submission_id"])), grade=entry["grade"])
