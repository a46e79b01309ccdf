"""Tamper evidence, on SQLite and PostgreSQL: every event the platform writes is linked into the
tenant's hash chain in the same transaction; an event edited, deleted or inserted in the database
behind the platform's back is found and named; a chain recomputed from the start is caught by the
checkpoints; the command line reports the same."""

from __future__ import annotations

import subprocess
import threading
from typing import Any
from uuid import UUID

import msgspec
import pytest

import tenants.chain
from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tenants.chain import GENESIS, link
from tenants.chain_verify import verify
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.support import new_password, open_qc_campaign, run_command
from tests.tamper import BehindTheBack

pytestmark = pytest.mark.tenants("saq")


def saq(platform: Platform) -> TenantRuntime:
    runtime = platform.get("saq")
    assert runtime is not None
    return runtime


def open_campaigns(runtime: TenantRuntime, years: range) -> list[UUID]:
    return [open_qc_campaign(runtime.ledger, year).aggregate.id for year in years]


def altered(state: bytes) -> bytes:
    data: dict[str, Any] = msgspec.json.decode(state)
    data["title"] += "（已改）"
    return msgspec.json.encode(data)


def test_every_event_the_platform_writes_is_on_the_chain(platform: Platform) -> None:
    runtime = saq(platform)
    ids = open_campaigns(runtime, range(2020, 2024))
    report = verify(runtime.chain)
    head = runtime.ledger.recorder.max_notification_id()  # type: ignore[attr-defined]
    assert report.intact and report.breaks == []
    assert report.events == report.links == len(ids) and report.head == head
    links = dict(runtime.chain.links())
    records = list(runtime.chain.chained_records())
    previous = GENESIS
    for r in records:  # each link covers the previous link and the stored record
        previous = link(previous, r.position, r.originator_id, r.version, r.topic, r.state)
        assert links[r.position] == previous
    assert report.head_link == previous.hex()


def test_an_event_edited_in_the_database_is_named(platform: Platform) -> None:
    runtime = saq(platform)
    _, second, _ = open_campaigns(runtime, range(2020, 2023))
    db = BehindTheBack(runtime.location)
    db.rewrite(second, 1, altered(db.state(second, 1)))
    report = verify(runtime.chain)
    assert not report.intact and report.break_count == 1
    broken = report.breaks[0]
    assert (broken.position, broken.kind) == (db.position(second, 1), "changed")
    assert (broken.originator_id, broken.version) == (str(second), 1)
    assert "被改动" in broken.what and broken.topic is not None and "Campaign" in broken.topic


def test_an_event_deleted_from_the_database_is_named(platform: Platform) -> None:
    runtime = saq(platform)
    _, second, _ = open_campaigns(runtime, range(2020, 2023))
    db = BehindTheBack(runtime.location)
    place = db.position(second, 1)
    db.delete(second, 1)
    report = verify(runtime.chain)
    assert report.break_count == 1
    assert (report.breaks[0].position, report.breaks[0].kind) == (place, "deleted")
    assert report.events == 2 and report.links == 3


def test_an_event_inserted_into_the_database_is_named_and_the_platform_goes_on(
    platform: Platform,
) -> None:
    runtime = saq(platform)
    (first,) = open_campaigns(runtime, range(2020, 2021))
    db = BehindTheBack(runtime.location)
    (topic,) = db.execute(f"SELECT topic FROM {db.events}")[0]
    place = db.insert(first, 2, topic, altered(db.state(first, 1)))
    open_campaigns(runtime, range(2021, 2022))  # written after: linked as usual
    report = verify(runtime.chain)
    assert report.break_count == 1
    broken = report.breaks[0]
    assert (broken.position, broken.kind, broken.version) == (place, "inserted", 2)
    assert broken.originator_id == str(first) and "不是由平台写入" in broken.what
    assert report.events == 3 and report.links == 2


def test_a_chain_recomputed_from_the_start_is_caught_by_its_checkpoints(
    platform: Platform,
) -> None:
    runtime = saq(platform)
    first, *_ = open_campaigns(runtime, range(2020, 2023))
    kept = runtime.chain.record_checkpoint()
    assert (
        kept is not None and kept.how == "requested" and kept.position == verify(runtime.chain).head
    )
    assert runtime.chain.record_checkpoint() == kept  # the head has not moved: the same one
    db = BehindTheBack(runtime.location)
    db.rewrite(first, 1, altered(db.state(first, 1)))
    previous = GENESIS
    for r in list(runtime.chain.chained_records()):  # an attacker who knows the scheme
        previous = link(previous, r.position, r.originator_id, r.version, r.topic, r.state)
        db.execute(
            f"UPDATE {db.chain} SET link = ? WHERE notification_id = ?", (previous, r.position)
        )
    report = verify(runtime.chain, {kept.position: kept.link})
    assert [(b.position, b.kind) for b in report.breaks] == [
        (kept.position, "checkpoint"),
        (kept.position, "expected"),
    ]
    db.execute(f"DELETE FROM {db.checkpoints}")  # and the recorded ones too
    only_outside = verify(runtime.chain, {kept.position: kept.link})
    assert [(b.position, b.kind) for b in only_outside.breaks] == [(kept.position, "expected")]


def test_checkpoints_are_recorded_as_the_log_grows(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenants.chain, "CHECKPOINT_EVERY", 3)
    runtime = saq(platform)
    open_campaigns(runtime, range(2010, 2017))
    checkpoints = runtime.chain.checkpoints()
    links = dict(runtime.chain.links())
    assert [c.position for c in checkpoints] == [p for p in sorted(links) if p % 3 == 0]
    assert all(c.how == "interval" and links[c.position].hex() == c.link for c in checkpoints)
    assert verify(runtime.chain).intact


def test_a_log_from_before_the_chain_is_adopted_once(settings: Settings) -> None:
    platform = Platform.from_settings(settings)
    try:
        runtime = saq(platform)
        open_campaigns(runtime, range(2020, 2023))
        db = BehindTheBack(runtime.location)
        db.execute(f"DELETE FROM {db.chain}")  # as a store written before there was a chain
    finally:
        platform.close()
    platform = Platform.from_settings(settings)
    try:
        runtime = saq(platform)
        (adopted,) = runtime.chain.checkpoints()
        report = verify(runtime.chain)
        assert adopted.how == "adopted" and adopted.position == report.head
        assert report.intact and report.links == 3
        db.execute(f"DELETE FROM {db.chain}")
    finally:
        platform.close()
    platform = Platform.from_settings(settings)  # emptied again: tampering, never re-adopted
    try:
        report = verify(saq(platform).chain)
        kinds = [b.kind for b in report.breaks]
        assert kinds == ["inserted", "inserted", "inserted", "checkpoint"]
    finally:
        platform.close()


def test_concurrent_writers_keep_one_unbroken_chain(platform: Platform) -> None:
    runtime = saq(platform)
    failures: list[BaseException] = []

    def register(n: int) -> None:
        try:
            for i in range(5):
                runtime.ledger.register_account(
                    login=f"writer{n}-{i}@example.cn",
                    name="并发",
                    password=new_password(),
                    status=AccountStatus.ACTIVE,
                    grants=[Grant(Role.AUDITOR)],
                    actor=Actor("test", Role.OPERATOR),
                )
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    report = verify(runtime.chain)
    assert report.intact and report.events == report.links >= 20


def qcflow(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {"QCFLOW_DATA_DIR": str(settings.data_dir), "QCFLOW_LOG_FORMAT": "json"}
    if settings.database_url:
        env["QCFLOW_DATABASE_URL"] = settings.database_url
    return run_command(args, env)


def test_the_command_line_reports_intact_then_the_first_broken_link(
    platform: Platform, settings: Settings
) -> None:
    runtime = saq(platform)
    first, _ = open_campaigns(runtime, range(2020, 2022))
    made = qcflow(["audit", "checkpoint", "--tenant", "saq"], settings)
    assert made.returncode == 0, made.stderr
    kept = made.stdout.split()[0]
    intact = qcflow(["audit", "verify", "--tenant", "saq", "--expect", kept], settings)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout and "2 events, 2 links" in intact.stdout
    db = BehindTheBack(runtime.location)
    db.rewrite(first, 1, altered(db.state(first, 1)))
    broken = qcflow(["audit", "verify", "--tenant", "saq"], settings)
    assert broken.returncode == 1
    assert f"first broken link at place {db.position(first, 1)}" in broken.stdout
    assert str(first) in broken.stdout
    bad = qcflow(["audit", "verify", "--tenant", "saq", "--expect", "x:y"], settings)
    assert bad.returncode == 2 and "PLACE:LINK" in bad.stderr
    listed = qcflow(["audit", "checkpoints", "--tenant", "saq"], settings)
    assert listed.stdout.split()[0] == kept and "requested" in listed.stdout
