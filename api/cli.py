"""The command line: `qcflow serve | demo | worker | projections status|rebuild | tenants check`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

import structlog

from api.logging import configure_logging
from projections.service import PlatformViews
from tenants.registry import TenantConfigError, TenantRegistry
from tenants.runtime import Platform
from tenants.settings import Settings

log = structlog.get_logger("qcflow.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qcflow", description="群众性质量活动平台")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web platform")
    serve.add_argument("--demo", action="store_true", help="open the demo campaigns first")
    commands.add_parser("demo", help="open the seeds' demo campaigns (safe to repeat)")
    commands.add_parser("worker", help="run every tenant's projections (no web server)")
    projections = commands.add_parser("projections", help="read models")
    actions = projections.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="position and lag of every read model")
    rebuild = actions.add_parser("rebuild", help="rebuild a read model from zero")
    rebuild.add_argument("--tenant", required=True)
    rebuild.add_argument("name", help="the read model, e.g. campaign_list")
    tenants = commands.add_parser("tenants", help="tenant files")
    tenants.add_subparsers(dest="action", required=True).add_parser("check", help="validate")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    try:
        handler = {
            "serve": _serve,
            "demo": _demo,
            "worker": _worker,
            "projections": _projections,
            "tenants": _check_tenants,
        }[args.command]
        return handler(settings, args)
    except TenantConfigError as e:
        print(f"qcflow: tenant configuration: {e}", file=sys.stderr)
        return 2


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (only this command needs the server)

    from api.app import create_app  # noqa: PLC0415

    TenantRegistry.load(settings.tenants_dir)  # a bad tenant file stops start-up here, named
    if args.demo:
        _demo(settings, args)
    log.info("serving", url=f"http://{settings.host}:{settings.port}", schema="/schema")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from api.demo import load_demo  # noqa: PLC0415

    platform = Platform.from_settings(settings)
    try:
        for line in load_demo(platform):
            log.info("demo_campaign", result=line)
    finally:
        platform.close()
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    platform = Platform.from_settings(settings)
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


def _projections(settings: Settings, args: argparse.Namespace) -> int:
    platform = Platform.from_settings(settings)
    views = PlatformViews(platform)
    try:
        if args.action == "status":
            for code, tenant_views in views.tenants.items():
                for status in tenant_views.statuses():
                    print(
                        f"{code}\t{status.projection}\t{status.state}\tposition={status.position}\thead={status.head}\tlag={status.lag}"
                    )
            return 0
        found = views.tenants.get(args.tenant)
        if found is None or args.name not in found.runners:
            print(
                f"qcflow: no read model {args.name!r} for tenant {args.tenant!r}", file=sys.stderr
            )
            return 2
        runner = found.runners[args.name]
        runner.rebuild()
        with runner.db.claim(runner.projection.name, runner.channel) as claim:
            if not claim.held:
                log.info("projection_rebuild_left_to_active_runner", projection=args.name)
                return 0
            position = runner.catch_up()
        log.info("projection_rebuilt", tenant=args.tenant, projection=args.name, position=position)
        return 0
    finally:
        views.close()
        platform.close()


def _check_tenants(settings: Settings, args: argparse.Namespace) -> int:
    registry = TenantRegistry.load(settings.tenants_dir)
    for tenant in registry:
        print(
            f"{tenant.code}\t{tenant.name_zh}\t{len(tenant.recommending_units)} recommending units"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
