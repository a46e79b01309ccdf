"""The campaign list of a tenant (活动列表): one row per campaign, what the list page shows."""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

import msgspec
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from aggregates.campaign import Campaign
from projections.runner import Projection
from projections.store import Tx, ViewDatabase


class CampaignSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the campaign list."""

    campaign_id: str
    programme: str
    year: int
    title: str
    document_number: str | None
    status: str
    version: int
    timeline: dict[str, dict[str, datetime | None]]
    opened_at: datetime
    modified_at: datetime
    published_at: datetime | None
    rehearsal: bool = False
    """A rehearsal (演练, ADR 36): shown marked, never on the public site."""


_timeline_type = dict[str, dict[str, datetime | None]]


class CampaignListProjection(Projection):
    name = "campaign_list"
    topics = tuple(
        get_topic(e)
        for e in (
            Campaign.Opened,
            Campaign.RehearsalOpened,
            Campaign.RehearsalDeleted,
            Campaign.PhaseRescheduled,
            Campaign.DeadlineExtended,
            Campaign.RulesAmended,
            Campaign.ResultsPublished,
            Campaign.Archived,
        )
    )
    tables = ("campaign_list", "campaign_rehearsals")

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {campaign_list} ("
            " campaign_id TEXT PRIMARY KEY,"
            " programme TEXT NOT NULL,"
            " year INTEGER NOT NULL,"
            " title TEXT NOT NULL,"
            " document_number TEXT,"
            " status TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " timeline TEXT NOT NULL,"
            " opened_at TEXT NOT NULL,"
            " modified_at TEXT NOT NULL,"
            " published_at TEXT)"
        )
        # Its own table rather than a column, so a view built before rehearsals needs no rebuild.
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {campaign_rehearsals} (campaign_id TEXT PRIMARY KEY)"
        )

    @singledispatchmethod
    def process(self, event: DomainEvent, tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _opened(self, event: Campaign.Opened, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {campaign_list} (campaign_id, programme, year, title, document_number,"
            " status, version, timeline, opened_at, modified_at)"
            " VALUES (:id, :programme, :year, :title, :document_number, 'open', :version,"
            " :timeline, :at, :at)",
            {
                "id": str(event.originator_id),
                "programme": str(event.programme),
                "year": event.year,
                "title": event.title,
                "document_number": event.document_number,
                "version": event.originator_version,
                "timeline": msgspec.json.encode(event.timeline).decode(),
                "at": event.timestamp.isoformat(),
            },
        )

    @process.register
    def _rehearsal_opened(self, event: Campaign.RehearsalOpened, tx: Tx, position: int) -> None:
        self._opened(event, tx, position)
        tx.execute(
            "INSERT INTO {campaign_rehearsals} (campaign_id) VALUES (:id)",
            {"id": str(event.originator_id)},
        )

    @process.register
    def _rehearsal_deleted(self, event: Campaign.RehearsalDeleted, tx: Tx, position: int) -> None:
        for table in ("campaign_list", "campaign_rehearsals"):
            tx.execute(
                f"DELETE FROM {{{table}}} WHERE campaign_id = :id",  # noqa: S608 (our tables)
                {"id": str(event.originator_id)},
            )

    @process.register
    def _rescheduled(self, event: Campaign.PhaseRescheduled, tx: Tx, position: int) -> None:
        self._change_window(tx, event, str(event.phase), event.opens_at, event.closes_at)

    @process.register
    def _extended(self, event: Campaign.DeadlineExtended, tx: Tx, position: int) -> None:
        timeline = self._timeline(tx, event)
        opens_at = timeline.get(str(event.phase), {}).get("opens_at")
        self._change_window(tx, event, str(event.phase), opens_at, event.closes_at)

    @process.register
    def _amended(self, event: Campaign.RulesAmended, tx: Tx, position: int) -> None:
        self._touch(tx, event, {})

    @process.register
    def _published(self, event: Campaign.ResultsPublished, tx: Tx, position: int) -> None:
        self._touch(
            tx, event, {"status": "published", "published_at": event.published_at.isoformat()}
        )

    @process.register
    def _archived(self, event: Campaign.Archived, tx: Tx, position: int) -> None:
        self._touch(tx, event, {"status": "archived"})

    def _timeline(self, tx: Tx, event: DomainEvent) -> _timeline_type:
        rows = tx.execute(
            "SELECT timeline FROM {campaign_list} WHERE campaign_id = :id",
            {"id": str(event.originator_id)},
        )
        return msgspec.json.decode(rows[0][0], type=_timeline_type) if rows else {}

    def _change_window(
        self,
        tx: Tx,
        event: DomainEvent,
        phase: str,
        opens_at: datetime | None,
        closes_at: datetime,
    ) -> None:
        timeline = self._timeline(tx, event)
        timeline[phase] = {"opens_at": opens_at, "closes_at": closes_at}
        self._touch(tx, event, {"timeline": msgspec.json.encode(timeline).decode()})

    def _touch(self, tx: Tx, event: DomainEvent, changes: dict[str, Any]) -> None:
        assignments = "".join(f", {column} = :{column}" for column in changes)
        tx.execute(
            f"UPDATE {{campaign_list}} SET version = :version, modified_at = :at{assignments}"  # noqa: S608 (column names are ours)
            " WHERE campaign_id = :id",
            {
                "id": str(event.originator_id),
                "version": event.originator_version,
                "at": event.timestamp.isoformat(),
                **changes,
            },
        )


LISTED = "campaign_list"
"""The projection's name: its stored position keys `list_campaigns`'s cache."""

_LIST = (
    "SELECT c.campaign_id, programme, year, title, document_number, status, version,"
    " timeline, opened_at, modified_at, published_at, r.campaign_id IS NOT NULL"
    "{position}"
    " FROM {campaign_list} c"
    " LEFT JOIN {campaign_rehearsals} r ON r.campaign_id = c.campaign_id"
    " WHERE (:all_programmes OR programme = :programme)"
    " AND (:all_years OR year = :year)"
    " ORDER BY year DESC, programme, r.campaign_id IS NOT NULL"
)
LIST = _LIST.replace("{position}", "")
LIST_AT = _LIST.replace(
    "{position}",
    ", (SELECT t.notification_id FROM {projection_tracking} t"
    " WHERE t.projection = :projection AND t.upstream = :upstream)",
)
"""The list and, in the same statement (one snapshot), the position it is as of."""

CACHED_LISTS = 256
"""Lists kept per view database (a filter's programme and year each: few in practice)."""


class _Listed:
    """A view database's lists, each with the stored position it was read at."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str | None, int | None], tuple[int, list[CampaignSummary]]] = {}
        self.lock = threading.Lock()
        self.reads = 0
        """Lists read from the store, cache misses (tests and benchmarks)."""


_LISTED: weakref.WeakKeyDictionary[ViewDatabase, _Listed] = weakref.WeakKeyDictionary()
_LISTED_LOCK = threading.Lock()


def listed(db: ViewDatabase) -> _Listed:
    with _LISTED_LOCK:
        found = _LISTED.get(db)
        if found is None:
            found = _LISTED[db] = _Listed()
        return found


def kept_campaigns(
    db: ViewDatabase,
    programme: str | None = None,
    year: int | None = None,
    *,
    position: int | None,
) -> list[CampaignSummary] | None:
    """The list `list_campaigns` read at `position`, if it kept it (no I/O: a caller on the
    event loop may ask); None otherwise."""
    if position is None:
        return None
    cache = listed(db)
    with cache.lock:
        kept = cache.lists.get((programme, year))
    return list(kept[1]) if kept is not None and kept[0] == position else None


def list_campaigns(
    db: ViewDatabase,
    programme: str | None = None,
    year: int | None = None,
    *,
    upstream: str | None = None,
    position: int | None = None,
) -> list[CampaignSummary]:
    """The tenant's campaigns, newest year first.

    With `position` (this view's stored position, read by the caller just now: the session's
    statement does on PostgreSQL, ADR 0031) and `upstream` (the tenant's ledger), a list read
    before at that same position is answered again without a query: the view's rows change
    only in the transactions that move its position (`Tx.advance`), so the same position means
    the same rows. Any other position reads the list and its position in one statement."""
    kept = kept_campaigns(db, programme, year, position=position)
    if kept is not None:
        return kept
    cache = listed(db) if position is not None and upstream is not None else None
    key = (programme, year)
    # Typed flags rather than bare NULLs: PostgreSQL cannot type a bare NULL parameter.
    params: dict[str, Any] = {
        "all_programmes": programme is None,
        "programme": programme or "",
        "all_years": year is None,
        "year": year or 0,
    }
    if cache is not None:
        params |= {"projection": LISTED, "upstream": upstream}
    with db.read() as tx:
        rows = tx.execute(LIST if cache is None else LIST_AT, params)
    summaries = [
        CampaignSummary(
            campaign_id=row[0],
            programme=row[1],
            year=row[2],
            title=row[3],
            document_number=row[4],
            status=row[5],
            version=row[6],
            timeline=msgspec.json.decode(row[7], type=_timeline_type),
            opened_at=datetime.fromisoformat(row[8]),
            modified_at=datetime.fromisoformat(row[9]),
            published_at=datetime.fromisoformat(row[10]) if row[10] else None,
            rehearsal=bool(row[11]),
        )
        for row in rows
    ]
    if cache is not None and rows and rows[0][12] is not None:
        with cache.lock:
            cache.reads += 1
            if len(cache.lists) >= CACHED_LISTS:
                cache.lists.clear()
            cache.lists[key] = (int(rows[0][12]), summaries)
        return list(summaries)
    if cache is not None:
        with cache.lock:
            cache.reads += 1
    return summaries
