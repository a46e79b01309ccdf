"""`qcflow audit verify | checkpoint | checkpoints --tenant X`: the tenant's hash chain from the
command line. `verify` exits 1 when the chain is broken and names the first broken link."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tenants.chain import Checkpoint
from tenants.chain_verify import ChainReport, verify
from tenants.runtime import Platform
from tenants.settings import Settings


def add_audit_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="tamper evidence of a tenant's event log")
    actions = audit.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="recompute the hash chain and report any break")
    check.add_argument("--tenant", required=True)
    check.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="PLACE:LINK",
        help="a checkpoint kept outside the database (as printed by `checkpoint`); repeatable",
    )
    actions.add_parser("checkpoint", help="record a checkpoint at the chain's head").add_argument(
        "--tenant", required=True
    )
    actions.add_parser("checkpoints", help="list the recorded checkpoints").add_argument(
        "--tenant", required=True
    )


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    expected: dict[int, str] = {}
    for given in getattr(args, "expect", []):
        place, _, hex_link = given.partition(":")
        if not place.isdigit() or len(hex_link) != 64:
            print(f"qcflow: --expect {given!r}: write PLACE:LINK (64 hex digits)", file=sys.stderr)
            return 2
        expected[int(place)] = hex_link
    platform = Platform.from_settings(settings)
    try:
        runtime = platform.get(args.tenant)
        if runtime is None:
            print(f"qcflow: no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        if args.action == "checkpoint":
            made = runtime.chain.record_checkpoint()
            print(_checkpoint_line(made) if made else "the log is empty: nothing to checkpoint")
            return 0
        if args.action == "checkpoints":
            for c in runtime.chain.checkpoints():
                print(_checkpoint_line(c))
            return 0
        report = verify(runtime.chain, expected)
        _print_report(args.tenant, report)
        return 0 if report.intact else 1
    finally:
        platform.close()


def _checkpoint_line(c: Checkpoint) -> str:
    return f"{c.position}:{c.link}\t{c.made_at.isoformat(timespec='seconds')}\t{c.how}"


def _print_report(tenant: str, report: ChainReport) -> None:
    print(
        f"{tenant}: {report.events} events, {report.links} links, head {report.head}"
        f" ({report.head_link}), {len(report.checkpoints)} checkpoints"
    )
    if report.intact:
        print("intact: 日志完整，链上每一环均与存储的事件相符")
        return
    first = report.breaks[0].position
    print(f"BROKEN: {report.break_count} break(s); first broken link at place {first}")
    for b in report.breaks:
        named = f" {b.originator_id} v{b.version} {b.topic}" if b.originator_id else ""
        print(f"  {b.position}\t{b.kind}\t{b.what}{named}")
