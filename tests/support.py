"""Helpers the tests share: business time, the situations they start from, and the command
line run as its own process."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignRules, Contact, Phase, Programme, Window
from aggregates.credentials import Passwords
from aggregates.ledger.application import AssociationLedger, Saved
from api.app import Startup, create_app, restart_on
from api.cli import main
from tenants.settings import Settings

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


class Clock:
    """Business time the tests set; the platform reads it through the ledgers' clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


APP_POLL = 1.0
"""How often a test app's read-model runners and forwarding followers look for new events when
nothing woke them (seconds). A write made in the app wakes the loops that follow its ledger
(`PlatformViews.written`), so this is only the pace at which another process's writes are seen
on SQLite, and the cost of an idle app there (PostgreSQL's listener wakes them): an idle app of
four tenants on SQLite spent 0.039 of a core polling at 0.2 s, 0.003 at 2 s."""

CHEAP_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
"""argon2id at its cheapest: a hash or check takes well under a millisecond instead of 0.1–0.75 s.
Its hashes are still argon2id, which any hasher verifies."""


@dataclass(frozen=True)
class PlatformOptions:
    """How a test's platform starts (`Platform.from_settings` and `create_app` take both)."""

    only: tuple[str, ...] | None
    """The tenants to start; None for every tenant of the registry."""
    passwords: Passwords | None
    """The ledgers' hasher; None for argon2's recommended cost."""


class Apps:
    """The app, built only as many times as this process needs it at once: building its routes
    costs about a second of CPU, more than a start. A test or a module borrows one and starts it
    on its own settings (its client's or server's lifespan), then gives it back stopped."""

    def __init__(self) -> None:
        self._idle: list[Litestar] = []

    @contextmanager
    def lent(self, startup: Startup | None = None) -> Iterator[Litestar]:
        """An app no one else is using, to start on `startup` (else on what the borrower sets
        with `restart_on`); its default start (SQLite under ./var) is never used."""
        app = self._idle.pop() if self._idle else create_app(Settings())
        if startup is not None:
            restart_on(app, startup)
        try:
            yield app
        finally:
            self._idle.append(app)

    @asynccontextmanager
    async def client(self, startup: Startup) -> AsyncIterator[AsyncTestClient[Litestar]]:
        """A lent app started on `startup`, over the test client."""
        with self.lent(startup) as app:
            async with AsyncTestClient(app) as client:
                yield client


APPS = Apps()
"""The process's apps (`Apps`)."""


def platform_options_of(node: pytest.Item | pytest.Collector) -> PlatformOptions:
    """The options the `tenants` and `real_hasher` markers closest to the node ask for."""
    tenants = node.get_closest_marker("tenants")
    only = tuple(tenants.args) if tenants is not None else None
    if only is not None and not only:
        raise ValueError(f"{node.nodeid}: the tenants marker names no tenant")
    real = node.get_closest_marker("real_hasher") is not None
    return PlatformOptions(only=only, passwords=None if real else CHEAP_PASSWORDS)


def get_scope(path: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ASGI scope of a GET of `path` with `headers`, for calling an app directly (no server,
    no client library; the test client sends one request at a time)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"application/json"),
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def new_password() -> str:
    """A strong password made for one test (no password is fixed anywhere, tests included)."""
    return f"Qc-{secrets.token_urlsafe(12)}-9a"


def campaign_body(**overrides: Any) -> dict[str, Any]:
    """The Shanghai 2020 team campaign (seed 沪质协秘[2020]20号), as a secretariat opens it."""
    body: dict[str, Any] = {
        "programme": "team",
        "year": 2020,
        "title": "2020年上海市“质量信得过班组”建设经验申报/推荐",
        "document_number": "沪质协秘[2020]20号",
        "contact": {"person": "杨瑾", "phone": "021-52588838", "email": "shqi@saq.org.cn"},
        "period_start": "2019-06-01",
        "period_end": "2020-06-30",
        "timeline": {
            "submission": {
                "opens_at": "2020-07-01T00:00:00+08:00",
                "closes_at": "2020-07-25T22:00:00+08:00",
            },
            "publication": {
                "opens_at": "2020-12-01T00:00:00+08:00",
                "closes_at": "2020-12-31T22:00:00+08:00",
            },
        },
    }
    body.update(overrides)
    return body


SECRETARY = Actor("sec-001", Role.SECRETARIAT)


def open_qc_campaign(ledger: AssociationLedger, year: int) -> Saved[Campaign]:
    """A situation in the ledger: the year's QC campaign, its submission open February to April;
    the ledger's clock is set before it opens."""
    ledger.clock = lambda: beijing(2000, 1, 1)
    return ledger.open_campaign(
        programme=Programme.QC_GROUP,
        year=year,
        title=f"{year}年质量管理小组活动",
        document_number="沪质协〔2024〕7号",
        theme=None,
        co_organisers=["上海市总工会"],
        contact=Contact(person="杨瑾", phone="021-52588838"),
        period_start=date(year - 1, 1, 1),
        period_end=date(year - 1, 12, 31),
        rules=CampaignRules(),
        timeline={Phase.SUBMISSION: Window(beijing(year, 2, 1), beijing(year, 5, 1))},
        actor=SECRETARY,
    )


COMMANDS = multiprocessing.get_context("forkserver")
"""Where the tests' `qcflow` processes come from: a fork server that has imported the command
line once (this module imports it). Each process is a fresh one (no connection, thread or state
of the test's), as `python -m api.cli` would start, without the interpreter's start and the
imports (1.4 s of CPU each, most of what a test running the command spent). The session stops
the server at its end (tests/conftest.py)."""
COMMANDS.set_forkserver_preload([__name__])


def _run(
    args: list[str], env: Mapping[str, str], files: tuple[str, str, str], session: bool
) -> None:
    if session:
        os.setsid()  # signals to the test's process group do not reach it
    os.environ.clear()
    os.environ.update(env)
    stdin, out, err = files
    for fd, path, flags in (
        (0, stdin, os.O_RDONLY),
        (1, out, os.O_WRONLY | os.O_APPEND),
        (2, err, os.O_WRONLY | os.O_APPEND),
    ):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    # multiprocessing gave the process an empty `sys.stdin` of its own: the given one instead.
    sys.stdin = open(stdin, encoding="utf-8")  # noqa: SIM115 (the process's, to its end)
    sys.exit(main(args))


def command_process(
    args: Sequence[str],
    env: Mapping[str, str],
    out: Path,
    err: Path,
    *,
    stdin: Path | None = None,
    session: bool = False,
) -> BaseProcess:
    """`qcflow <args>` started as its own process in the environment `env` (only), its standard
    input read from `stdin` (else empty), its output appended to `out` and `err` (which exist);
    `session`: in a session of its own, without a terminal."""
    files = (str(stdin or os.devnull), str(out), str(err))
    process = COMMANDS.Process(
        target=_run, args=(list(args), dict(env), files, session), name="qcflow"
    )
    process.start()
    return process


def run_command(
    args: Sequence[str],
    env: Mapping[str, str],
    stdin: str = "",
    *,
    session: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`qcflow <args>` run to its end as its own process (`command_process`), given `stdin`: its
    exit code and output, as `subprocess.run` answers them."""
    with tempfile.TemporaryDirectory() as folder:
        given, out, err = Path(folder, "in"), Path(folder, "out"), Path(folder, "err")
        given.write_text(stdin)
        out.touch()
        err.touch()
        process = command_process(args, env, out, err, stdin=given, session=session)
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(["qcflow", *args], timeout)
        return subprocess.CompletedProcess(
            ["qcflow", *args], process.exitcode, out.read_text(), err.read_text()
        )
