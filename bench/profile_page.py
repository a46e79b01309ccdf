"""Where a portal page's time goes against its JSON endpoint's, on the data that `portal_bench.py`
or `rounds_bench.py` kept with `--data PATH` (issues 20 and 21): in-process, through Litestar's
test client, as the benches measure.

`--side both` (the default) asks the page and the JSON alternately and prints each one's
distribution (p50, p95, max, the requests above twice the median) with the garbage collector's
pauses that fell within each side's requests (gc.callbacks), by generation, and the slowest
requests with the process's CPU time and the collector's within each: is the page's tail the
collector's, work of its own, or time the process did not get (a wall time far above its CPU)?
`--side page` or `--side json` asks only that side under cProfile of every thread of the process
(the handler runs in a worker thread, the template is rendered on the event loop's), merged, and
prints the top functions by cumulative and own time.
The data folder tells which bench kept it (world.json: portal_bench, the pair chosen with
`--only`; round.json: rounds_bench's matrix).

    PYTHONPATH=. .venv/bin/python bench/profile_page.py --data /tmp/perf-data \
        [--only portalCampaignStatistics] [--side both|page|json] [--requests 100] [--top 30]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QCFLOW_LOG_LEVEL", "warning")

from litestar.testing import TestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import create_app
from api.demo.seeds import issue_demo_links
from api.platform.logging import configure_logging
from bench import portal_bench
from bench.thread_profiles import ThreadProfiles
from tenants.runtime import Platform
from tenants.settings import Settings

PROFILES = ThreadProfiles()


class Pauses:
    """The collector's pauses (gc.callbacks), summed by generation for the side in flight."""

    def __init__(self) -> None:
        self.side = ""
        self.started = 0.0
        self.spent: dict[tuple[str, int], list[float]] = defaultdict(list)
        self.request = 0.0
        """The pauses within the request in flight, in ms."""

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        elif self.side:
            pause = (time.perf_counter() - self.started) * 1000
            self.spent[(self.side, info["generation"])].append(pause)
            self.request += pause


def requests_of(
    folder: Path, only: str
) -> tuple[Settings, Callable[[TestClient[Any]], None], str, str]:
    """The settings of the kept data, a sign-in for the client, the page's and the JSON's paths."""
    settings = Settings(data_dir=folder / "var", log_level="warning")
    if (folder / "round.json").exists():
        cid, tenant = json.loads((folder / "round.json").read_text())["campaign_id"], "saq"
        # An account of its own each time: sign-ins are throttled per login (10 in 15 minutes).
        login = {"login": f"profile-{os.getpid()}@example.cn", "password": os.urandom(12).hex()}
        platform = Platform.from_settings(settings)
        try:
            platform.tenants[tenant].ledger.register_account(
                name="秘书处",
                status=AccountStatus.ACTIVE,
                grants=[Grant(Role.SECRETARIAT)],
                actor=Actor("bench-setup", Role.OPERATOR),
                **login,
            )
        finally:
            platform.close()

        def sign_in(client: TestClient[Any]) -> None:
            client.post(f"/api/v1/tenants/{tenant}/session", json=login).raise_for_status()

        page = f"/{tenant}/rounds/{cid}/initial/matrix"
        return (
            settings,
            sign_in,
            page,
            f"/api/v1/tenants/{tenant}/campaigns/{cid}/rounds/initial/matrix",
        )
    world = portal_bench.kept_world(json.loads((folder / "world.json").read_text()))
    (pair,) = [p for p in portal_bench.PAIRS if only in p.operation_id]
    (json_path,) = pair.json(world)
    nonce = f"profile-page-{os.getpid()}"
    platform = Platform.from_settings(settings)
    try:
        links = {
            link.role: link.url
            for link in issue_demo_links(platform, nonce, "http://127.0.0.1:8000")
            if link.tenant == portal_bench.TENANT
        }
    finally:
        platform.close()
    settings = Settings(data_dir=folder / "var", log_level="warning")

    def sign_in_demo(client: TestClient[Any]) -> None:
        client.app.state.demo_nonce = nonce
        jar = portal_bench.signed_in(client, links[pair.who or Role.SECRETARIAT])
        client.cookies.update(jar)

    return settings, sign_in_demo, pair.page(world), json_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--only", default="portalCampaignStatistics")
    parser.add_argument("--side", choices=("both", "page", "json"), default="both")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    settings, sign_in, page, json_path = requests_of(args.data, args.only)
    configure_logging(settings.log_format, settings.log_level)
    os.environ.pop("AGGREGATE_CACHE_MAXSIZE", None)
    app = create_app(settings)
    if args.side != "both":
        PROFILES.start()
    with TestClient(app) as client:
        sign_in(client)
        views = app.state.views
        while any(s.lag for code in views.tenants for s in views.statuses(code)):
            time.sleep(0.5)
        sides = {"page": page, "json": json_path}
        asked = list(sides) if args.side == "both" else [args.side]
        for _ in range(5):
            for side in asked:
                client.get(sides[side]).raise_for_status()
        if args.side != "both":
            PROFILES.restart()  # the start and the warm-up are not a request's
        pauses = Pauses()
        gc.callbacks.append(pauses)
        took: dict[str, list[float]] = defaultdict(list)
        slow: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        size: dict[str, int] = {}
        for _ in range(args.requests):
            for side in asked:
                pauses.side, pauses.request = side, 0.0
                started, cpu = time.perf_counter(), time.process_time()
                answer = client.get(sides[side])
                wall = (time.perf_counter() - started) * 1000
                took[side].append(wall)
                slow[side].append((wall, (time.process_time() - cpu) * 1000, pauses.request))
                pauses.side = ""
                answer.raise_for_status()
                size[side] = len(answer.content)
        gc.callbacks.remove(pauses)
        if args.side != "both":
            PROFILES.stop()
    report(took, size, pauses)
    for side, requests in slow.items():
        print(f"{side}'s 5 slowest (wall / the process's CPU, every thread / the collector's, ms):")
        print("   ", ", ".join(f"{w:.0f} / {c:.0f} / {g:.0f}" for w, c, g in sorted(requests)[-5:]))
    if args.side != "both":
        stats = PROFILES.stats()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


def report(took: dict[str, list[float]], size: dict[str, int], pauses: Pauses) -> None:
    print(f"load average {os.getloadavg()[0]:.1f}")
    for side, times in took.items():
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
        slow = sum(t > 2 * median for t in times)
        print(
            f"{side:>4}: {len(times)} requests, {size[side] // 1024} KiB, p50 {median:.1f} ms,"
            f" p95 {p95:.1f} ms, max {max(times):.1f} ms, {slow} above 2 × p50"
        )
        for generation in range(3):
            spent = pauses.spent.get((side, generation), [])
            if spent:
                print(
                    f"      gc gen{generation}: {len(spent)} pauses, {sum(spent):.1f} ms in all,"
                    f" longest {max(spent):.1f} ms"
                )


if __name__ == "__main__":
    sys.exit(main())
