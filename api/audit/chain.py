"""The tenant's hash chain for auditors (审计·防篡改): verify the whole event log now, against
the checkpoints recorded and any the auditor kept, and list the checkpoints. Reads only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from msgspec import Meta

from aggregates.actor import Actor
from api.audit.reads import AUDITORS, note_read
from api.audit.schemas import BreakOut, ChainOut, CheckpointOut
from api.platform.access import access
from api.platform.schemas import in_zone
from tenants.chain_verify import verify
from tenants.runtime import TenantRuntime

KeptCheckpoint = Annotated[str, Meta(pattern=r"^[0-9]+:[0-9a-fA-F]{64}$")]


class ChainController(Controller):
    path = "/api/v1/tenants/{tenant:str}/audit/chain"
    tags = ["audit 审计"]

    @get("/", operation_id="auditVerifyChain", sync_to_thread=True, opt=access(AUDITORS))
    def verify_chain(
        self,
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expect: Annotated[list[KeptCheckpoint] | None, QueryParameter()] = None,
    ) -> ChainOut:
        """Recompute the chain over the whole log; `expect=place:link` (repeatable) checks it
        against checkpoints kept outside the platform."""
        return chain_report(runtime, actor, expect or [])

    @get(
        "/checkpoints",
        operation_id="auditChainCheckpoints",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def checkpoints(
        self, runtime: NamedDependency[TenantRuntime], actor: NamedDependency[Actor]
    ) -> list[CheckpointOut]:
        """Every checkpoint recorded, oldest first."""
        note_read(runtime, actor, "chain_checkpoints")
        return [CheckpointOut.of(c, runtime) for c in runtime.chain.checkpoints()]


def chain_report(runtime: TenantRuntime, actor: Actor, expect: list[str]) -> ChainOut:
    """The chain recomputed over the whole log, checked against `place:link` checkpoints kept
    outside the platform (noted): the API's and the auditor's desk's."""
    note_read(runtime, actor, "chain", expect=",".join(expect) or None)
    kept = {int(p): h for p, _, h in (e.partition(":") for e in expect)}
    report = verify(runtime.chain, kept)
    latest = report.checkpoints[-1] if report.checkpoints else None
    first = report.breaks[0] if report.breaks else None
    return ChainOut(
        tenant=runtime.tenant.code,
        verified_at=in_zone(datetime.now(UTC), runtime.tenant.zone),
        intact=report.intact,
        summary=report.summary,
        events=report.events,
        links=report.links,
        head=report.head,
        head_link=report.head_link,
        checkpoints=len(report.checkpoints),
        latest_checkpoint=CheckpointOut.of(latest, runtime) if latest else None,
        break_count=report.break_count,
        first_break=BreakOut.of(first) if first else None,
        breaks=[BreakOut.of(b) for b in report.breaks],
    )
