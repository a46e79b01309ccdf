"""The forwarding processes through real storage, on SQLite and PostgreSQL: each forward is
recorded in the national tenant exactly once, across restarts and with rival followers; a
withdrawal reaches national review with its reason, or is declined after formal review and the
province is told; nothing of another province reaches a province."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from aggregates.actor import Actor, Role
from aggregates.submission import Submission, SubmissionStatus
from projections.forwarding import Follower, edges, national_intake, outcome_return
from projections.store import open_view_database
from tenants.runtime import Platform
from tests.integration.forwarding_support import (
    NATIONAL_SECRETARIAT,
    forward,
    national_call,
    open_national_campaign,
    open_provincial_campaign,
)
from tests.support import beijing


def received_ids(platform: Platform) -> Counter[UUID]:
    """Every national submission created by the intake, counted by id (a duplicate shows as 2)."""
    recorder = platform.tenants["caq"].ledger.recorder
    topic = get_topic(Submission.Received)
    found: Counter[UUID] = Counter()
    start = 1
    while page := recorder.select_notifications(start=start, limit=500, topics=[topic]):
        found.update(n.originator_id for n in page)  # type: ignore[misc]
        start = page[-1].id + 1
    return found


@contextmanager
def follower(platform: Platform, member: str, kind: str = "intake") -> Iterator[Follower]:
    """A follower of one edge, as a fresh process would build it; stopped on leaving."""
    edge = next(e for e in edges(platform) if e.member.tenant.code == member)
    downstream = edge.national if kind == "intake" else edge.member
    claims = open_view_database(downstream.location, "forwarding")
    build = national_intake if kind == "intake" else outcome_return
    found = build(edge, claims, 0.05)
    try:
        yield found
    finally:
        found.stop()
        claims.close()


@pytest.mark.parametrize(("member", "unit"), [("saq", "shanghai"), ("cmiqa", "machinery")])
def test_each_forward_is_received_once_across_restarts(
    platform: Platform, member: str, unit: str
) -> None:
    """A province and an industry association forward the same way."""
    caq, origin = platform.tenants["caq"], platform.tenants[member]
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(origin.ledger)
    call = national_call(platform, member, national)
    forwarded = [forward(origin, provincial, call, n) for n in range(1, 13)]

    with follower(platform, member) as first:
        # The first follower stops half way (as a crash would), a second one goes on.
        first.batch_size = 5
        for _ in range(2):
            first.catch_up_once()
    assert (
        0
        < caq.ledger.tracked_position(member)
        < (origin.ledger.recorder.max_notification_id() or 0)
    )
    with follower(platform, member) as again:
        again.catch_up()
        again.catch_up()  # nothing new: nothing recorded twice

    counts = received_ids(platform)
    assert set(counts) == {national_id for _, national_id in forwarded}
    assert set(counts.values()) == {1}
    intake = caq.ledger.get_intake(national.id, unit)
    assert len(intake.received) == 12
    serials = [r["serial"] for r in intake.received.values()]
    assert len(set(serials)) == 12
    assert caq.ledger.tracked_position(member) == origin.ledger.recorder.max_notification_id()
    received = caq.ledger.get_submission(forwarded[0][1])
    assert received.recommending_unit == unit
    assert received.status is SubmissionStatus.SUBMITTED
    assert received.received_from is not None
    assert received.received_from["tenant"] == member
    assert received.received_from["submission_id"] == forwarded[0][0]
    assert received.received_from["grade"]["name"] == "优秀级"


def test_one_active_follower_per_province_the_other_waits(platform: Platform) -> None:
    caq, saq = platform.tenants["caq"], platform.tenants["saq"]
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(saq.ledger)
    call = national_call(platform, "saq", national)
    with follower(platform, "saq") as one, follower(platform, "saq") as other:
        rivals = [one.start(), other.start()]
        forwarded = [forward(saq, provincial, call, n) for n in range(1, 21)]
        head = saq.ledger.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 20
        while caq.ledger.tracked_position("saq") < head and time.monotonic() < deadline:
            time.sleep(0.05)
        states = sorted(r.status().state for r in rivals)
    assert states == ["active", "standby"]
    counts = received_ids(platform)
    assert set(counts) == {national_id for _, national_id in forwarded}
    assert set(counts.values()) == {1}


def test_a_withdrawn_forward_leaves_national_review_with_its_reason(platform: Platform) -> None:
    caq, saq = platform.tenants["caq"], platform.tenants["saq"]
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(saq.ledger)
    call = national_call(platform, "saq", national)
    (kept_origin, kept), (gone_origin, gone) = (forward(saq, provincial, call, n) for n in (1, 2))
    with follower(platform, "saq") as intake:
        intake.catch_up()
        forwarding = saq.ledger.get_forwarding(provincial.id)
        forwarding.withdraw(
            gone_origin, "发现成果数据有误，撤回核实", False, Actor("s", Role.SECRETARIAT)
        )
        saq.ledger.save(forwarding)
        intake.catch_up()

    withdrawn = caq.ledger.get_submission(gone)
    assert withdrawn.status is SubmissionStatus.WITHDRAWN
    assert withdrawn.withdrawn_reason == "推荐单位撤回：发现成果数据有误，撤回核实"
    record = caq.ledger.get_intake(national.id, "shanghai")
    assert record.received[str(gone)]["withdrawn_reason"] == "发现成果数据有误，撤回核实"
    assert record.is_active(kept) and not record.is_active(gone)
    # National formal review no longer takes it; the kept one it does.
    caq.ledger.clock = lambda: beijing(2024, 9, 20)
    checklist = dict.fromkeys(national.review_plan.checklist, True)
    with pytest.raises(Exception, match="不能形式审查"):
        caq.ledger.review_formally(gone, "pass", checklist, "", [], NATIONAL_SECRETARIAT)
    caq.ledger.review_formally(kept, "pass", checklist, "", [], NATIONAL_SECRETARIAT)
    assert caq.ledger.get_submission(kept).formal_review == "passed"
    assert kept_origin != gone_origin


def test_a_withdrawal_after_national_formal_review_is_declined_and_said(
    platform: Platform,
) -> None:
    caq, saq = platform.tenants["caq"], platform.tenants["saq"]
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(saq.ledger)
    call = national_call(platform, "saq", national)
    origin_id, national_id = forward(saq, provincial, call, 1)
    with follower(platform, "saq") as intake:
        intake.catch_up()
        caq.ledger.clock = lambda: beijing(2024, 9, 20)
        checklist = dict.fromkeys(national.review_plan.checklist, True)
        caq.ledger.review_formally(national_id, "pass", checklist, "", [], NATIONAL_SECRETARIAT)
        # The province had not heard yet, and withdrew: the national side declines it.
        forwarding = saq.ledger.get_forwarding(provincial.id)
        forwarding.withdraw(origin_id, "撤回", False, Actor("s", Role.SECRETARIAT))
        saq.ledger.save(forwarding)
        intake.catch_up()
    received = caq.ledger.get_submission(national_id)
    assert received.status is SubmissionStatus.SUBMITTED
    assert received.formal_review == "passed"
    outcomes = [
        e.outcome
        for e in caq.ledger.events.get(national_id)
        if isinstance(e, Submission.OutcomeSent)
    ]
    assert [(o["stage"], o["result"]) for o in outcomes] == [
        ("formal_review", "passed"),
        ("withdrawal", "declined"),
    ]


def test_a_province_records_nothing_of_another_provinces_outcomes(platform: Platform) -> None:
    caq, saq, sdaq = (platform.tenants[c] for c in ("caq", "saq", "sdaq"))
    national = open_national_campaign(caq.ledger)
    provincial = open_provincial_campaign(sdaq.ledger)
    _, national_id = forward(sdaq, provincial, national_call(platform, "sdaq", national), 1)
    with follower(platform, "sdaq") as intake:
        intake.catch_up()
    caq.ledger.clock = lambda: beijing(2024, 9, 20)
    checklist = dict.fromkeys(national.review_plan.checklist, True)
    caq.ledger.review_formally(national_id, "pass", checklist, "", [], NATIONAL_SECRETARIAT)
    before = saq.ledger.recorder.max_notification_id()
    with follower(platform, "saq", "outcomes") as back:
        back.catch_up()
        assert back.status().lag == 0
    assert saq.ledger.recorder.max_notification_id() == before
    assert saq.ledger.tracked_position("caq") == 0
