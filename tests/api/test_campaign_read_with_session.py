"""A request whose path names a campaign reads the campaign's last version with its session, in
the same statement (PostgreSQL): the ledger's kept copy at that version is answered with no
read of its own, and what another process stored before the request is seen at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Actor, Role
from aggregates.ledger.application import AssociationLedger
from api.platform.dependencies import etag

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"


async def test_the_campaign_comes_with_the_session_and_another_process_is_seen(
    client: Client, opened: dict[str, Any], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id, path = UUID(opened["id"]), f"{SAQ}/campaigns/{opened['id']}"
    assert (await client.get(path)).status_code == 200  # the ledger keeps it from here on
    runtime = client.app.state.platform.tenants["saq"]
    recorder = runtime.ledger.recorder
    reads: list[UUID] = []
    select_events = recorder.select_events

    def counting(originator_id: UUID, **kwargs: Any) -> Any:
        if originator_id == campaign_id:  # not the account's (SQLite checks it apart)
            reads.append(originator_id)
        return select_events(originator_id, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counting)
    for _ in range(3):
        shown = await client.get(path)
        assert (shown.status_code, shown.json()["status"]) == (200, opened["status"])
        assert shown.headers["ETag"] == etag(1)
    # PostgreSQL: the version came with the session; SQLite: a read of its own each time.
    assert reads == ([] if backend == "postgres" else [campaign_id] * 3)

    there = AssociationLedger(runtime.location.ledger_env(1))  # another process on the store
    try:
        there.archive_campaign(
            campaign_id, "活动结束归档", Actor("sec-elsewhere", Role.SECRETARIAT)
        )
    finally:
        there.close()
    shown = await client.get(path)
    assert (shown.status_code, shown.json()["status"]) == (200, "archived")
    assert shown.headers["ETag"] == etag(2)
    # The newer version was read with the session, and its events brought the copy forward.
    assert reads[-1:] == [campaign_id]
