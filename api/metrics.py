"""Metrics for Prometheus (`GET /metrics`, with the operations token): each tenant store's state
and head; each read model's and forwarding follower's position, head, lag and state; and
Litestar's request metrics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from api.access import OPERATIONS, access
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
    "stopped",
    "external",
)
"""Every state a runner or follower reports: each is a series, 1 for the current one, so that a
state left is seen as 0 rather than as a series gone."""

REQUESTS = PrometheusConfig(app_name="qcflow", prefix="qcflow", group_path=True)
"""Request counts and durations (`qcflow_requests_total`, …) by route template: a path's ids and
codes (a certificate's code) never become label values."""


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
