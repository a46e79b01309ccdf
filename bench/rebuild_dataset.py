"""The rebuild benchmark's data set: twelve years (2015-2026) of QC-group and team campaigns of
every tenant, generated through the ledgers' real commands (see rebuild_season.py) and loaded into
each tenant's schema with COPY; then a sample of aggregates is loaded back through the library's
repository to prove the stored events decode."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent, Tracking

from aggregates.campaign import Campaign, Programme
from aggregates.expert import Expert
from aggregates.forwarding import Forwarding
from aggregates.ledger.application import AssociationLedger
from aggregates.submission import Submission
from api.demo.season import Season, Tenancy
from api.demo.season_world import beijing, population
from bench.rebuild_store import EventLog, SimulatedLedger, SimulatedTime, connect
from projections.forwarding import FORWARDING_TOPICS, OUTCOME_TOPICS
from tenants.postgres import provision_schemas
from tenants.registry import Tenant, TenantRegistry
from tenants.runtime import StoreLocation

YEARS = range(2015, 2027)
AS_OF = beijing(2026, 11, 20)
"""The data set's today: later steps (the national 2026 grading) have not happened yet."""
TENANT_WEIGHTS = {"saq": 1.0, "sdaq": 0.9, "cmiqa": 0.45, "caq": 0.5}
PROGRAMME_WEIGHTS = {Programme.QC_GROUP: 1.0, Programme.TEAM: 0.6}
FIRST_GUESS = 42.0
"""Events per participating applicant unit before any season has been measured."""
MARGIN = 1.03
"""Aim a little over the target, so the total stays at or above it."""
KEPT = (Campaign, Expert)
"""Aggregates that live on from one year to the next (the rest are dropped after each year)."""


@dataclass
class Dataset:
    """What was generated: counts per tenant and topic, and aggregates to load back."""

    events: int = 0
    seconds: float = 0.0
    topics: dict[str, Counter[str]] = field(default_factory=dict)
    samples: dict[str, list[tuple[UUID, int, str]]] = field(default_factory=dict)
    tracking: dict[str, dict[str, int]] = field(default_factory=dict)
    participants: int = 0


def weight(code: str, programme: Programme, year: int) -> float:
    """A season's share: the tenant's size, the programme's, and growth over the years."""
    return TENANT_WEIGHTS.get(code, 0.5) * PROGRAMME_WEIGHTS[programme] * (1 + 0.06 * (year - 2015))


def follow(member: Tenancy, national: Tenancy, unit: str) -> None:
    """The forwarding edge, run synchronously: the national intake records what the member
    forwards, and the member records the national outcomes sent back (each with tracking)."""
    origin, parent = member.tenant.code, national.tenant.code

    def intake(position: int, stored: StoredEvent) -> None:
        event = member.ledger.decode(stored)
        tracking = Tracking(origin, position)
        if isinstance(event, Forwarding.ResultForwarded):
            national.ledger.receive_forward(event, origin, unit, tracking)
        elif isinstance(event, Forwarding.ForwardWithdrawn):
            national.ledger.receive_withdrawal(event, origin, unit, tracking)
        elif isinstance(event, Forwarding.ReportForwarded):
            national.ledger.receive_report(event, origin, unit, tracking)

    def outcome(position: int, stored: StoredEvent) -> None:
        event = national.ledger.decode(stored)
        if isinstance(event, Submission.OutcomeSent) and event.origin_tenant == origin:
            member.ledger.record_national_outcome(event, parent, Tracking(parent, position))

    member.ledger.followers.append((frozenset(FORWARDING_TOPICS), intake))
    national.ledger.followers.append((frozenset(OUTCOME_TOPICS), outcome))


def _sample(t: Tenancy, found: dict[str, list[tuple[UUID, int, str]]], year: int) -> None:
    """Per aggregate class, the first one seen and one of the last year (biggest histories);
    the aggregates kept across years (campaigns, reviewers) once they are final."""
    picked = found.setdefault(t.tenant.code, [])
    kinds = {kind for _, _, kind in picked}
    last = year == YEARS[-1]
    for aggregate in t.ledger.live.values():
        if isinstance(aggregate, KEPT) and not last:
            continue
        kind = type(aggregate).__qualname__
        if kind not in kinds or (last and sum(k == kind for *_, k in picked) < 2):
            picked.append((aggregate.id, aggregate.version, kind))
            kinds.add(kind)


def create_tables(conninfo: str, registry: TenantRegistry) -> dict[str, StoreLocation]:
    locations = {
        t.code: StoreLocation(t.code, conninfo=conninfo, schema=t.schema) for t in registry
    }
    provision_schemas(conninfo, (t.schema for t in registry))
    for location in locations.values():
        AssociationLedger(location.ledger_env(pool_size=1)).close()  # creates its tables
    return locations


def generate(conninfo: str, registry: TenantRegistry, target: int, seed: int) -> Dataset:
    """At least `target` events over every tenant, loaded into the tenants' schemas."""
    started = time.perf_counter()
    locations = create_tables(conninfo, registry)
    tenants: list[Tenant] = list(registry)
    seasons = [(y, p, t.code) for y in YEARS for p in Programme for t in tenants]
    scale = target * MARGIN / FIRST_GUESS / sum(weight(c, p, y) for y, p, c in seasons)
    biggest = {t.code: max(weight(t.code, p, y) for y, p, _ in seasons) for t in tenants}
    clock = SimulatedTime(beijing(YEARS[0], 1, 1))
    dataset = Dataset()
    with connect(conninfo, autocommit=True) as conn:
        logs = {t.code: EventLog(conn, t.schema) for t in tenants}
        tenancies = {
            t.code: Tenancy(
                t,
                SimulatedLedger(t.code, logs[t.code], clock),
                population(t, max(60, int(biggest[t.code] * scale * 3)), seed),
                random.Random(f"{seed}/{t.code}/history"),
            )
            for t in tenants
        }
        for t in tenancies.values():
            unit = registry.national_unit(t.tenant.code)
            parent = tenancies.get(t.tenant.national_parent or "")
            if unit is not None and parent is not None:
                follow(t, parent, unit.code)
        with clock.running():
            for year in YEARS:
                steps = []
                for programme in Programme:
                    sizes = {
                        c: max(3, round(scale * weight(c, programme, year))) for c in tenancies
                    }
                    dataset.participants += sum(sizes.values())
                    steps += Season(tenancies, clock, year, programme, sizes).steps()
                for when, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
                    if when <= AS_OF:
                        step()
                for t in tenancies.values():
                    _sample(t, dataset.samples, year)
                    t.ledger.forget(KEPT)
                made = sum(log.head for log in logs.values())
                rest = sum(weight(c, p, y) for y, p, c in seasons if y > year)
                if rest:  # size the years left by the events per participant measured so far
                    per_participant = made / dataset.participants
                    scale = max(0.0, target * MARGIN - made) / per_participant / rest
                print(f"  {year}: {made:,} events", flush=True)
        for code, log in logs.items():
            log.finish()
            dataset.topics[code] = log.topics
            dataset.tracking[code] = dict(log.tracking)
            dataset.events += log.head
    _insert_tracking(locations, dataset.tracking)
    _vacuum(conninfo, registry)
    dataset.seconds = time.perf_counter() - started
    return dataset


def _insert_tracking(
    locations: dict[str, StoreLocation], tracking: dict[str, dict[str, int]]
) -> None:
    """Where each forwarding follower has got to, so one started on this data set goes on."""
    for code, positions in tracking.items():
        if not positions:
            continue
        ledger = AssociationLedger(locations[code].ledger_env(pool_size=1))
        try:
            for upstream, position in positions.items():
                ledger.process_recorder.insert_tracking(Tracking(upstream, position))
        finally:
            ledger.close()


def _vacuum(conninfo: str, registry: TenantRegistry) -> None:
    # Freshly copied rows get their hint bits set by whoever reads them first: do it now, so
    # neither measured reader pays for it, and give the planner statistics.
    with connect(conninfo, autocommit=True) as conn:
        for t in registry:
            conn.execute(f'VACUUM (ANALYZE) "{t.schema}"."{AssociationLedger.name}_events"')


def check(conninfo: str, registry: TenantRegistry, dataset: Dataset) -> list[str]:
    """Load the sampled aggregates back through the library and check the log's shape; answers
    a line per tenant (raises on any mismatch)."""
    lines = []
    for t in registry:
        location = StoreLocation(t.code, conninfo=conninfo, schema=t.schema)
        ledger = AssociationLedger(location.ledger_env(pool_size=1))
        try:
            for aggregate_id, version, kind in dataset.samples.get(t.code, []):
                loaded: Aggregate = ledger.repository.get(aggregate_id)
                if (loaded.version, type(loaded).__qualname__) != (version, kind):
                    msg = f"{t.code}: {kind} {aggregate_id} loaded as {loaded!r} v{loaded.version}"
                    raise RuntimeError(msg)
            with connect(conninfo) as conn:
                table = f'"{t.schema}"."{AssociationLedger.name}_events"'
                row: Any = conn.execute(
                    f"SELECT count(*), min(notification_id), max(notification_id),"
                    f" (SELECT last_value FROM {t.schema}.ledger_events_notification_id_seq)"
                    f" FROM {table}"
                ).fetchone()
            expected = sum(dataset.topics[t.code].values())
            if tuple(row) != (
                expected,
                1 if expected else None,
                expected or None,
                max(expected, 1),
            ):
                raise RuntimeError(f"{t.code}: log is {tuple(row)}, expected {expected} from 1")
            head = ledger.recorder.max_notification_id()
        finally:
            ledger.close()
        loaded = len(dataset.samples.get(t.code, []))
        lines.append(f"{t.code}: {expected:,} events, ids 1..{head}, {loaded} aggregates reloaded")
    return lines
