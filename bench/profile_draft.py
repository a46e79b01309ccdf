"""Where a draft's time goes (issue 22 §1): the platform in-process on a scratch PostgreSQL
database (as `write_cost.py`), N drafts of a QC result by a signed-in applicant, each request's
wall time split into what it waits for (the command's database work, the read models'
read-your-writes wait) and cProfile of every thread of the process (the event loop, the handler
threads, the runners), merged.

    PYTHONPATH=. .venv/bin/python bench/profile_draft.py --drafts 50 [--top 25] [--worker]

`--worker`: the read models run in a `qcflow worker` process beside it (as `serve_bench.py` and
the deploy notes run them) and this process only waits for them; the profile and the round
trips counted are then the web's alone. Round trips are counted with `PSYCOPG_IMPL=python`
(see `count_round_trips`; slower, so read the times from a run without it).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import structlog
from litestar.testing import TestClient

import api.platform.read_your_writes as ryw
from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import create_app
from bench.cpu import THIS_PROCESS, CpuClock
from bench.serve_bench import WORKER, running, wait_for_line
from bench.thread_profiles import ThreadProfiles
from bench.write_cost import ICBC, SAQ, check, scratch_database, tenants_dir
from tenants.postgres import TenantChannelRecorder
from tenants.settings import Settings
from tests.api.test_submissions import APPLICANT_BLOCK, campaign_2024, qc_result
from tests.support import Clock, beijing, new_password

SPENT: dict[str, list[float]] = defaultdict(list)
PROFILES = ThreadProfiles()


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name].append(time.perf_counter() - started)

    return wrapper


def main() -> None:  # noqa: PLR0915 (one story, told in order)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--drafts", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--worker", action="store_true", help="the read models in a `qcflow worker` beside it"
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="no cProfile (for the CPU figures)"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="profile each thread's CPU time, not the wall clock"
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    counting = count_round_trips()
    ryw.wait_for_writes = timed("read-your-writes wait", ryw.wait_for_writes)
    TenantChannelRecorder.insert_events = timed(  # type: ignore[method-assign]
        "append (one round trip)", TenantChannelRecorder.insert_events
    )
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        settings = Settings(
            database_url=url,
            data_dir=Path(tmp) / "var",
            tenants_dir=tenants_dir(0, tenants),
            run_projections=not args.worker,
        )
        stack = ExitStack()
        worker: list[int] = []
        if args.worker:
            worker.append(stack.enter_context(worker_beside(settings, Path(tmp))))
        app = create_app(settings, clock=Clock(beijing(2024, 1, 15, 9, 30)))
        if args.cpu:
            PROFILES.timer = time.thread_time
        if not args.no_profile:
            PROFILES.start()  # before the client's threads and the runners' start
        with stack, TestClient(app) as client:
            ledger = app.state.platform.tenants["saq"].ledger
            headers = {}
            for role, scope in ((Role.SECRETARIAT, None), (Role.APPLICANT_UNIT, ICBC)):
                login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
                ledger.register_account(
                    login=login,
                    name="测试用户",
                    password=password,
                    status=AccountStatus.ACTIVE,
                    grants=[Grant(role, scope)],
                    actor=Actor("bench-setup", Role.OPERATOR),
                )
                signed = client.post(f"{SAQ}/session", json={"login": login, "password": password})
                check(signed.status_code == 201, signed.text)
                headers[role] = {"Authorization": f"Bearer {signed.json()['token']}"}
            client.cookies.clear()
            opened = client.post(
                f"{SAQ}/campaigns", json=campaign_2024(), headers=headers[Role.SECRETARIAT]
            )
            check(opened.status_code == 201, opened.text)
            base = f"{SAQ}/campaigns/{opened.json()['id']}/submissions"
            body = {**qc_result(), "applicant": APPLICANT_BLOCK}
            for _ in range(5):  # warm up
                check(
                    client.post(base, json=body, headers=headers[Role.APPLICANT_UNIT]).is_success,
                    "warm",
                )
            SPENT.clear()
            ROUND_TRIPS.clear()
            PROFILES.restart()  # the set-up and warm-up are not what is measured
            cpu = CpuClock(url, {"this process": [THIS_PROCESS], "worker": worker})
            walls = []
            for _ in range(args.drafts):
                started = time.perf_counter()
                response = client.post(base, json=body, headers=headers[Role.APPLICANT_UNIT])
                walls.append(time.perf_counter() - started)
                check(response.status_code == 201, response.text)
            spent = cpu.spent()
            PROFILES.stop()
            trips = len(ROUND_TRIPS)
    del ROUND_TRIPS[trips:]  # what closing the platform sends is not a draft's
    ms = 1000.0
    print(
        f"{args.drafts} drafts: wall per draft median {statistics.median(walls) * ms:.1f} ms,"
        f" p90 {sorted(walls)[int(len(walls) * 0.9)] * ms:.1f} ms"
    )
    for name, values in SPENT.items():
        per = sum(values) / args.drafts
        print(f"  {name}: {per * ms:.1f} ms per draft ({len(values) / args.drafts:.1f} calls)")
    print(
        "  CPU per draft: "
        + ", ".join(
            f"{name} {seconds / args.drafts * ms:.2f} ms" for name, seconds in spent.items()
        )
    )
    print_round_trips(counting, args.drafts)
    if args.no_profile:
        return
    stats = PROFILES.stats()
    if os.environ.get("PROFILE_DUMP"):
        stats.dump_stats(os.environ["PROFILE_DUMP"])
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


ROUND_TRIPS: list[str] = []


def where() -> str:
    """The first of our own functions on the stack (what asked for the round trip)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(OURS) and "/bench/" not in name:
            return f"{name.removeprefix(OURS)}:{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


OURS = str(Path(__file__).resolve().parent.parent) + "/"


def count_round_trips() -> bool:
    """Count the round trips to the server at libpq's level (needs psycopg's Python
    implementation, `PSYCOPG_IMPL=python`, whose connection class can be wrapped): outside a
    pipeline each statement sent and each blocking `exec_` (the reads' ROLLBACK before this
    change); in a pipeline each Sync or flush request that follows commands sent since the
    last one (what was sent together is answered together: psycopg's transaction in a
    pipeline queues several Syncs behind its COMMIT, one exchange)."""
    if psycopg.pq.__impl__ != "python":
        return False
    from psycopg.pq import PipelineStatus, pq_ctypes  # noqa: PLC0415 (only this implementation)

    sent: set[int] = set()
    """Connections that queued commands in a pipeline since their last Sync or flush."""

    def wrap(name: str, kind: str) -> None:
        original = getattr(pq_ctypes.PGconn, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            piped = self.pipeline_status != PipelineStatus.OFF
            if kind == "send" and piped:
                sent.add(id(self))
            elif kind in ("send", "exec") or id(self) in sent:
                ROUND_TRIPS.append(where())
                sent.discard(id(self))
            return original(self, *args, **kwargs)

        setattr(pq_ctypes.PGconn, name, wrapper)

    for name in ("send_query", "send_query_params", "send_query_prepared", "send_prepare"):
        wrap(name, "send")
    wrap("exec_", "exec")
    wrap("pipeline_sync", "sync")
    wrap("send_flush_request", "sync")
    return True


def print_round_trips(counting: bool, drafts: int) -> None:
    if not counting:
        print("  round trips: run with PSYCOPG_IMPL=python to count them")
        return
    print(f"  round trips in this process: {len(ROUND_TRIPS) / drafts:.1f} per draft, asked by")
    for site, count in Counter(ROUND_TRIPS).most_common(12):
        print(f"    {count / drafts:5.1f}  {site}")


@contextmanager
def worker_beside(settings: Settings, tmp: Path) -> Iterator[int]:
    """`qcflow worker` on the same database, tenants and data folder, started (its pid)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QCFLOW_")},
        "QCFLOW_DATABASE_URL": str(settings.database_url),
        "QCFLOW_DATA_DIR": str(settings.data_dir),
        "QCFLOW_TENANTS_DIR": str(settings.tenants_dir),
        "QCFLOW_LOG_FORMAT": "json",
        "QCFLOW_SECRET_KEY": secrets.token_urlsafe(48),
    }
    log = tmp / "worker.log"
    with running(WORKER, env, log) as worker:
        wait_for_line(log, b'"worker_started"', worker)
        yield worker.pid


if __name__ == "__main__":
    main()
