"""Read-your-writes, the platform's rule: a request that wrote to a tenant's ledger is answered
only once that tenant's read models have passed its last write, so every read after a command
(the next page, the roll-up, a list) sees it. One home for every route, API and portal alike:
the ledger tells where each save ends (`LedgerBase.on_saved`); this middleware collects those
positions per request and waits before the response starts."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from litestar.concurrency import sync_to_thread
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from projections.service import READ_YOUR_WRITES_TIMEOUT, PlatformViews
from tenants.runtime import Platform


@dataclass
class Written:
    """Where this request's writes end, per tenant (the last position in each tenant's log)."""

    positions: dict[str, int] = field(default_factory=dict)

    def note(self, tenant: str, position: int) -> None:
        self.positions[tenant] = max(position, self.positions.get(tenant, 0))


_WRITTEN: ContextVar[Written | None] = ContextVar("qcflow_written", default=None)
"""Set per request before the handler runs; the handler's threads copy the context and so share
the same `Written` (they mutate it, they never set the variable)."""


def note_saved(tenant: str, views: PlatformViews) -> Callable[[int], None]:
    """The ledger's `on_saved` for `tenant`: noted on the current request, if there is one, and
    told to the read models and followers of this process (`PlatformViews.written`)."""

    def saved(position: int) -> None:
        written = _WRITTEN.get()
        if written is not None:
            written.note(tenant, position)
        views.written(tenant, position)

    return saved


def written_here(tenant: str) -> int | None:
    """Where the current request's writes to `tenant` end, so far (None: none). A handler that
    waits for its own write in its thread (`TenantViews.wait`) spares the middleware a thread
    of its own for the same wait (`known_read`)."""
    written = _WRITTEN.get()
    return written.positions.get(tenant) if written is not None else None


def follow_writes(platform: Platform, views: PlatformViews) -> None:
    """Every tenant's ledger reports its saves to the request that made them and to the loops
    that follow it here."""
    for code, runtime in platform.tenants.items():
        runtime.ledger.on_saved = note_saved(code, views)


def wait_for_writes(views: PlatformViews, written: Written) -> None:
    """Until every read model of each tenant written to has passed the request's last write
    (at most READ_YOUR_WRITES_TIMEOUT per tenant: a halted or far-behind model does not hang
    the answer; its health check says so)."""
    for tenant, position in written.positions.items():
        if tenant in views.tenants:
            views[tenant].wait(position, READ_YOUR_WRITES_TIMEOUT)


def known_read(views: PlatformViews, written: Written) -> bool:
    """Whether every read model of each tenant written to is known to have passed the request's
    last write, with no wait and no query: most handlers that write have waited already (their
    answer shows the read model), so the middleware needs no thread to find it out."""
    return all(
        views[tenant].known_passed(position)
        for tenant, position in written.positions.items()
        if tenant in views.tenants
    )


def read_your_writes(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: collect the request's writes; wait for the read models before the
    response starts (in a thread, unless they are known to have passed them)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        written = Written()
        token = _WRITTEN.set(written)

        async def send_after_reads(message: Message) -> None:
            if message["type"] == "http.response.start" and written.positions:
                views: PlatformViews | None = scope["app"].state.get("views")
                if views is not None and not known_read(views, written):
                    await sync_to_thread(wait_for_writes, views, written)
                written.positions.clear()
            await send(message)

        try:
            await app(scope, receive, send_after_reads)
        finally:
            _WRITTEN.reset(token)

    return middleware
