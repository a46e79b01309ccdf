"""Auditors' reads, themselves recorded (审计查阅记录): every audit read adds a line to the
reader's trail of the day in the tenant's log (so on its hash chain), and is logged; the
secretariat and auditors can list an account's trail of a day."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import structlog
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from aggregates.actor import Actor, Role
from api.audit.schemas import ReadOut, TrailOut
from api.platform.access import access, only
from api.platform.boundary import checked_moment
from api.platform.schemas import in_zone
from tenants.runtime import TenantRuntime

log = structlog.get_logger("qcflow.audit")
AUDITORS = only(Role.AUDITOR, Role.SECRETARIAT)


def note_read(
    runtime: TenantRuntime,
    actor: Actor,
    what: str,
    record: str | None = None,
    record_id: UUID | None = None,
    **detail: Any,
) -> None:
    """Record and log one audit read, before it is answered."""
    given = {k: str(v) for k, v in detail.items() if v is not None}
    runtime.ledger.note_audit_read(actor, what, record, record_id, given)
    log.info(
        "audit_read",
        read=what,
        kind=record,
        record_id=str(record_id) if record_id else None,
        reader=actor.user_id,
        **given,
    )


class AuditReadsController(Controller):
    path = "/api/v1/tenants/{tenant:str}/audit/reads"
    tags = ["audit 审计"]

    @get("/", operation_id="auditReads", sync_to_thread=True, opt=access(AUDITORS))
    def reads(
        self,
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        on: FromQuery[date | None] = None,
        account_id: FromQuery[str | None] = None,
    ) -> TrailOut:
        """What one account (by default, the caller) read through the audit on a day (the
        tenant's date, Beijing time; by default, today)."""
        account = account_id or actor.user_id
        on = checked_moment("on", on) if on else runtime.ledger.today()
        note_read(runtime, actor, "reads", "account", None, account_id=account, on=on)
        trail = runtime.ledger.audit_trail(account, on)
        reads = trail.reads if trail is not None else []
        return TrailOut(
            account_id=account,
            on=on,
            reads=[
                ReadOut(
                    at=in_zone(r["at"], runtime.tenant.zone),
                    what=r["what"],
                    record=r["record"],
                    record_id=r["record_id"],
                    detail=r["detail"],
                    role=r["role"],
                )
                for r in reads
            ],
        )
