"""Where a `GET …/campaigns` goes (issue 22 §1's read figure): the platform in-process on a scratch
PostgreSQL database (as `profile_draft.py`), N list requests by a signed-in secretariat user
against a tenant with one campaign, sent straight to the ASGI app (no server, no client library:
what the server's process spends on a request), each request's wall and the process's CPU time
measured, the statements counted (psycopg's `Cursor.execute` calls, by their first words), and
cProfile of every thread of the process (the event loop, the handler threads), merged.

    PYTHONPATH=. .venv/bin/python bench/profile_read.py --requests 300 [--top 25] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import structlog
from litestar.testing import TestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import create_app
from bench.thread_profiles import ThreadProfiles
from bench.write_cost import SAQ, check, scratch_database, tenants_dir
from tenants.settings import Settings
from tests.api.test_submissions import campaign_2024
from tests.support import Clock, beijing, get_scope, new_password

STATEMENTS: Counter[str] = Counter()
PROFILES = ThreadProfiles()


def count_statements() -> None:
    for cls in (psycopg.Cursor, psycopg.ServerCursor):
        original = cls.execute

        def execute(
            self: Any, query: Any, *args: Any, __original: Any = original, **kw: Any
        ) -> Any:
            text = query if isinstance(query, str) else repr(query)
            STATEMENTS[" ".join(text.split())[:90]] += 1
            return __original(self, query, *args, **kw)

        cls.execute = execute  # type: ignore[method-assign]


async def direct(
    app: Any, headers: dict[str, str], expected: bytes, requests: int, concurrency: int = 1
) -> tuple[list[float], float]:
    """`requests` GETs straight to the ASGI app on this thread's loop, `concurrency` at a time
    (as a server's worker with that many callers); each one's wall time, and the process's CPU
    time per request."""
    scope = get_scope(f"{SAQ}/campaigns", {"User-Agent": "bench", **headers})
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    for _ in range(20):  # warm up
        await app(dict(scope), receive, send)
    check(b"".join(body[-1:]) == expected, repr(body[-1:]))
    STATEMENTS.clear()
    PROFILES.restart()  # the set-up and warm-up are not what is measured
    walls: list[float] = []
    answers: list[bytes] = []

    async def send_to(parts: list[bytes], message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    async def caller(count: int) -> None:
        for _ in range(count):
            parts: list[bytes] = []
            started = time.perf_counter()
            await app(dict(scope), receive, partial(send_to, parts))
            walls.append(time.perf_counter() - started)
            answers.append(b"".join(parts))

    cpu_started, wall_started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller(requests // concurrency) for _ in range(concurrency)))
    cpu = (time.process_time() - cpu_started) / len(walls)
    print(f"{len(walls) / (time.perf_counter() - wall_started):.0f} requests a second")
    check(set(answers) == {expected}, repr(set(answers)))
    return walls, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callers", nargs="*", help="also who called these (pstats patterns)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests at a time")
    parser.add_argument("--no-profile", action="store_true", help="wall times only")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    count_statements()
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        settings = Settings(
            database_url=url, data_dir=Path(tmp) / "var", tenants_dir=tenants_dir(0, tenants)
        )
        app = create_app(settings, clock=Clock(beijing(2024, 1, 15, 9, 30)))
        if not args.no_profile:
            PROFILES.start()
        with TestClient(app) as client:
            ledger = app.state.platform.tenants["saq"].ledger
            login, password = f"sec-{uuid.uuid4().hex[:8]}@example.cn", new_password()
            ledger.register_account(
                login=login,
                name="测试用户",
                password=password,
                status=AccountStatus.ACTIVE,
                grants=[Grant(Role.SECRETARIAT, None)],
                actor=Actor("bench-setup", Role.OPERATOR),
            )
            signed = client.post(f"{SAQ}/session", json={"login": login, "password": password})
            check(signed.status_code == 201, signed.text)
            headers = {"Authorization": f"Bearer {signed.json()['token']}"}
            client.cookies.clear()
            opened = client.post(f"{SAQ}/campaigns", json=campaign_2024(), headers=headers)
            check(opened.status_code == 201, opened.text)
            first = client.get(f"{SAQ}/campaigns", headers=headers)
            check(first.status_code == 200 and len(first.json()) == 1, first.text)
            walls, cpu = asyncio.run(
                direct(app, headers, first.content, args.requests, args.concurrency)
            )
            PROFILES.stop()
    ms = 1000.0
    walls.sort()
    print(
        f"{args.requests} GETs: wall median {statistics.median(walls) * ms:.3f} ms,"
        f" p10 {walls[len(walls) // 10] * ms:.3f} ms, p90 {walls[len(walls) * 9 // 10] * ms:.3f}"
        f" ms; process CPU {cpu * ms:.3f} ms a request"
    )
    print("statements per request:")
    for text, n in STATEMENTS.most_common():
        print(f"  {n / args.requests:5.2f}  {text}")
    if args.no_profile:
        return
    stats = PROFILES.stats()
    stats.sort_stats("tottime").print_stats(args.top)
    for pattern in args.callers or ():
        stats.print_callers(pattern)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
