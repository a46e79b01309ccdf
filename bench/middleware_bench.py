"""What the request logging (api/platform/logging.py) and the request metrics (api/platform/metrics.py) cost per
request: a trivial Litestar route called in-process (no network, no server) bare, with each
middleware and with both, as `create_app` stacks them; the log lines rendered as JSON (as in
production) into /dev/null. Rounds alternate the variants; the figure is the median of the rounds.

    PYTHONPATH=. .venv/bin/python bench/middleware_bench.py [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

from litestar import Litestar, get
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import Message

from api.platform.logging import configure_logging, request_logging
from api.platform.metrics import request_metrics
from tests.support import get_scope


@get("/api/v1/tenants/{tenant:str}/things", sync_to_thread=False)
def things(tenant: str) -> dict[str, Any]:
    return {"tenant": tenant, "items": [{"id": i, "name": "样例"} for i in range(10)]}


def app_with(middleware: list[Any]) -> Litestar:
    return Litestar(route_handlers=[things], middleware=middleware, logging_config=None)


LITESTARS = PrometheusConfig(app_name="bench", prefix="bench", group_path=True)
"""Litestar's own Prometheus middleware, which `create_app` used before (for comparison)."""

VARIANTS = {
    "bare": [],
    "logging": [request_logging],
    "metrics": [request_metrics],
    "litestar_metrics": [LITESTARS.middleware],
    "both": [request_logging, request_metrics],
}

SCOPE = get_scope(
    "/api/v1/tenants/saq/things", {"User-Agent": "bench", "Authorization": "Bearer x"}
)


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    if message["type"] == "http.response.start" and message["status"] != 200:
        raise RuntimeError(f"the route answered {message['status']}")


async def per_request_us(app: Litestar, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(SCOPE), receive, send)  # type: ignore[arg-type]
    return (time.perf_counter() - started) / requests * 1e6


async def run(requests: int, rounds: int) -> dict[str, Any]:
    apps = {name: app_with(list(stack)) for name, stack in VARIANTS.items()}
    for app in apps.values():  # warm up (first route resolution, metric creation)
        await per_request_us(app, 200)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, app in apps.items():
            samples[name].append(await per_request_us(app, requests))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "requests_per_round": requests,
        "rounds": rounds,
        "us_per_request": {n: round(v, 1) for n, v in medians.items()},
        "spread_us": {n: [round(min(v), 1), round(max(v), 1)] for n, v in samples.items()},
        "overhead_us": {n: round(medians[n] - medians["bare"], 1) for n in medians if n != "bare"},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    devnull = open(os.devnull, "w")  # noqa: SIM115 (for the whole run)
    sys.stderr, real_stderr = devnull, sys.stderr
    try:
        configure_logging("json", "info")
        result = asyncio.run(run(args.requests, args.rounds))
    finally:
        sys.stderr = real_stderr
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
