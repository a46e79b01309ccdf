"""The command line: `qcflow serve | demo | worker | accounts | projections | audit | tenants`."""

from __future__ import annotations

import argparse
import getpass
import multiprocessing
import os
import queue
import secrets
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from psycopg.conninfo import conninfo_to_dict

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.problems import DomainError
from api.audit.cli import add_audit_commands, run_audit
from api.platform.logging import configure_logging
from api.serving import run_server
from projections.rebuild import RebuildInProgress, Rebuilt, ShadowRebuild
from projections.runner import CannotApply, ProjectionRunner
from projections.service import PlatformViews
from projections.store import open_view_database
from tenants.pool import DatabaseUnavailable, database_unavailable
from tenants.registry import TenantConfigError, TenantRegistry
from tenants.runtime import Platform
from tenants.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar

log = structlog.get_logger("qcflow.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qcflow", description="群众性质量活动平台")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web platform")
    serve.add_argument("--demo", action="store_true", help="open the demo campaigns first")
    commands.add_parser(
        "demo",
        help="open the seeds' campaigns and build last year's and this year's seasons (safe to repeat)",
    )
    commands.add_parser(
        "worker",
        help="run every tenant's projections and the forwarding processes (no web server)",
    )
    projections = commands.add_parser("projections", help="read models")
    actions = projections.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="position and lag of every read model")
    rebuild = actions.add_parser(
        "rebuild",
        help="rebuild read models from zero beside the live ones, then swap them in",
    )
    rebuild.add_argument("--tenant", help="the tenant (with --all: every tenant if left out)")
    rebuild.add_argument("--all", action="store_true", help="every read model")
    rebuild.add_argument("name", nargs="?", help="the read model, e.g. campaign_list")
    rebuild.add_argument(
        "--jobs",
        default="1",
        help="read models rebuilt at once, each job a process of its own (default 1): about"
        " one per core the database server can spare",
    )
    accounts = commands.add_parser("accounts", help="accounts")
    account_actions = accounts.add_subparsers(dest="action", required=True)
    create = account_actions.add_parser(
        "create-secretariat",
        help="a tenant's first secretariat account (password asked, never an argument)",
    )
    create.add_argument("--tenant", required=True)
    create.add_argument("--login", required=True, help="e-mail address to sign in with")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--link",
        action="store_true",
        help="print a one-time invitation code instead of asking for the password",
    )
    add_audit_commands(commands)
    tenants = commands.add_parser("tenants", help="tenant files")
    tenants.add_subparsers(dest="action", required=True).add_parser("check", help="validate")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    if args.command in READS_A_PLATFORM:
        refusal = _store_of(settings)
        if refusal:
            print(f"qcflow: {refusal}", file=sys.stderr)
            return 2
    try:
        handler = {
            "serve": _serve,
            "demo": _demo,
            "worker": _worker,
            "projections": _projections,
            "tenants": _check_tenants,
            "accounts": _accounts,
            "audit": run_audit,
        }[args.command]
        return handler(settings, args)
    except TenantConfigError as e:
        print(f"qcflow: tenant configuration: {e}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as e:
        print(f"qcflow: {e}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as e:
        if settings.database_url is None:
            raise
        print(f"qcflow: {database_unavailable(settings.database_url, e)}", file=sys.stderr)
        return 1


READS_A_PLATFORM = frozenset(("accounts", "projections", "audit"))
"""The commands that work on a platform's data (not `serve`, `demo` or `worker`, which make it)."""


def _store_of(settings: Settings) -> str | None:
    """Say on stderr which store a command works on; refuse (the reason) an SQLite data directory
    that holds no platform yet: with `QCFLOW_DATABASE_URL` unset in one shell, a command would
    otherwise write into a fresh store that the server, started elsewhere, never reads."""
    if settings.database_url is not None:
        params = conninfo_to_dict(settings.database_url)
        where = f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '')}"
        print(f"qcflow: store: PostgreSQL at {where} (QCFLOW_DATABASE_URL)", file=sys.stderr)
        return None
    folder = settings.data_dir.resolve()
    print(
        f"qcflow: store: SQLite files in {folder} (QCFLOW_DATABASE_URL unset; QCFLOW_DATA_DIR)",
        file=sys.stderr,
    )
    if any((folder / code / "ledger.sqlite").exists() for code in _tenant_codes(settings)):
        return None
    return (
        f"no platform in {folder} yet: start it there first (`qcflow serve` or `make run`), or"
        " point QCFLOW_DATA_DIR (SQLite) or QCFLOW_DATABASE_URL (PostgreSQL) at the store the"
        " server uses"
    )


def _tenant_codes(settings: Settings) -> list[str]:
    return [tenant.code for tenant in TenantRegistry.load(settings.tenants_dir)]


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    TenantRegistry.load(settings.tenants_dir)  # a bad tenant file stops start-up here, named
    if args.demo:
        _demo(settings, args)
        # The worker processes inherit the environment: each app reads this start's nonce.
        os.environ[DEMO_START] = _print_demo_links(settings)
    else:
        os.environ.pop(DEMO_START, None)
    if settings.workers > 1:
        _create_stores(settings)
    log.info(
        "serving",
        url=f"http://{settings.host}:{settings.port}",
        schema="/schema",
        workers=settings.workers,
    )
    run_server(SERVED_APP, settings)
    return 0


def _create_stores(settings: Settings) -> None:
    """Every tenant's stores and tables, made once before the server processes start: on
    PostgreSQL the advisory lock already serialises this (ADR 26), but SQLite files have no such
    lock, and processes creating the same tables at once collide."""
    from api.accounts.auth_store import AuthStore  # noqa: PLC0415

    platform = Platform.from_settings(settings)
    try:
        PlatformViews(platform).close()
        for runtime in platform.tenants.values():
            AuthStore(open_view_database(runtime.location, "auth")).db.close()
    finally:
        platform.close()


SERVED_APP = "api.cli:served_app"
"""What each server process imports and calls for its app."""
DEMO_START = "QCFLOW_DEMO_START"
"""Set by `qcflow serve --demo` for its own server processes only: the start's nonce, without
which no demo sign-in link works (never a setting: a plain start removes it)."""


def served_app() -> Litestar:
    """The app of one server process: its settings from the environment and its logging set up
    as the command's (a worker process starts afresh and runs neither)."""
    from api.app import create_app  # noqa: PLC0415

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    app.state.demo_nonce = os.environ.get(DEMO_START)
    return app


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from api.demo.seeds import build_demo  # noqa: PLC0415

    platform = Platform.from_settings(settings)
    try:
        for line in build_demo(platform):
            log.info("demo_campaign", result=line)
    finally:
        platform.close()
    return 0


def _print_demo_links(settings: Settings) -> str:
    """Print a one-time sign-in link per demo role; the start's nonce, which the app must hold
    for them to work (so they stop working when this process stops)."""
    from aggregates.actor import ROLE_NAMES_ZH  # noqa: PLC0415
    from api.demo.seeds import issue_demo_links  # noqa: PLC0415

    nonce = secrets.token_urlsafe(24)
    platform = Platform.from_settings(settings)
    try:
        links = issue_demo_links(platform, nonce, settings.base_url)
        names = {code: platform.tenants[code].tenant.name_zh for code in platform.tenants}
    finally:
        platform.close()
    print(
        "演示登录链接（仅本次启动有效，每个链接只能使用一次）/ demo sign-in links (this start only, once each):"
    )
    for link in links:
        print(
            f"  {names[link.tenant]} · {ROLE_NAMES_ZH[link.role]} ({link.role.value}): {link.url}"
        )
    sys.stdout.flush()
    return nonce


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    platform = _platform_when_reachable(settings)
    views = PlatformViews(platform)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    views.start()
    log.info("worker_started", tenants=list(platform.tenants))
    stop.wait()
    views.close()
    platform.close()
    log.info("worker_stopped")
    return 0


def _platform_when_reachable(settings: Settings, attempts: int = 10) -> Platform:
    """The platform, once its database takes connections (a worker restarted by its supervisor
    while PostgreSQL restarts or is full waits for it, with back-off, instead of dying)."""
    for attempt in range(1, attempts + 1):
        try:
            return Platform.from_settings(settings)
        except psycopg.OperationalError as e:
            if attempt == attempts:
                raise
            wait = min(0.5 * 2**attempt, 30.0)
            log.warning("database_unavailable", error=str(e), retry_in=wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def _projections(settings: Settings, args: argparse.Namespace) -> int:
    platform = Platform.from_settings(settings)
    views = PlatformViews(platform)
    try:
        if args.action == "status":
            for code in views.tenants:
                for status in views.statuses(code):
                    halted = f"\t{status.error}" if status.state == "halted" else ""
                    print(
                        f"{code}\t{status.projection}\t{status.state}\tposition={status.position}\thead={status.head}\tlag={status.lag}{halted}"
                    )
            return 0
        chosen, jobs = _chosen_read_models(views, args), _jobs(args.jobs)
        if isinstance(chosen, str) or isinstance(jobs, str):
            refusal = chosen if isinstance(chosen, str) else jobs
            print(f"qcflow: {refusal}", file=sys.stderr)
            return 2
        if jobs == 1 or len(chosen) == 1:
            for code, runner in chosen:
                try:
                    done = _rebuild(runner)
                except (RebuildInProgress, CannotApply) as e:
                    print(f"qcflow: {e}", file=sys.stderr)
                    return 1
                _print_rebuilt(code, done)
            return 0
        pairs = [(code, runner.projection.name) for code, runner in chosen]
    finally:
        views.close()
        platform.close()
    # Each job opens the platform: this process's is closed first, and its connections with it.
    return _rebuild_in_processes(settings, pairs, jobs)


MAX_JOBS = 32
"""Each job is a process with its own connections (deploy/README.md, the connection budget)."""


def _jobs(text: str) -> int | str:
    """`--jobs`, or what is wrong with it."""
    jobs = int(text) if text.isdigit() else 0
    if not 1 <= jobs <= MAX_JOBS:
        return f"--jobs: a whole number from 1 to {MAX_JOBS}, not {text!r}"
    return jobs


def _rebuild(runner: ProjectionRunner) -> Rebuilt:
    return ShadowRebuild(runner.projection, runner.ledger, runner.db, runner.channel).run()


def _print_rebuilt(code: str, done: Rebuilt) -> None:
    print(
        f"{code}\t{done.projection}\trebuilt: {done.events} events,"
        f" position={done.position}, {done.seconds:.2f} s",
        flush=True,
    )


def _rebuild_in_processes(settings: Settings, pairs: list[tuple[str, str]], jobs: int) -> int:
    """`rebuild --jobs N`: the (tenant, read model) pairs shared out among N processes, each
    taking the next pair when it is done with one (a read model's rebuild is the interpreter's
    work, one core's worth, and threads of one process would take turns). Each process opens
    the platform once and closes it when the pairs run out. A rebuild that fails stops the
    pairs not yet begun; those begun finish (each swaps in whole, or not at all)."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no pool or thread of ours
    todo: Any = spawn.Queue()
    done: Any = spawn.Queue()
    stop = spawn.Event()
    workers = min(jobs, len(pairs))
    for pair in pairs:
        todo.put(pair)
    for _ in range(workers):
        todo.put(None)  # one end for each
    processes = [
        spawn.Process(target=_rebuild_job, args=(settings, todo, done, stop), name=f"rebuild-{i}")
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    failed, ended = False, 0
    while ended < workers:
        try:
            message = done.get(timeout=1.0)
        except queue.Empty:
            if not any(p.is_alive() for p in processes) and done.empty():
                print("qcflow: a rebuild job ended without a word", file=sys.stderr)
                failed = True
                break
            continue
        if message is None:
            ended += 1
        elif isinstance(message[1], str):
            print(f"qcflow: {message[1]}", file=sys.stderr)
            failed = True
            stop.set()
        else:
            _print_rebuilt(*message)
    for process in processes:
        process.join()
    return 1 if failed else 0


def _rebuild_job(settings: Settings, todo: Any, done: Any, stop: Any) -> None:
    """A rebuild job's process: the platform opened once, the pairs rebuilt one after another
    until none is left (or one has failed somewhere), and `None` to say it has ended."""
    try:
        configure_logging(settings.log_format, settings.log_level)
        structlog.contextvars.bind_contextvars(rebuild_job=multiprocessing.current_process().name)
        platform = Platform.from_settings(settings)
        try:
            views = PlatformViews(platform)
            try:
                while (pair := todo.get()) is not None:
                    if stop.is_set():
                        continue  # a rebuild failed: the pairs left are not begun
                    code, name = pair
                    try:
                        done.put((code, _rebuild(views[code].runners[name])))
                    except (RebuildInProgress, CannotApply) as e:
                        done.put((code, str(e)))
            finally:
                views.close()
        finally:
            platform.close()
    except Exception as e:  # the platform would not open, say: the command fails, saying why
        log.exception("rebuild_job_failed")
        done.put(("", f"a rebuild job failed: {e}"))
    finally:
        done.put(None)


def _chosen_read_models(
    views: PlatformViews, args: argparse.Namespace
) -> list[tuple[str, ProjectionRunner]] | str:
    """The (tenant, read model) pairs a rebuild names, or what is wrong with its arguments."""
    if args.all == (args.name is not None):
        return "name one read model, or --all"
    if args.tenant is not None and args.tenant not in views.tenants:
        return f"no tenant {args.tenant!r}"
    if args.all:
        codes = [args.tenant] if args.tenant else list(views.tenants)
        return [(code, runner) for code in codes for runner in views[code].runners.values()]
    if args.tenant is None:
        return "--tenant is required with a read model's name"
    runner = views[args.tenant].runners.get(args.name)
    if runner is None:
        return f"no read model {args.name!r} for tenant {args.tenant!r}"
    return [(args.tenant, runner)]


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    from api.accounts.auth_store import AuthStore  # noqa: PLC0415
    from api.accounts.routes import TOKEN_LIFETIMES  # noqa: PLC0415

    platform = Platform.from_settings(settings)
    try:
        runtime = platform.get(args.tenant)
        if runtime is None:
            print(f"qcflow: no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        actor = Actor(f"operator:{getpass.getuser()}", Role.OPERATOR)
        password = None if args.link else _ask_password()
        try:
            account = runtime.ledger.register_account(
                login=args.login,
                name=args.name,
                password=password,
                status=AccountStatus.PENDING if args.link else AccountStatus.ACTIVE,
                grants=[Grant(Role.SECRETARIAT)],
                actor=actor,
            )
        except DomainError as e:
            for problem in e.problems:
                print(f"qcflow: {problem.field}: {problem.message}", file=sys.stderr)
            return 2
        print(f"{runtime.tenant.name_zh}: secretariat account {account.login} ({account.id})")
        if args.link:
            store = AuthStore(open_view_database(runtime.location, "auth"))
            now = runtime.ledger.clock()
            token = store.issue_token("invitation", account.id, now, TOKEN_LIFETIMES["invitation"])
            store.db.close()
            print(
                f"one-time invitation code (valid until {now + TOKEN_LIFETIMES['invitation']:%Y-%m-%d %H:%M} UTC):"
            )
            print(f"  {token}")
            print(
                f"open {settings.base_url}/{args.tenant}/invitation#code={token} to set the password"
            )
            print(
                f"(or POST it to {settings.base_url}/api/v1/tenants/{args.tenant}/invitations/accept)"
            )
        return 0
    finally:
        platform.close()


def _ask_password() -> str:
    first = getpass.getpass("password (at least 10 characters, 3 kinds of characters): ")
    if getpass.getpass("password again: ") != first:
        raise SystemExit("qcflow: the passwords differ")
    return first


def _check_tenants(settings: Settings, args: argparse.Namespace) -> int:
    registry = TenantRegistry.load(settings.tenants_dir)
    for tenant in registry:
        print(
            f"{tenant.code}\t{tenant.name_zh}\t{len(tenant.recommending_units)} recommending units"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
