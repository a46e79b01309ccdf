"""Metrics for Prometheus (`GET /metrics`, with the operations token): each tenant store's state
and head; each read model's and forwarding follower's position, head, lag and state; and
Litestar's request metrics."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from api.platform.access import OPERATIONS, access
from projections.runner import STORE_ERRORS
from projections.service import PlatformViews
from tenants.runtime import Platform

STATES = (
    "starting",
    "active",
    "standby",
    "contended",
    "reconnecting",
    "failed",
    "halted",
    "stopped",
    "external",
)
"""Every state a runner or follower reports: each is a series, 1 for the current one, so that a
state left is seen as 0 rather than as a series gone."""

APP_NAME = "qcflow"
REQUEST_LABELS = ("method", "path", "status_code", "app_name")
"""As Litestar's Prometheus middleware named them (the series are unchanged); `path` is the route
template: a path's ids and codes (a certificate's code) never become label values."""
REQUESTS_TOTAL = Counter("qcflow_requests_total", "Total requests", REQUEST_LABELS)
REQUEST_ERRORS = Counter("qcflow_requests_error_total", "Total errors in requests", REQUEST_LABELS)
REQUEST_SECONDS = Histogram(
    "qcflow_request_duration_seconds", "Request duration, in seconds", REQUEST_LABELS
)
IN_PROGRESS = Gauge(
    "qcflow_requests_in_progress",
    "Total requests currently in progress",
    REQUEST_LABELS,
    multiprocess_mode="livesum",
)


def request_metrics(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: request counts, errors, durations and requests in progress, by method,
    route template and status. A fraction of the cost of Litestar's own middleware (measured by
    bench/middleware_bench.py, ADR 0031): no request object, no wrapped-function copy, and each
    series' child for a label set looked up once per process (`_Series`), not on every request
    (the client library's `labels` validates and locks each time)."""
    series = _Series()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method, path = scope["method"], scope.get("path_template") or "unmatched"
        in_progress = series.in_progress(method, path)
        in_progress.inc()
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            in_progress.dec()
            total, seconds, errors = series.finished(method, path, status)
            total.inc()
            seconds.observe(elapsed)
            if errors is not None:
                errors.inc()

    return middleware


class _Series:
    """The request series' children by label values, made once each (the label sets are
    bounded: methods × route templates × statuses)."""

    def __init__(self) -> None:
        self._in_progress: dict[tuple[str, str], Any] = {}
        self._finished: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def in_progress(self, method: str, path: str) -> Any:
        child = self._in_progress.get((method, path))
        if child is None:
            child = self._in_progress[(method, path)] = IN_PROGRESS.labels(
                method, path, "200", APP_NAME
            )
        return child

    def finished(self, method: str, path: str, status: int) -> tuple[Any, Any, Any]:
        children = self._finished.get((method, path, status))
        if children is None:
            labels = (method, path, str(status), APP_NAME)
            children = self._finished[(method, path, status)] = (
                REQUESTS_TOTAL.labels(*labels),
                REQUEST_SECONDS.labels(*labels),
                REQUEST_ERRORS.labels(*labels) if status >= 500 else None,
            )
        return children


class PlatformCollector:
    """Reads the runners' statuses and the ledgers' heads when scraped (never cached)."""

    def __init__(self, platform: Platform, views: PlatformViews) -> None:
        self.platform = platform
        self.views = views

    def collect(self) -> Iterator[Metric]:
        tenant, runner = ["tenant"], ["tenant", "projection", "kind"]
        up = GaugeMetricFamily(
            "qcflow_store_up",
            "Whether the tenant's store answers (1) or not (0).",
            labels=[*tenant, "backend"],
        )
        head = GaugeMetricFamily(
            "qcflow_ledger_head", "The tenant ledger's last notification id.", labels=tenant
        )
        position = GaugeMetricFamily(
            "qcflow_projection_position",
            "The last notification id a read model or follower has processed.",
            labels=runner,
        )
        upstream = GaugeMetricFamily(
            "qcflow_projection_head",
            "The head of the ledger it follows, as it last saw it.",
            labels=runner,
        )
        lag = GaugeMetricFamily(
            "qcflow_projection_lag", "Notifications it has still to process.", labels=runner
        )
        state = GaugeMetricFamily(
            "qcflow_projection_state",
            "Its state (1 for the current one).",
            labels=[*runner, "state"],
        )
        for code, runtime in self.platform.tenants.items():
            backend = "postgresql" if runtime.location.is_postgres else "sqlite"
            try:
                head.add_metric([code], runtime.ledger.recorder.max_notification_id() or 0)
                up.add_metric([code, backend], 1)
            except STORE_ERRORS:
                up.add_metric([code, backend], 0)
            read_models = self.views[code].runners
            for status in self.views.statuses(code):
                labels = [
                    code,
                    status.projection,
                    "read_model" if status.projection in read_models else "follower",
                ]
                position.add_metric(labels, status.position)
                upstream.add_metric(labels, status.head)
                lag.add_metric(labels, status.lag)
                for name in STATES:
                    state.add_metric([*labels, name], 1 if status.state == name else 0)
        yield from (up, head, position, upstream, lag, state)


class _Scrape:
    """One scrape: the process-wide registry (request and process metrics) and this app's
    platform. The platform's collector is never registered globally: tests build many apps in
    one process, and each must report its own platform, not the first one's."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, its handler replaced: it reads the default registry
    only, and every route here declares its access."""

    path = "/metrics"
    tags = ["operations 运维"]

    @get(operation_id="metrics", sync_to_thread=True, opt=access(OPERATIONS))
    def get(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        platform_views: NamedDependency[PlatformViews],
    ) -> Response[bytes]:
        """Prometheus text (or OpenMetrics); only with the operations token as the bearer."""
        # The format the scraper asks for (Prometheus text, or OpenMetrics), as the library's
        # own exposition negotiates it.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encode(_Scrape(REGISTRY, PlatformCollector(platform, platform_views)))
        return Response(body, headers={"Content-Type": content_type})
