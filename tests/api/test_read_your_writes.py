"""Read-your-writes, the platform's rule (api/platform/read_your_writes.py), on SQLite and PostgreSQL: a
request that wrote is answered once the read models have passed its writes, so the roll-up read
right after six units saved their statistics tables counts all six. The read models here poll
slowly (as a busy server's may lag), so only the rule can make the read see the writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from api.app import Startup
from tenants.settings import Settings
from tests.api.conftest import sign_in
from tests.api.published_world import Secretariat, campaign_body, credit_code, ok, tenant_config
from tests.api.test_recommendations import statistics
from tests.support import APPS, CHEAP_PASSWORDS, Clock, beijing

pytestmark = pytest.mark.tenants("saq")

SAQ = "/api/v1/tenants/saq"
UNITS = ("huangpu", "xuhui", "changning", "jingan", "putuo", "hongkou")
SLOW_POLL = 30.0
"""Far longer than the test: a read model that shows a write did not find it by polling."""


@pytest.fixture
async def slow_views(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Any]]:
    startup = Startup(
        settings, clock=clock, poll_interval=SLOW_POLL, only=("saq",), passwords=CHEAP_PASSWORDS
    )
    async with APPS.client(startup) as client:
        yield client


async def test_the_roll_up_read_right_after_six_tables_are_saved_counts_all_six(
    slow_views: AsyncTestClient[Any], clock: Clock
) -> None:
    client = slow_views
    secretariat = Secretariat(client, clock, "saq")
    clock.now = beijing(2024, 1, 15, 9, 0)
    body = campaign_body(tenant_config(client, "saq"), 2024)
    opened = ok(
        await client.post(f"{SAQ}/campaigns", json=body, headers=await secretariat.headers()),
        201,
        "open",
    )
    base = f"{SAQ}/campaigns/{opened['id']}"
    clock.now = beijing(2024, 2, 1, 10, 0)
    for n, unit in enumerate(UNITS, 1):
        table = statistics()
        table["enterprises"] = [credit_code("saq", 2024, n)]
        headers = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, unit)
        saved = await client.put(f"{base}/units/{unit}/statistics", json=table, headers=headers)
        ok(saved, 200, f"{unit} saves its table")
    rolled = ok(
        await client.get(f"{base}/statistics/roll-up", headers=await secretariat.headers()),
        200,
        "roll-up",
    )
    assert sorted(rolled["units_reported"]) == sorted(UNITS)
    assert rolled["enterprises"] == len(UNITS)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """The writes the middleware waits for in a thread of its own, from now on."""
    import api.platform.read_your_writes as rule  # noqa: PLC0415

    waited: list[dict[str, int]] = []
    wait_for_writes = rule.wait_for_writes

    def counting(views: Any, written: rule.Written) -> None:
        waited.append(dict(written.positions))
        wait_for_writes(views, written)

    monkeypatch.setattr(rule, "wait_for_writes", counting)
    return waited


async def test_a_write_whose_handler_waited_for_its_read_models_is_not_waited_for_again(
    slow_views: AsyncTestClient[Any], clock: Clock, waits: list[dict[str, int]]
) -> None:
    """Opening a campaign answers with the campaign as its read models show it (the handler
    waits for them, in its thread): the middleware, knowing they have passed the write, sends
    the answer without a thread of its own (`known_read`)."""
    secretariat = Secretariat(slow_views, clock, "saq")
    headers = await secretariat.headers()
    waits.clear()  # signing in writes too; its handler does not wait
    clock.now = beijing(2024, 1, 15, 9, 0)
    body = campaign_body(tenant_config(slow_views, "saq"), 2024)
    opened = ok(await slow_views.post(f"{SAQ}/campaigns", json=body, headers=headers), 201, "open")
    assert waits == []
    listed = ok(await slow_views.get(f"{SAQ}/campaigns", headers=headers), 200, "list")
    assert [c["id"] for c in listed] == [opened["id"]]


async def test_a_draft_waits_for_its_read_models_in_its_own_thread_and_is_listed_at_once(
    client: AsyncTestClient[Any], waits: list[dict[str, int]]
) -> None:
    """A created draft's handler waits for its own write in its thread (`written_here`): the
    middleware finds it passed and adds no wait of its own; the list read next shows it."""
    from tests.api.test_submissions import journey, qc_result  # noqa: PLC0415

    j = await journey(client)
    waits.clear()
    drafted = await j.draft(qc_result())
    assert drafted.status_code == 201, drafted.text
    assert waits == []
    base = f"{SAQ}/campaigns/{j.campaign['id']}/submissions"
    listed = ok(await client.get(base, headers=j.applicant), 200, "list")
    assert drafted.json()["id"] in [r["submission_id"] for r in listed["items"]]
