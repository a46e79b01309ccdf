"""The auditor's desk (审计) in the browser: find a record (by serial, unit name, credit code,
certificate code or id), read its history as a timeline with what each step changed, see its
state at a chosen moment, run a campaign's recomputation, check the hash chain against kept
checkpoints, download the audit package, and read one's own trail of reads.

The same reads as the JSON API (`api/audit/routes.py`, `api/audit/chain.py`, `api/audit/reads.py`):
each is noted in the reader's trail before it is shown, and nothing here writes anything else."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar import Response as HttpResponse
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from aggregates.actor import Actor
from aggregates.ledger.audit import AuditNotFound
from api.audit.chain import chain_report
from api.audit.reads import AUDITORS, note_read
from api.audit.report import render_report
from api.audit.routes import (
    KINDS,
    PACKAGED,
    Kind,
    history_of,
    package_name,
    package_of,
    recomputation_of,
    state_at,
)
from api.audit.schemas import CheckpointOut
from api.platform.access import access
from api.platform.exports import download
from api.portal.clock import written, written_day
from api.portal.labels import N_
from api.portal.rendering import Page
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from projections.submission_list import find_submissions
from tenants.runtime import TenantRuntime

KIND_NAMES = {
    Kind.CAMPAIGN: N_("活动"),
    Kind.REGISTRATION: N_("报名"),
    Kind.SUBMISSION: N_("成果"),
    Kind.RECOMMENDATION: N_("推荐表"),
    Kind.REVIEW_ROUND: N_("评审轮次"),
    Kind.ACCOUNT: N_("账号"),
}
BREAK_KINDS = {
    "changed": N_("存储后被改动"),
    "deleted": N_("存储后被删除"),
    "inserted": N_("存储后被插入"),
    "checkpoint": N_("与平台的检查点不符"),
    "expected": N_("与外部保存的检查点不符"),
}
"""How each kind of break in the hash chain (`tenants.chain_verify.BreakKind`) is named."""
PAGE_SIZE = 50
"""Steps of a history per page."""
CHECKPOINT = re.compile(r"^[0-9]+:[0-9a-fA-F]{64}$")
"""A checkpoint kept outside the platform, `place:link` (as the API's `expect`)."""


def shown(value: Any) -> str:
    """A recorded value as text: scalars as they are, structures as indented JSON."""
    if value is None:
        return "—"
    if isinstance(value, str | int | float | bool):
        return str(value)
    # As json.dumps(ensure_ascii=False, indent=1) writes it, by msgspec: with an indent, the
    # standard library encodes in Python, which cost a history page more than its history.
    return msgspec.json.format(msgspec.json.encode(value, enc_hook=str), indent=1).decode()


def _lang(page: Page) -> str:
    return "en" if page.speaker.english else "zh"


class AuditPages(Controller):
    path = "/{tenant:str}/audit"
    include_in_schema = False

    @get("/", operation_id="portalAuditDesk", sync_to_thread=True, opt=access(AUDITORS))
    def desk(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Template:
        """Find a record; the tenant's campaigns with their recomputation; the chain."""
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        text = (q or "").strip()
        found = _found(runtime, views, actor, text) if text else []
        campaigns = [
            {
                "id": c.campaign_id,
                "title": c.title,
                "year": c.year,
                "status": c.status,
            }
            for c in list_campaigns(views.db("campaign_list"))
        ]
        return page.render(
            "audit/desk.html",
            q=text,
            found=found,
            searched=bool(text),
            campaigns=campaigns,
            kind_names={k.value: page.speaker.gettext(n) for k, n in KIND_NAMES.items()},
            base=f"/{runtime.tenant.code}/audit",
        )

    @get(
        "/{record:str}/{record_id:uuid}",
        operation_id="portalAuditHistory",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def history(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        record: FromPath[str],
        record_id: FromPath[UUID],
        after: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> Template:
        """A record's history as a timeline, a page at a time, with what each step changed."""
        kind = _kind(record)
        page = Page(request, runtime.tenant)
        found = history_of(runtime, actor, kind, record_id, after, PAGE_SIZE, _lang(page))
        steps = [
            {
                "version": s.version,
                "at": written(s.at, page.zone, page.speaker),
                "at_iso": s.at.isoformat(),
                "what": s.what,
                "event": s.event,
                "actor": s.actor_id or "—",
                "role": s.actor_role_name or "—",
                "changes": [
                    {"part": part, "before": shown(c["before"]), "after": shown(c["after"])}
                    for part, c in s.changes.items()
                ],
            }
            for s in found.items
        ]
        return page.render(
            "audit/history.html",
            **_record_context(page, runtime, kind, record_id),
            steps=steps,
            after=after,
            next_after=found.next_after,
            at_value="",
            problems={},
        )

    @get(
        "/{record:str}/{record_id:uuid}/state",
        operation_id="portalAuditState",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def state(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        record: FromPath[str],
        record_id: FromPath[UUID],
        at: Annotated[str | None, QueryParameter(max_length=40)] = None,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        """The record as it was at a moment (Beijing time, as typed) or after a version."""
        kind = _kind(record)
        page = Page(request, runtime.tenant)
        typed = (at or "").strip()
        moment = _moment(typed, page) if typed else None
        if typed and moment is None:
            return page.render(
                "audit/state.html",
                status=400,
                **_record_context(page, runtime, kind, record_id),
                state=None,
                at_value=typed,
                problems={
                    "at": [
                        page.speaker.gettext("请按“年-月-日 时:分”填写时刻，如 2024-05-01 10:00")
                    ]
                },
            )
        try:
            found = state_at(runtime, actor, kind, record_id, moment, version)
        except AuditNotFound:
            if moment is None:
                raise
            return page.render(
                "audit/state.html",
                status=404,
                **_record_context(page, runtime, kind, record_id),
                state=None,
                at_value=typed,
                problems={"at": [page.speaker.gettext("该时刻这条记录尚不存在")]},
            )
        return page.render(
            "audit/state.html",
            **_record_context(page, runtime, kind, record_id),
            state={
                "version": found.version,
                "as_of": written(found.as_of, page.zone, page.speaker),
                "parts": [{"part": k, "value": shown(v)} for k, v in found.state.items()],
            },
            at_value=typed,
            problems={},
        )

    @get(
        "/{record:str}/{record_id:uuid}/recomputation",
        operation_id="portalAuditRecomputation",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def recomputation(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        record: FromPath[str],
        record_id: FromPath[UUID],
    ) -> Template:
        """A campaign's outcomes recomputed from its recorded sheets: every difference, every
        recorded decision."""
        kind = _kind(record)
        page = Page(request, runtime.tenant)
        found = recomputation_of(runtime, actor, kind, record_id)
        return page.render(
            "audit/recomputation.html",
            **_record_context(page, runtime, kind, record_id),
            report=msgspec.to_builtins(found),
        )

    @get(
        "/{record:str}/{record_id:uuid}/package.pdf",
        operation_id="portalAuditPackagePdf",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def package_pdf(
        self,
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        record: FromPath[str],
        record_id: FromPath[UUID],
    ) -> HttpResponse[bytes]:
        """The audit package of a result or a campaign, as a report to print (PDF)."""
        package = package_of(runtime, actor, _kind(record), record_id, "pdf")
        return download(render_report(package), "application/pdf", package_name(package, "pdf"))

    @get(
        "/{record:str}/{record_id:uuid}/package.json",
        operation_id="portalAuditPackageJson",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def package_json(
        self,
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        record: FromPath[str],
        record_id: FromPath[UUID],
    ) -> HttpResponse[bytes]:
        """The same package as JSON, to keep."""
        package = package_of(runtime, actor, _kind(record), record_id, "json")
        return download(
            msgspec.json.encode(package), "application/json", package_name(package, "json")
        )

    @get("/chain", operation_id="portalAuditChain", sync_to_thread=True, opt=access(AUDITORS))
    def chain(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expect: Annotated[str | None, QueryParameter(max_length=20000)] = None,
    ) -> Template:
        """The hash chain recomputed over the whole log, against the checkpoints kept outside."""
        page = Page(request, runtime.tenant)
        typed = (expect or "").strip()
        kept = [line.strip() for line in typed.splitlines() if line.strip()]
        wrong = [line for line in kept if not CHECKPOINT.match(line)]
        if wrong:
            return page.render(
                "audit/chain.html",
                status=400,
                report=None,
                checkpoints=[],
                expect=typed,
                problems={
                    "expect": [
                        page.speaker.gettext("每行一个检查点，格式为“位置:链值”（64 位十六进制）")
                        + "："
                        + "、".join(wrong[:3])
                    ]
                },
            )
        report = chain_report(runtime, actor, kept)
        checkpoints = [CheckpointOut.of(c, runtime) for c in runtime.chain.checkpoints()]
        return page.render(
            "audit/chain.html",
            report=msgspec.to_builtins(report),
            break_kinds={k: page.speaker.gettext(n) for k, n in BREAK_KINDS.items()},
            verified_at=written(report.verified_at, page.zone, page.speaker),
            checkpoints=[
                {
                    "position": c.position,
                    "link": c.link,
                    "made_at": written(c.made_at, page.zone, page.speaker),
                    "how": c.how,
                }
                for c in checkpoints
            ],
            expect=typed,
            problems={},
        )

    @get("/reads", operation_id="portalAuditReads", sync_to_thread=True, opt=access(AUDITORS))
    def reads(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        on: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """What I read through the audit on a day (the tenant's date; today by default)."""
        page = Page(request, runtime.tenant)
        typed = (on or "").strip()
        try:
            day = date.fromisoformat(typed) if typed else runtime.ledger.today()
        except ValueError:
            return page.render(
                "audit/reads.html",
                status=400,
                day_value=typed,
                day_text="",
                reads=[],
                problems={"on": [page.speaker.gettext("请按“年-月-日”填写日期，如 2024-05-01")]},
            )
        note_read(runtime, actor, "reads", "account", None, account_id=actor.user_id, on=day)
        trail = runtime.ledger.audit_trail(actor.user_id, day)
        lines = [
            {
                "at": written(r["at"], page.zone, page.speaker),
                "what": r["what"],
                "record": r["record"] or "",
                "record_id": r["record_id"] or "",
                "detail": "；".join(f"{k}={v}" for k, v in r["detail"].items()),
            }
            for r in (trail.reads if trail is not None else [])
        ]
        return page.render(
            "audit/reads.html",
            day_value=day.isoformat(),
            day_text=written_day(day, page.speaker),
            reads=lines,
            problems={},
        )


def _kind(record: str) -> Kind:
    try:
        return Kind(record)
    except ValueError:
        raise AuditNotFound("record") from None


def _moment(typed: str, page: Page) -> datetime | None:
    """A moment as typed (`2024-05-01T10:00` from the picker, or `2024-05-01 10:00`), in the
    tenant's zone unless it names its own offset."""
    try:
        moment = datetime.fromisoformat(typed.replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=page.zone)


def _record_context(
    page: Page, runtime: TenantRuntime, kind: Kind, record_id: UUID
) -> dict[str, Any]:
    code = runtime.tenant.code
    base = f"/{code}/audit/{kind.value}/{record_id}"
    return {
        "kind": kind.value,
        "kind_name": page.speaker.gettext(KIND_NAMES[kind]),
        "record_id": str(record_id),
        "title": _title(runtime, kind, record_id),
        "base": base,
        "desk": f"/{code}/audit",
        "packaged": kind in PACKAGED,
        "recomputable": kind is Kind.CAMPAIGN,
    }


def _title(runtime: TenantRuntime, kind: Kind, record_id: UUID) -> str:
    """What the record is called (a campaign's title, a result's serial and title)."""
    try:
        found = runtime.ledger.state_at(record_id, KINDS[kind])
    except AuditNotFound:
        return ""
    for name in ("title", "serial", "name", "login"):
        value = getattr(found, name, None)
        if isinstance(value, str) and value:
            serial = getattr(found, "serial", None) if name == "title" else None
            return f"{serial} {value}" if isinstance(serial, str) and serial else value
    return ""


def _found(
    runtime: TenantRuntime, views: TenantViews, actor: Actor, text: str
) -> list[dict[str, str]]:
    """The records a search names: by id (any kind), by certificate code, or the results by
    serial, credit code or unit name (the search itself is noted in the reader's trail)."""
    note_read(runtime, actor, "search", None, None, q=text)
    found: list[dict[str, str]] = []
    try:
        record_id = UUID(text)
    except ValueError:
        record_id = None
    if record_id is not None:
        for kind, aggregate in KINDS.items():
            try:
                runtime.ledger.state_at(record_id, aggregate)
            except AuditNotFound:
                continue
            found.append(
                {"kind": kind.value, "id": str(record_id), "name": _title(runtime, kind, record_id)}
            )
        return found
    holder = runtime.ledger.certificate_holder(text)
    if holder is not None:
        found.append(
            {
                "kind": Kind.SUBMISSION.value,
                "id": str(holder),
                "name": _title(runtime, Kind.SUBMISSION, holder),
            }
        )
    for row in find_submissions(views.db("submission_list"), text):
        if row.submission_id in {f["id"] for f in found}:
            continue
        found.append(
            {
                "kind": Kind.SUBMISSION.value,
                "id": row.submission_id,
                "name": " ".join(p for p in (row.serial or "", row.unit_name, row.title) if p),
            }
        )
    return found
