"""`qcflow serve` under load, against a trivial Litestar app served the same way in the same run
(issue 22 §1, ADR 0031).

For each run (three by default): one `qcflow worker` (every read model and follower, as
deploy/README.md runs them) starts on a fresh PostgreSQL database with every tenant of the
registry; then `qcflow serve` (web processes without runners) and the trivial app
(bench/trivial_app.py: the uvicorn options of `qcflow serve`, the same workers) start side by
side. Each pair, the trivial read and `GET …/campaigns`, the trivial write and drafting a
submission, is driven to saturation in alternating slices (a change of the machine's load falls
on both sides of the ratio alike); then drafts come at a fixed rate (p50/p99 from each request's
scheduled moment, so a server that falls behind shows it). Compare the ratios within a run: the
machine is shared and its absolute numbers move from minute to minute.

Load goes to 127.0.0.1 only; every phase is bounded in time and in requests. The database
(`qcflow_bench_serve_<random>`) is dropped at the end, also on failure.

    PYTHONPATH=. .venv/bin/python bench/serve_bench.py [--runs 3] [--workers 2] [--json PATH]
        [--reads-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import uvloop
from psycopg import sql

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from bench.cpu import THIS_PROCESS, CpuClock
from tenants.runtime import Platform
from tenants.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BEIJING_OFFSET = timedelta(hours=8)
ICBC = "91100000100003962T"
TENANT = "/api/v1/tenants/saq"


# The load: raw HTTP/1.1 over kept-alive connections (a client library would cost more CPU than
# the trivial server on this machine).


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        body = b""
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]

    def close(self) -> None:
        self.writer.close()


def http_request(method: str, path: str, headers: dict[str, str], body: Any = None) -> bytes:
    payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Figures:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies) or [0.0]
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rate": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            **({"first_error": self.first_error[:300]} if self.first_error else {}),
        }

    def add(self, other: Figures) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.first_error = self.first_error or other.first_error

    def count(self, status: int, body: bytes, latency: float) -> None:
        self.requests += 1
        self.latencies.append(latency)
        if status >= 300:
            self.errors += 1
            self.first_error = self.first_error or f"{status} {body[:300]!r}"


async def saturate(port: int, raw: bytes, connections: int, seconds: float, cap: int) -> Figures:
    """As many requests as `connections` callers, each waiting for its answer, get through in
    `seconds` (at most `cap` requests). Each caller opens its connection when it starts (one
    opened early could pass the server's keep-alive timeout before its first use)."""
    figures = Figures()
    started = time.perf_counter()
    deadline = started + seconds

    async def caller() -> None:
        connection = await Connection.open(port)
        while time.perf_counter() < deadline and figures.requests < cap:
            sent = time.perf_counter()
            try:
                status, body = await connection.request(raw)
            except (OSError, ValueError, asyncio.IncompleteReadError) as e:
                status, body = 599, f"{type(e).__name__}: {e}".encode()
                connection.close()
                connection = await Connection.open(port)
            figures.count(status, body, time.perf_counter() - sent)
        connection.close()

    await asyncio.gather(*(caller() for _ in range(connections)))
    figures.seconds = time.perf_counter() - started
    return figures


async def at_rate(port: int, raw: bytes, rate: float, seconds: float, pool: int) -> Figures:
    """`rate` requests a second for `seconds`, each timed from the moment it was due (a request
    waiting for a free connection or a slow server counts its wait). Up to `pool` connections,
    opened when needed; what has not answered `seconds * 4 + 30` after the start counts as an
    error with the time it waited."""
    figures = Figures()
    free: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    total = int(rate * seconds)
    started = time.perf_counter()

    async def one(due: float) -> None:
        nonlocal opened
        if free.empty() and opened < pool:
            opened += 1
            connection = await Connection.open(port)
        else:
            connection = await free.get()
        try:
            status, body = await connection.request(raw)
        except (OSError, ValueError, asyncio.IncompleteReadError) as e:
            status, body = 599, f"{type(e).__name__}: {e}".encode()
            connection.close()
            connection = await Connection.open(port)
        figures.count(status, body, time.perf_counter() - due)
        free.put_nowait(connection)

    tasks, dues = [], []
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
        dues.append(due)
    _, pending = await asyncio.wait(tasks, timeout=started + seconds * 4 + 30 - time.perf_counter())
    now = time.perf_counter()
    for task, due in zip(tasks, dues, strict=True):
        if task in pending:
            task.cancel()
            figures.count(598, b"no answer in time", now - due)
    figures.seconds = now - started
    while not free.empty():
        free.get_nowait().close()
    return figures


# The servers.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(
    port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start ({process.returncode})")
        url = f"http://127.0.0.1:{port}{path}"
        with suppress(OSError), urllib.request.urlopen(url, timeout=5):
            return
        time.sleep(0.3)
    raise RuntimeError("the server did not start in time")


@contextmanager
def running(command: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, our own command)
            [sys.executable, "-c", command], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


TRIVIAL = (
    "from api.serving import run_server; from tenants.settings import Settings;"
    " run_server('bench.trivial_app:create', Settings.from_env())"
)
SERVE = "import sys, api.cli; sys.exit(api.cli.main(['serve']))"
WORKER = "import sys, api.cli; sys.exit(api.cli.main(['worker']))"


# The platform's situation: a secretariat user, an applicant unit, an open campaign.


def beijing_now() -> datetime:
    return datetime.now(UTC) + BEIJING_OFFSET


def campaign_body() -> dict[str, Any]:
    now = beijing_now()
    window = {
        "opens_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+08:00"),
    }
    return {
        "programme": "qc_group",
        "year": now.year,
        "title": f"{now.year}年上海市质量管理小组活动（压力测试）",
        "contact": {"person": "杨瑾", "phone": "021-52588838"},
        "period_start": f"{now.year - 1}-01-01",
        "period_end": f"{now.year - 1}-12-31",
        "timeline": {"registration": window, "submission": window, "recommendation": window},
    }


DRAFT = {
    "recommending_unit": "pudong",
    "qc_result": {
        "group_name": "柜面服务质量改进QC小组",
        "group_size": 6,
        "topic_name": "降低柜面业务差错率",
        "industry": "金融业",
        "topic_type": "problem_solving",
        "members": ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"],
        "intro": "小组围绕柜面业务差错开展活动。" * 70,
        "commitments": [True, True, True, True],
    },
    "applicant": {
        "unit_name": "中国工商银行股份有限公司上海市分行",
        "key_domain": "市场服务",
        "key_industries": ["金融"],
    },
}


def make_accounts(settings: Settings) -> dict[str, tuple[str, str]]:
    platform = Platform.from_settings(settings, only=["saq"])
    made = {}
    try:
        ledger = platform.tenants["saq"].ledger
        for name, grant in (
            ("secretariat", Grant(Role.SECRETARIAT)),
            ("applicant", Grant(Role.APPLICANT_UNIT, ICBC)),
        ):
            login, password = f"bench-{name}@example.cn", secrets.token_urlsafe(16) + "Aa1!"
            ledger.register_account(
                login=login,
                name="压力测试",
                password=password,
                status=AccountStatus.ACTIVE,
                grants=[grant],
                actor=Actor("bench", Role.OPERATOR),
            )
            made[name] = (login, password)
    finally:
        platform.close()
    return made


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (127.0.0.1)
        return json.loads(answer.read())


@dataclass
class Situation:
    secretariat: dict[str, str]
    applicant: dict[str, str]
    campaign_id: str


def prepare(port: int, accounts: dict[str, tuple[str, str]]) -> Situation:
    tokens = {}
    for name, (login, password) in accounts.items():
        answer = call(port, "POST", f"{TENANT}/session", {}, {"login": login, "password": password})
        tokens[name] = {"Authorization": f"Bearer {answer['token']}"}
    opened = call(port, "POST", f"{TENANT}/campaigns", tokens["secretariat"], campaign_body())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the campaign list is a read model: wait until it shows
        listed = call(port, "GET", f"{TENANT}/campaigns", tokens["secretariat"])
        if listed:
            break
        time.sleep(0.3)
    return Situation(tokens["secretariat"], tokens["applicant"], opened["id"])


# One run.


def measure(
    args: argparse.Namespace,
    env: dict[str, str],
    logs: Path,
    situation: list[Situation],
    accounts: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    """One run: both servers up together; each pair (trivial read / campaigns, trivial write /
    drafts) measured in alternating slices, so that a change of the machine's load falls on
    both sides of a ratio alike."""
    result: dict[str, Any] = {}
    trivial_port, port = free_port(), free_port()
    with running(WORKER, env, logs / "worker.log") as worker:
        # The worker creates what is missing before the web starts: processes creating tables
        # at the same moment can still collide (issue 22 §6, fixed on its own).
        wait_for_line(logs / "worker.log", b'"worker_started"', worker)
        with (
            running(SERVE, {**env, "QCFLOW_PORT": str(port)}, logs / "serve.log") as web,
            running(
                TRIVIAL, {**env, "QCFLOW_PORT": str(trivial_port)}, logs / "trivial.log"
            ) as trivial,
        ):
            wait_until_up(trivial_port, "/trivial", trivial)
            wait_until_up(port, "/health", web)
            if not situation:
                situation.append(prepare(port, accounts))
            s = situation[0]
            campaigns = http_request("GET", f"{TENANT}/campaigns", s.secretariat)
            draft = http_request(
                "POST", f"{TENANT}/campaigns/{s.campaign_id}/submissions", s.applicant, DRAFT
            )
            uvloop.run(saturate(port, campaigns, 4, 1.0, 200))  # warm up (first queries)
            pairs = (
                (
                    ("trivial_get", trivial_port, http_request("GET", "/trivial", {})),
                    ("campaigns", port, campaigns),
                ),
                (
                    ("trivial_post", trivial_port, http_request("POST", "/trivial", {}, DRAFT)),
                    ("drafts", port, draft),
                ),
            )
            groups = {"web": [web.pid], "worker": [worker.pid], "client": [THIS_PROCESS]}
            for pair in pairs[:1] if args.reads_only else pairs:
                figures = {name: Figures() for name, _, _ in pair}
                cpu = {name: dict.fromkeys([*groups, "PostgreSQL"], 0.0) for name, _, _ in pair}
                for _ in range(args.slices):
                    for name, target, raw in pair:
                        clock = CpuClock(env["QCFLOW_DATABASE_URL"], groups)
                        figures[name].add(
                            uvloop.run(
                                saturate(
                                    target,
                                    raw,
                                    args.connections,
                                    args.seconds / args.slices,
                                    args.cap // args.slices,
                                )
                            )
                        )
                        for group, seconds in clock.spent().items():
                            cpu[name][group] += seconds
                result.update({name: f.summary() for name, f in figures.items()})
                for name, _, _ in pair:
                    if name in ("campaigns", "drafts"):
                        result[name]["cpu_ms"] = per_request(cpu[name], figures[name])
            if not args.reads_only:
                time.sleep(2)  # the worker catches up before the paced phase
                clock = CpuClock(env["QCFLOW_DATABASE_URL"], groups)
                paced = uvloop.run(at_rate(port, draft, args.rate, args.rate_seconds, args.pool))
                time.sleep(1)  # the worker's share of the last drafts
                result["drafts_at_rate"] = paced.summary()
                result["drafts_at_rate"]["cpu_ms"] = per_request(clock.spent(), paced)
            result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    result["campaigns_vs_trivial_get"] = round(
        result["campaigns"]["rate"] / result["trivial_get"]["rate"], 3
    )
    if args.reads_only:
        return result
    result["drafts_vs_trivial_post"] = round(
        result["drafts"]["rate"] / result["trivial_post"]["rate"], 3
    )
    return result


def per_request(cpu: dict[str, float], figures: Figures) -> dict[str, float]:
    """CPU milliseconds per answered request, by group of processes."""
    answered = max(figures.requests - figures.errors, 1)
    return {group: round(seconds * 1000 / answered, 2) for group, seconds in cpu.items()}


def wait_for_line(log: Path, marker: bytes, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker stopped at start ({process.returncode})")
        if marker in log.read_bytes():
            return
        time.sleep(0.3)
    raise RuntimeError("the worker did not start in time")


def spread(runs: list[dict[str, Any]], *path: str) -> list[float]:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(value)
    return [min(values), statistics.median(values), max(values)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="server processes (both servers)")
    parser.add_argument("--connections", type=int, default=32, help="callers at saturation")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each saturation")
    parser.add_argument("--cap", type=int, default=20000, help="most requests of a saturation")
    parser.add_argument(
        "--slices", type=int, default=4, help="alternating slices of each saturation pair"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="drafts a second, paced")
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--pool", type=int, default=64, help="connections of the paced phase")
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="only the read pair (trivial read / campaigns): no drafts, no paced phase",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    # Stopped from outside (`timeout`, kill): leave as on failure, servers stopped and the
    # database dropped (SIGTERM would end the process without running `finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    database = f"qcflow_bench_serve_{secrets.token_hex(4)}"
    with psycopg.connect(args.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = psycopg.conninfo.make_conninfo(args.database_url, dbname=database)
    work = Path(tempfile.mkdtemp(prefix="qcflow-serve-bench-"))
    logs = Path(tempfile.mkdtemp(prefix="qcflow-serve-bench-logs-"))
    try:
        settings = Settings(database_url=url, data_dir=work / "var")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("QCFLOW_")},
            "PYTHONPATH": str(ROOT),
            "QCFLOW_DATABASE_URL": url,
            "QCFLOW_DATA_DIR": str(settings.data_dir),
            "QCFLOW_WORKERS": str(args.workers),
            "QCFLOW_RUN_PROJECTIONS": "0",
            "QCFLOW_LOG_FORMAT": "json",
            "QCFLOW_SECRET_KEY": secrets.token_urlsafe(48),
        }
        accounts = make_accounts(settings)
        situation: list[Situation] = []
        runs = []
        for number in range(1, args.runs + 1):
            run = measure(args, env, logs, situation, accounts)
            runs.append(run)
            print(f"run {number}: {json.dumps(run, ensure_ascii=False)}", flush=True)
        figures = {
            "trivial_get_rate": spread(runs, "trivial_get", "rate"),
            "campaigns_rate": spread(runs, "campaigns", "rate"),
            "campaigns_vs_trivial_get": spread(runs, "campaigns_vs_trivial_get"),
        }
        if not args.reads_only:
            figures |= {
                "trivial_post_rate": spread(runs, "trivial_post", "rate"),
                "drafts_rate": spread(runs, "drafts", "rate"),
                "drafts_vs_trivial_post": spread(runs, "drafts_vs_trivial_post"),
                "drafts_at_rate_p50_ms": spread(runs, "drafts_at_rate", "p50_ms"),
                "drafts_at_rate_p99_ms": spread(runs, "drafts_at_rate", "p99_ms"),
                **{
                    f"drafts_cpu_ms_{group}": spread(runs, "drafts", "cpu_ms", group)
                    for group in runs[0]["drafts"]["cpu_ms"]
                },
                **{
                    f"drafts_at_rate_cpu_ms_{group}": spread(
                        runs, "drafts_at_rate", "cpu_ms", group
                    )
                    for group in runs[0]["drafts_at_rate"]["cpu_ms"]
                },
            }
        report = {
            "workers": args.workers,
            "connections": args.connections,
            "runs": runs,
            "min_median_max": figures,
        }
        print(json.dumps(report["min_median_max"], indent=2))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        print(f"server logs: {logs}", file=sys.stderr)
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
