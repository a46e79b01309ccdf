"""The national intake of one member association (a province or an industry association) in one
national campaign: each forwarded result received (as a national submission), each withdrawal,
the association's reviewer rosters (conflicts of interest in national review), its statistics
table and work summary, and any quota the national secretariat added for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor
from aggregates.limits import quota_grant_problems
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

INTAKE_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/national-intake")


class IntakeError(DomainError):
    pass


class InvalidIntake(IntakeError, InvalidInput):
    pass


class IntakeConflict(IntakeError, Conflict):
    pass


class IntakeNotFound(IntakeError, NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("unit", "not_found", "该单位尚无推荐全国的记录"))


class Intake(Aggregate):
    class Opened(Aggregate.Created):
        campaign_id: UUID
        unit: str
        origin_tenant: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Intake) -> None:
            aggregate.campaign_id = self.campaign_id
            aggregate.unit = self.unit
            aggregate.origin_tenant = self.origin_tenant
            aggregate.received = {}
            aggregate.rosters = {}
            aggregate.report = None
            aggregate.extra_quota = 0

    class Event(Aggregate.Event):
        """The base of every event of a Intake after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class ResultReceived(Event):
        submission_id: UUID
        origin_submission_id: UUID
        serial: str
        roster: list[dict[str, str]]

        def apply(self, aggregate: Intake) -> None:
            aggregate.received[str(self.submission_id)] = {
                "submission_id": self.submission_id,
                "origin_submission_id": self.origin_submission_id,
                "serial": self.serial,
                "received_at": self.timestamp,
                "withdrawn_reason": None,
            }
            aggregate.rosters[str(self.submission_id)] = [dict(r) for r in self.roster]

    class ResultWithdrawn(Event):
        submission_id: UUID
        reason: str

        def apply(self, aggregate: Intake) -> None:
            aggregate.received[str(self.submission_id)]["withdrawn_reason"] = self.reason

    class ReportReceived(Event):
        statistics: dict[str, Any]
        summary: str

        def apply(self, aggregate: Intake) -> None:
            aggregate.report = {
                "statistics": dict(self.statistics),
                "summary": self.summary,
                "received_at": self.timestamp,
            }

    class QuotaGranted(Event):
        extra: int
        reason: str

        def apply(self, aggregate: Intake) -> None:
            aggregate.extra_quota += self.extra

    if TYPE_CHECKING:
        campaign_id: UUID
        unit: str
        origin_tenant: str
        received: dict[str, dict[str, Any]]
        rosters: dict[str, list[dict[str, str]]]
        report: dict[str, Any] | None
        extra_quota: int

    @staticmethod
    def create_id(campaign_id: UUID, unit: str) -> UUID:
        return uuid5(INTAKE_NAMESPACE, f"{campaign_id}/{unit}")

    @classmethod
    def open(cls, campaign_id: UUID, unit: str, origin_tenant: str, actor: Actor) -> Intake:
        return cls._create(
            cls.Opened,
            id=cls.create_id(campaign_id, unit),
            campaign_id=campaign_id,
            unit=unit,
            origin_tenant=origin_tenant,
            **actor.fields(),
        )

    def receive(
        self,
        submission_id: UUID,
        origin_submission_id: UUID,
        serial: str,
        roster: list[dict[str, str]],
        actor: Actor,
    ) -> None:
        self.trigger_event(
            self.ResultReceived,
            submission_id=submission_id,
            origin_submission_id=origin_submission_id,
            serial=serial,
            roster=roster,
            **actor.fields(),
        )

    def withdraw(self, submission_id: UUID, reason: str, actor: Actor) -> None:
        self.trigger_event(
            self.ResultWithdrawn, submission_id=submission_id, reason=reason, **actor.fields()
        )

    def receive_report(self, statistics: dict[str, Any], summary: str, actor: Actor) -> None:
        self.trigger_event(
            self.ReportReceived, statistics=statistics, summary=summary, **actor.fields()
        )

    def grant_quota(self, extra: int, reason: str, actor: Actor) -> None:
        problems = quota_grant_problems(extra, reason)
        if problems:
            raise InvalidIntake(*problems)
        self.trigger_event(self.QuotaGranted, extra=extra, reason=reason.strip(), **actor.fields())

    def quota(self, base: int | None) -> int | None:
        """The campaign's quota per member association, plus what was added for this one."""
        return None if base is None else base + self.extra_quota

    def is_active(self, submission_id: UUID) -> bool:
        received = self.received.get(str(submission_id))
        return received is not None and received["withdrawn_reason"] is None

    @property
    def roster_numbers(self) -> set[str]:
        """Certificate numbers of every reviewer on this association's forwarded panels."""
        return {r["certificate_number"] for roster in self.rosters.values() for r in roster}
