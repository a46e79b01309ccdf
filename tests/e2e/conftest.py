"""Browser tests: the app served in-process on a free port (one per test module and backend),
driven by Debian's Chromium through Playwright.

Playwright never downloads a browser here: it launches the system's Chromium
(`QCFLOW_CHROMIUM`, else Debian's `chromium-headless-shell` on the PATH, else `chromium`).
Without one the tests skip, except when `QCFLOW_REQUIRE_BROWSER` is set (CI sets it), when they
fail. The headless shell is the same Chromium (one Debian source package, one version) built
without the desktop browser around it; a journey costs about a third less CPU in it (ADR 25).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aggregates.actor import Role
from aggregates.credentials import Passwords
from api.app import Startup
from api.demo.seeds import load_demo
from tenants.settings import Settings
from tests.api.conftest import make_account
from tests.api.published_world import Published, cheap_passwords, publish_campaign
from tests.conftest import ADMIN_URL, NO_COMMIT_WAIT, _postgres_reachable
from tests.e2e.pages import AUDIT
from tests.scheduling import BACKEND
from tests.support import APP_POLL, APPS, Clock, beijing

NOW = beijing(2024, 4, 28, 20, 57)
"""Business time of the served app: Shanghai's 2024 QC campaign is open, its submission closes
on 1 May 00:00, 2 days 3 hours later."""


def chromium() -> str | None:
    return (
        os.environ.get("QCFLOW_CHROMIUM")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
    )


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Browser]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an event
    loop running in the main thread while it is started, which the asynchronous tests of the
    modules after this one could not run beside."""
    executable = chromium()
    if executable is None:
        message = (
            "Chromium is not installed (apt-get install chromium-headless-shell fonts-noto-cjk)"
        )
        if os.environ.get("QCFLOW_REQUIRE_BROWSER"):
            pytest.fail(f"the browser is required: {message}")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = launch(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def launch(playwright: Playwright, executable: str) -> Browser:
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    return playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])


@dataclass
class Site:
    """The served app and what the world built in it."""

    url: str
    clock: Clock
    published: Published
    login: str
    password: str
    app: Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Built:
    """The world every browser test starts from, built once per run and backend; each module
    gets a copy (its files copied, its PostgreSQL database made from this one as a template)."""

    published: Published
    login: str
    password: str
    data_dir: Path
    database: str | None
    """The template database's name (PostgreSQL)."""


@pytest.fixture(scope="session")
def built_worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Built]]:
    """The worlds built so far, by backend; their template databases dropped at the end."""
    built: dict[str, Built] = {}
    try:
        yield built
    finally:
        for world in built.values():
            if world.database is not None:
                _drop(world.database)


def _built(backend: str, built: dict[str, Built], tmp: pytest.TempPathFactory) -> Built:
    if backend in built:
        return built[backend]
    data_dir = tmp.mktemp(f"e2e-world-{backend}") / "var"
    name = None
    if backend == "postgres":
        name = f"qcflow_e2e_world_{uuid.uuid4().hex[:12]}"
        _create(name)
    settings = Settings(
        database_url=_url(name) if name else None, data_dir=data_dir, pg_pool_size=2
    )
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as worker:
        published, login, password = worker.submit(
            asyncio.run, _build(settings, Clock(NOW))
        ).result()
    built[backend] = Built(published, login, password, data_dir, name)
    return built[backend]


def _url(name: str) -> str:
    return make_conninfo(**{**conninfo_to_dict(ADMIN_URL), "dbname": name})


def _create(name: str, template: str | None = None) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if template is not None:  # nobody may be connected to a template while it is copied
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (template,),
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(NO_COMMIT_WAIT.format(sql.Identifier(name)))  # not copied with a template


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest,
    built_worlds: dict[str, Built],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Built, Settings]]:
    """A copy of the built world for one module: its settings (a data directory of its own and,
    on PostgreSQL, a database of its own made from the template), dropped afterwards."""
    backend = str(request.param)
    if backend == "postgres":
        problem = _postgres_reachable()
        if problem is not None:
            if os.environ.get("QCFLOW_REQUIRE_POSTGRES"):
                pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
            pytest.skip(f"PostgreSQL not reachable: {problem}")
    built = _built(backend, built_worlds, tmp_path_factory)
    data_dir = tmp_path_factory.mktemp("e2e") / "var"
    shutil.copytree(built.data_dir, data_dir)
    name = None
    if built.database is not None:
        name = f"qcflow_e2e_{uuid.uuid4().hex[:12]}"
        _create(name, template=built.database)
    settings = Settings(
        database_url=_url(name) if name else None, data_dir=data_dir, pg_pool_size=2
    )
    try:
        yield built, settings
    finally:
        if name is not None:
            _drop(name)


async def _build(settings: Settings, clock: Clock) -> tuple[Published, str, str]:
    """Shanghai's 2023 QC campaign published with certificates, the seeds' campaigns opened,
    and a secretariat account to sign in with (cheap password hashes)."""
    async with APPS.client(Startup(settings, clock=clock, poll_interval=APP_POLL)) as client:
        published = await publish_campaign(
            client, clock, "saq", units=("pudong", "minhang"), per_unit=1, year=2023
        )
        load_demo(client.app.state.platform)
        with cheap_passwords(client, "saq"):
            login, password = make_account(client, "saq", Role.SECRETARIAT)
    return published, login, password


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """For a module that builds a world of its own: None for SQLite; else an empty PostgreSQL
    database for the module, dropped afterwards."""
    if request.param == "sqlite":
        yield None
        return
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("QCFLOW_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"qcflow_e2e_{uuid.uuid4().hex[:12]}"
    _create(name)
    try:
        yield _url(name)
    finally:
        _drop(name)


@contextmanager
def served(settings: Settings, clock: Clock) -> Iterator[tuple[str, Any]]:
    """The app on a free port of this host, in a thread (its address and the app), its
    ledgers hashing cheaply; stopped on leaving."""
    with APPS.lent(Startup(settings, clock=clock, poll_interval=APP_POLL)) as app:
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        for runtime in app.state.platform.tenants.values():
            runtime.ledger.passwords = cheap_hasher()
        try:
            yield f"http://127.0.0.1:{port}", app
        finally:
            server.should_exit = True
            thread.join(timeout=30)


@pytest.fixture(scope="module")
def site(world: tuple[Built, Settings]) -> Iterator[Site]:
    built, settings = world
    clock = Clock(NOW)
    with served(settings, clock) as (url, app):
        yield Site(url, clock, built.published, built.login, built.password, app)


T = TypeVar("T")


def in_a_thread(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """An async builder run to its end in a thread of its own: Playwright's sync API keeps an
    event loop running in this one."""
    with ThreadPoolExecutor(1) as worker:
        return worker.submit(lambda: asyncio.run(coroutine())).result()


class OverHttp(httpx.AsyncClient):
    """tests/api's async builders against the served app, once a test is under way: they send
    their requests over HTTP and read `client.app` (the tenants' configuration, the ledgers
    that make accounts)."""

    def __init__(self, url: str, app: Any) -> None:
        super().__init__(base_url=url, timeout=30)
        self.app = app


def cheap_hasher() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(FAILED, False)
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def audited(request: pytest.FixtureRequest) -> Iterator[None]:
    """axe audits the test's pages unless it is a journey's PostgreSQL half (`pages.AUDIT`)."""
    backend = BACKEND.search(request.node.name)
    AUDIT.on = backend is None or backend.group(1) != "postgres"
    try:
        yield
    finally:
        AUDIT.on = True


@pytest.fixture
def page(
    playwright_browser: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    """A fresh browser context at 1280 px; a screenshot is kept when the test fails, and nothing
    the page does may be blocked by the app's Content-Security-Policy."""
    context = playwright_browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    tab = context.new_page()
    refused: list[str] = []  # what the Content-Security-Policy blocked (the app's own header)
    tab.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        yield tab
        assert not refused, f"the page broke its own CSP: {refused}"
    finally:
        if request.node.stash.get(FAILED, False):
            shot = tmp_path / "failure.png"
            tab.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")  # noqa: T201
        context.close()
