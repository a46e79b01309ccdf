"""Expired sign-in records (sessions, tokens, failures, attempts, mails) are purged: by the
store's purge, and by the running platform on its own (issue 16 §5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest

import api.app
from api.accounts.auth_store import AuthStore
from api.app import Startup
from projections.store import open_view_database
from tenants.runtime import Platform
from tenants.settings import Settings
from tests.support import APP_POLL, APPS, CHEAP_PASSWORDS, Clock


@pytest.fixture
def store(platform: Platform) -> Iterator[AuthStore]:
    """saq's sign-in records, without the app (whose own purge would run beside the test)."""
    db = open_view_database(platform.tenants["saq"].location, "auth")
    try:
        yield AuthStore(db)
    finally:
        db.close()


def test_expired_sign_in_records_are_purged(store: AuthStore, clock: Clock) -> None:
    now = clock.now
    expired, _ = store.open_session(uuid4(), 1, now - timedelta(hours=9), timedelta(hours=8))
    revoked, _ = store.open_session(uuid4(), 1, now, timedelta(hours=8))
    store.revoke_session(revoked, now)
    live, _ = store.open_session(uuid4(), 1, now, timedelta(hours=8))
    old_token = store.issue_token("invitation", uuid4(), now - timedelta(days=8), timedelta(days=7))
    used = store.issue_token("reset", uuid4(), now, timedelta(hours=1))
    store.redeem_token(used, "reset", now)
    live_token = store.issue_token("reset", uuid4(), now, timedelta(hours=1))
    store.record_failure(None, "192.0.2.1", now - timedelta(days=2))
    store.record_failure(None, "192.0.2.1", now)
    store.admit(
        "sign_in_login", "x@example.cn", now - timedelta(days=2), now - timedelta(days=3), 9
    )
    store.admit("sign_in_login", "x@example.cn", now, now - timedelta(days=3), 9)
    sent = store.queue_mail("a@example.cn", "旧", "…", now - timedelta(days=31))
    store.mark_mail(sent, now, None)
    store.queue_mail("b@example.cn", "未发出", "…", now - timedelta(days=8))
    store.queue_mail("c@example.cn", "新", "…", now)

    deleted = store.purge(now)

    assert deleted == {
        "auth_sessions": 2,
        "auth_tokens": 2,
        "auth_failures": 1,
        "auth_attempts": 1,
        "mail_outbox": 2,
    }
    assert store.session(expired) is None and store.session(live) is not None
    assert store.redeem_token(old_token, "invitation", now) is None
    assert store.redeem_token(live_token, "reset", now) is not None
    assert [m.recipient for m in store.unsent_mail()] == ["c@example.cn"]


async def test_the_running_platform_purges_by_itself(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.app, "PURGE_INTERVAL", 0.05)
    startup = Startup(settings, clock=clock, poll_interval=APP_POLL, passwords=CHEAP_PASSWORDS)
    async with APPS.client(startup) as client:
        store = client.app.state.auth["saq"]
        session, _ = store.open_session(
            uuid4(), 1, clock.now - timedelta(days=1), timedelta(hours=8)
        )
        for _ in range(100):
            if store.session(session) is None:
                break
            await asyncio.sleep(0.05)
        assert store.session(session) is None
