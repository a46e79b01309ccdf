"""The auditor's view of the hash chain, on SQLite and PostgreSQL: intact while the platform
writes; after an event is edited behind its back, the first broken link, named; checkpoints
listed and checked against one the auditor kept; only auditors and the secretariat may look."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.published_world import Client, ok
from tests.tamper import BehindTheBack

pytestmark = pytest.mark.tenants("saq")

CHAIN = "/api/v1/tenants/saq/audit/chain"


async def test_the_auditor_sees_the_log_intact_then_where_it_was_edited(client: Client) -> None:
    runtime = client.app.state.platform.tenants["saq"]
    auditor = await sign_in(client, "saq", Role.AUDITOR)
    made = runtime.chain.record_checkpoint()
    intact = ok(await client.get(CHAIN, headers=auditor), 200, "chain")
    assert intact["intact"] is True and intact["break_count"] == 0
    # The read itself went into the log first (the auditor's trail), on the chain as well.
    assert intact["events"] == intact["links"] == intact["head"] > made.position
    assert intact["first_break"] is None and intact["summary"].startswith("日志完整")
    assert intact["latest_checkpoint"]["link"] == made.link
    kept = f"{made.position}:{made.link}"
    checked = ok(await client.get(CHAIN, params={"expect": kept}, headers=auditor), 200, "kept")
    assert checked["intact"] is True

    db = BehindTheBack(runtime.location)
    rows = db.execute(f"SELECT originator_id FROM {db.events} WHERE topic LIKE ?", ("%Account%",))
    account = UUID(str(rows[0][0]))
    state = msgspec.json.decode(db.state(account, 1))
    state["name"] = "改过的名字"
    db.rewrite(account, 1, msgspec.json.encode(state))
    broken = ok(await client.get(CHAIN, headers=auditor), 200, "broken")
    first = broken["first_break"]
    assert broken["intact"] is False and broken["break_count"] == 1
    assert (first["position"], first["kind"]) == (db.position(account, 1), "changed")
    assert (first["originator_id"], first["version"]) == (str(account), 1)
    assert f"第一处在日志第 {first['position']} 条" in broken["summary"]

    listed = ok(await client.get(f"{CHAIN}/checkpoints", headers=auditor), 200, "checkpoints")
    assert [(c["position"], c["link"], c["how"]) for c in listed] == [
        (made.position, made.link, "requested")
    ]


async def test_a_kept_checkpoint_must_be_place_and_link(client: Client) -> None:
    auditor = await sign_in(client, "saq", Role.AUDITOR)
    bad = await client.get(CHAIN, params={"expect": "12:not-hex"}, headers=auditor)
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"] == "expect"


async def test_only_auditors_and_the_secretariat_verify(client: Client) -> None:
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "huangpu")
    assert (await client.get(CHAIN, headers=unit)).status_code == 403
    assert (await client.get(CHAIN)).status_code == 200  # the secretariat (the client's own)
