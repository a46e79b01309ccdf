"""Authentication keeps the account between requests (ADR 0031), and still sees at once what any
other process changes: disabled, locked, a role revoked."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from aggregates.account import Account
from aggregates.actor import Role
from api.app import create_app
from tenants.settings import Settings
from tests.api.conftest import make_account, sign_in
from tests.support import APP_POLL, CHEAP_PASSWORDS, Clock, get_scope

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"
ROOT = Path(__file__).resolve().parents[2]

# What the other process does to the account: a separate Python process on the same store, as a
# second web worker, a `qcflow worker` or another host would be.
ELSEWHERE = """
import sys
import time
from datetime import UTC, datetime
from uuid import UUID

from aggregates.account import Grant
from aggregates.actor import Actor, Role
from tenants.runtime import Platform
from tenants.settings import Settings

platform = Platform.from_settings(Settings.from_env(), only=["saq"])
try:
    ledger = platform.tenants["saq"].ledger
    action, account_id = sys.argv[1], UUID(sys.argv[2])
    actor = Actor("operator-elsewhere", Role.OPERATOR)
    if action == "disable":
        ledger.disable_account(account_id, "离职", actor)
    elif action == "lock":
        ledger.lock_account(account_id, "可疑登录", datetime(2099, 1, 1, tzinfo=UTC), actor)
    elif action == "revoke":
        ledger.revoke_role(account_id, Role.SECRETARIAT, None, "调岗", actor)
    elif action == "grant":
        ledger.grant_role(account_id, Grant(Role.AUDITOR), actor)
finally:
    platform.close()
"""


def change_elsewhere(settings: Settings, action: str, account_id: UUID) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QCFLOW_DATA_DIR": str(settings.data_dir),
        "QCFLOW_PG_POOL_SIZE": "1",
    }
    env.pop("QCFLOW_DATABASE_URL", None)
    if settings.database_url is not None:
        env["QCFLOW_DATABASE_URL"] = settings.database_url
    done = subprocess.run(
        [sys.executable, "-c", ELSEWHERE, action, str(account_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


async def own_account(client: Client, headers: dict[str, str]) -> UUID:
    response = await client.get(f"{SAQ}/me", headers=headers)
    assert response.status_code == 200, response.text
    return UUID(response.json()["id"])


def count_rebuilds(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """Every rebuild of an account from its events by the app's ledger, from now on."""
    ledger = client.app.state.platform.tenants["saq"].ledger
    rebuilt: list[UUID] = []
    get_account = ledger.get_account

    def counting(account_id: UUID) -> Account:
        rebuilt.append(account_id)
        return get_account(account_id)

    monkeypatch.setattr(ledger, "get_account", counting)
    return rebuilt


async def test_requests_do_not_rebuild_the_account(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = await own_account(anonymous, headers)
    rebuilt = count_rebuilds(anonymous, monkeypatch)
    for _ in range(5):
        assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
        assert (await anonymous.get(f"{SAQ}/accounts/{me}", headers=headers)).status_code == 200
    # The account's own page rebuilds it (the route reads it), authentication never does.
    assert rebuilt == [me] * 5


async def test_on_postgresql_the_session_statement_answers_the_version_too(
    anonymous: Client, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round trip for the session and the account's version on PostgreSQL (the ledger is in
    the tenant's schema); a separate indexed check on SQLite (a file apart, no round trip)."""
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
    recorder = anonymous.app.state.platform.tenants["saq"].ledger.recorder
    checks: list[UUID] = []
    select_events = recorder.select_events

    def counting(originator_id: UUID, **kwargs: Any) -> Any:
        checks.append(originator_id)
        return select_events(originator_id, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counting)
    for _ in range(3):
        assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
    assert len(checks) == (0 if backend == "postgres" else 3)


async def test_a_change_made_here_is_seen_by_the_next_request(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = await own_account(anonymous, headers)
    other = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
    revoked = await anonymous.post(
        f"{SAQ}/accounts/{me}/revocations",
        json={"role": "secretariat", "reason": "调岗"},
        headers=other,
    )
    assert revoked.status_code == 200, revoked.text
    refused = await anonymous.get(f"{SAQ}/accounts/{me}", headers=headers)
    assert refused.status_code == 403


@pytest.mark.parametrize("action", ["disable", "lock"])
async def test_an_account_stopped_by_another_process_stops_here_at_once(
    anonymous: Client, settings: Settings, action: str
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = await own_account(anonymous, headers)
    for _ in range(3):  # cached
        assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
    change_elsewhere(settings, action, me)
    refused = await anonymous.get(f"{SAQ}/campaigns", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["field"] == "session"


async def test_a_role_revoked_or_granted_by_another_process_counts_here_at_once(
    anonymous: Client, settings: Settings
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = await own_account(anonymous, headers)
    assert (await anonymous.get(f"{SAQ}/accounts/{me}", headers=headers)).status_code == 200
    change_elsewhere(settings, "revoke", me)
    assert (await anonymous.get(f"{SAQ}/accounts/{me}", headers=headers)).status_code == 403
    change_elsewhere(settings, "grant", me)  # the auditor may read accounts too
    assert (await anonymous.get(f"{SAQ}/accounts/{me}", headers=headers)).status_code == 200


async def test_a_second_app_instance_disables_an_account_signed_in_on_the_first(
    anonymous: Client, settings: Settings, clock: Clock
) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = await own_account(anonymous, headers)
    login, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 200
    second = create_app(
        settings, clock=clock, poll_interval=APP_POLL, only=("saq",), passwords=CHEAP_PASSWORDS
    )
    async with AsyncTestClient(second) as elsewhere:
        signed_in = await elsewhere.post(
            f"{SAQ}/session", json={"login": login, "password": password}
        )
        assert signed_in.status_code == 201, signed_in.text
        elsewhere.cookies.clear()
        token = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        disabled = await elsewhere.post(
            f"{SAQ}/accounts/{me}/disable", json={"reason": "离职"}, headers=token
        )
        assert disabled.status_code == 200, disabled.text
    assert (await anonymous.get(f"{SAQ}/campaigns", headers=headers)).status_code == 401


async def asgi_status(app: Any, path: str, headers: dict[str, str]) -> int:
    """A GET straight to the ASGI app (the test client sends one request at a time)."""
    scope = get_scope(path, headers)
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def test_concurrent_requests_read_their_sessions_together_each_answered_as_its_own(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions asked for while a read runs are read in one statement after it (ADR 0031); a
    session signed out before its request is refused though read with live ones."""
    live = [await sign_in(anonymous, "saq", Role.SECRETARIAT) for _ in range(2)]
    gone = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    assert (await anonymous.delete(f"{SAQ}/session", headers=gone)).status_code == 204
    sessions = anonymous.app.state.sessions["saq"]
    read, asked = sessions._read, []

    def slow(session_ids: Any) -> Any:
        asked.append(list(session_ids))
        time.sleep(0.1)  # a request that comes late asks while this read runs
        return read(session_ids)

    monkeypatch.setattr(sessions, "_read", slow)
    callers = [*live, gone] * 3

    async def together() -> list[int]:  # on the app's own event loop
        app = anonymous.app
        return list(
            await asyncio.gather(*(asgi_status(app, f"{SAQ}/campaigns", h) for h in callers))
        )

    statuses = await asyncio.to_thread(anonymous.blocking_portal.call, together)
    assert statuses == [200, 200, 401] * 3
    # Nine requests, at most two reads (the first asker's, then what came meanwhile), each
    # asking for a session once.
    assert 1 <= len(asked) <= 2
    assert all(len(ids) == len(set(ids)) for ids in asked)
    assert len({i for ids in asked for i in ids}) == 3
