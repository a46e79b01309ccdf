"""The ledger's audit queries: an aggregate's history, event by event with what each changed; its
state as it was at a past moment or version; and a campaign's review outcomes recomputed from its
recorded score sheets. They read; they never write."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, DomainEventProtocol

from aggregates.audit_findings import Recomputation
from aggregates.audit_recompute import recompute
from aggregates.campaign import Campaign, CampaignNotFound
from aggregates.grading import Grading, Standing
from aggregates.ledger.base import LedgerBase
from aggregates.ledger.review import standing_of
from aggregates.problems import NotFound, Problem
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission

if TYPE_CHECKING:
    from collections.abc import Callable

A = TypeVar("A", bound=Aggregate)

HIDDEN = frozenset({"password_hash"})
"""State no one reads back, not even an auditor: the history shows that it changed."""
BOOKKEEPING = frozenset({"originator_id", "originator_version", "timestamp"})


class AuditNotFound(NotFound):
    def __init__(self, field: str = "aggregate_id") -> None:
        super().__init__(Problem(field, "not_found", "未找到该记录（或该时刻尚无此记录）"))


class NothingToRecompute(NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("campaign_id", "no_review", "该活动尚未开始专家评审，无可重算"))


@dataclass(frozen=True)
class Step:
    """One event of an aggregate's history."""

    version: int
    at: datetime
    event: str
    """The event's class, e.g. `Submission.Submitted`."""
    actor_id: str | None
    actor_role: str | None
    recorded: dict[str, Any]
    """What the event recorded, besides who and when (hidden values masked)."""
    changes: dict[str, tuple[Any, Any]]
    """Each part of the state it changed: (before, after)."""


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    return {k: ("（已隐藏）" if k in HIDDEN and v is not None else v) for k, v in values.items()}


def state_of(aggregate: Aggregate | None) -> dict[str, Any]:
    """An aggregate's state as plain attributes (the library's own bookkeeping left out)."""
    if aggregate is None:
        return {}
    return _masked({k: v for k, v in vars(aggregate).items() if not k.startswith("_")})


class AuditQueries(LedgerBase):
    def history(self, aggregate_id: UUID, kind: type[Aggregate], after: int = 0) -> Iterator[Step]:
        """Every event of the aggregate after version `after`, in order, replayed one by one to
        show what it changed. The events up to `after` are replayed without being shown: no
        copies of them are made (a page of 50 steps of a 500-event record copies its state 50
        times, not 500), and a reader who stops early leaves the rest unread."""
        # Each step keeps copies: later events change nested state (a list of grants, a dict of
        # files) in place, and state may hold an event's own values, so a step that kept a live
        # reference would show later facts as if they were already there.
        aggregate: Any = None
        before: dict[str, Any] = {}
        for event in self.events.get(aggregate_id):
            if event.originator_version <= after:
                aggregate = _mutate(event, aggregate)
                if not isinstance(aggregate, kind):
                    raise AuditNotFound()
                continue
            if event.originator_version == after + 1 and aggregate is not None:
                before = copy.deepcopy(state_of(aggregate))
            recorded = copy.deepcopy(
                {
                    k: v
                    for k, v in vars(event).items()
                    if k not in BOOKKEEPING and k not in ("actor_id", "actor_role")
                }
            )
            aggregate = _mutate(event, aggregate)
            if not isinstance(aggregate, kind):
                raise AuditNotFound()
            # Only the parts that changed are copied: an unchanged part keeps the copy made when
            # it last changed (equal to it, and never changed itself), so a step costs what it
            # changed, not the whole state (a round's 249 entrants at each of its steps).
            state: dict[str, Any] = {}
            changes: dict[str, tuple[Any, Any]] = {}
            for k, value in state_of(aggregate).items():
                if before.get(k) == value:
                    state[k] = before.get(k, value)
                else:
                    state[k] = copy.deepcopy(value)
                    changes[k] = (before.get(k), state[k])
            for k in before.keys() - state.keys():
                if before[k] is not None:
                    changes[k] = (before[k], None)
            yield Step(
                version=event.originator_version,
                at=_timestamp(event),
                event=type(event).__qualname__,
                actor_id=getattr(event, "actor_id", None),
                actor_role=getattr(event, "actor_role", None),
                recorded=_masked(recorded),
                changes=changes,
            )
            before = state

    def state_at(
        self,
        aggregate_id: UUID,
        kind: type[A],
        *,
        at: datetime | None = None,
        version: int | None = None,
    ) -> A:
        """The aggregate as it was after `version`, or after the last event recorded at or before
        `at` (the recording time); the latest without either."""
        if at is not None:
            versions = [
                e.originator_version for e in self.events.get(aggregate_id) if _timestamp(e) <= at
            ]
            if not versions:
                raise AuditNotFound("at")
            version = versions[-1] if version is None else min(version, versions[-1])
        found = self._find(aggregate_id, kind, version)
        if found is None:
            raise AuditNotFound()
        return found

    def recompute(self, campaign_id: UUID) -> Recomputation:
        """The campaign's stage scores, ranking and grades recomputed from its recorded sheets and
        rules, and compared with what was recorded and published. Every record is replayed from
        its stored events, never from a snapshot: an event edited in the database must show."""
        campaign = _replayed(self.events.get(campaign_id), Campaign)
        if campaign is None:
            raise CampaignNotFound(campaign_id)
        plan = campaign.review_plan
        streams = [self.events.get(ReviewRound.create_id(campaign_id, p.code)) for p in plan.rounds]
        rounds = [events for events in map(list, streams) if events]
        if not rounds:
            raise NothingToRecompute()
        grading = list(self.events.get(Grading.create_id(campaign_id)))
        graded_at = max(
            (_timestamp(e) for e in grading if isinstance(e, Grading.Graded | Grading.Regraded)),
            default=None,
        )

        def standing_at_grading(
            submission_id: UUID, material: Decimal, presentation: Decimal | None
        ) -> Standing:
            # The submission as grading read it (a video added since would change a grade).
            submission = _replayed(self.events.get(submission_id), Submission, until=graded_at)
            if submission is None:
                raise AuditNotFound("submission_id")
            return standing_of(submission, material, presentation)

        grade_names = self.facts.grade_names(campaign.programme)
        return recompute(plan, rounds, grading, standing_at_grading, grade_names)


def _replayed(
    events: Iterable[DomainEventProtocol[UUID]], kind: type[A], until: datetime | None = None
) -> A | None:
    """The aggregate folded from its stored events (up to `until`), if it is of that kind."""
    aggregate: Any = None
    for event in events:
        if until is not None and _timestamp(event) > until:
            break
        aggregate = _mutate(event, aggregate)
    return aggregate if isinstance(aggregate, kind) else None


def _mutate(event: DomainEventProtocol[UUID], aggregate: Any) -> Any:
    mutate: Callable[[Any], Any] = event.mutate  # type: ignore[attr-defined]
    return mutate(aggregate)


def _timestamp(event: DomainEventProtocol[UUID]) -> datetime:
    return cast(DomainEvent, event).timestamp  # the library stamps every event it records
