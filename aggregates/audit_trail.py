"""An auditor's trail (审计查阅记录): what one account read through the audit, one trail per
account per Beijing day. Auditors change no business record; what they read is itself recorded,
in the tenant's log and so on its hash chain."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import Actor

TRAIL_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/audit-trail")


class AuditTrail(Aggregate):
    class Started(Aggregate.Created):
        tenant: str
        account_id: str
        on: date
        actor_id: str
        actor_role: str

        def apply(self, aggregate: AuditTrail) -> None:
            aggregate.tenant = self.tenant
            aggregate.account_id = self.account_id
            aggregate.on = self.on
            aggregate.reads = []

    class Event(Aggregate.Event):
        """The base of every event of a AuditTrail after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Read(Event):
        what: str
        """history, state, recomputation, chain, chain_checkpoints, package"""
        record: str | None
        """The kind of record read (submission, campaign…), if one."""
        record_id: str | None
        detail: dict[str, str]
        """The question asked (page, moment, version, format…)."""

        def apply(self, aggregate: AuditTrail) -> None:
            aggregate.reads.append(
                {
                    "at": self.timestamp,
                    "what": self.what,
                    "record": self.record,
                    "record_id": self.record_id,
                    "detail": dict(self.detail),
                    "role": self.actor_role,
                }
            )

    if TYPE_CHECKING:
        tenant: str
        account_id: str
        on: date
        reads: list[dict[str, Any]]

    @staticmethod
    def create_id(tenant: str, account_id: str, on: date) -> UUID:
        return uuid5(TRAIL_NAMESPACE, f"{tenant}/{account_id}/{on.isoformat()}")

    @classmethod
    def start(cls, tenant: str, on: date, actor: Actor) -> AuditTrail:
        return cls._create(
            cls.Started,
            id=cls.create_id(tenant, actor.user_id, on),
            tenant=tenant,
            account_id=actor.user_id,
            on=on,
            **actor.fields(),
        )

    def note_read(
        self,
        what: str,
        record: str | None,
        record_id: UUID | None,
        detail: dict[str, str],
        actor: Actor,
    ) -> None:
        self.trigger_event(
            self.Read,
            what=what,
            record=record,
            record_id=str(record_id) if record_id is not None else None,
            detail=detail,
            **actor.fields(),
        )
