"""Secrets and sessions (issue 16 §5): logs without secrets, codes kept only as hashes, reset and
registration limits, bounded argon2 work, sign-in limits, the lock-out race, trusted proxies,
one answer for every refused sign-in, security headers, no self-disable."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

import api.accounts.sign_in
import api.app
import api.cli
from aggregates.actor import Role
from aggregates.credentials import Passwords
from api.platform.logging import configure_logging
from api.platform.mail import delivered_mail
from tenants.settings import Settings
from tests.api.conftest import make_account, restart_for_test, sign_in
from tests.api.test_accounts import SAQ, last_code, last_mail, login, register
from tests.support import Clock, PlatformOptions, new_password

Client = AsyncTestClient[Any]

pytestmark = pytest.mark.tenants("saq")


@contextmanager
def process_logging(log_format: str) -> Iterator[None]:
    """The process's own log configuration (as `qcflow serve` sets it), to the current stderr."""
    configure_logging(log_format)
    structlog.configure(cache_logger_on_first_use=False)  # leaves no logger bound to it
    try:
        yield
    finally:
        structlog.reset_defaults()


def auth_rows(client: Client) -> str:
    """Every row of the tenant's sign-in tables, as one text."""
    rows = []
    with client.app.state.auth["saq"].db.transaction() as tx:
        for table in ("auth_sessions", "auth_tokens", "auth_failures", "mail_outbox"):
            rows += tx.execute(f"SELECT * FROM {{{table}}}")
    return repr(rows)


async def active_account(client: Client, email: str) -> str:
    password = new_password()
    await register(client, email, password)
    confirmed = await client.post(
        f"{SAQ}/registrations/confirm", json={"token": last_code(client, email)}
    )
    assert confirmed.status_code == 200, confirmed.text
    return password


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_an_unexpected_error_in_sign_in_or_registration_logs_no_secret(
    anonymous: Client,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    log_format: str,
) -> None:
    store = anonymous.app.state.auth["saq"]
    password = await active_account(anonymous, "boom@example.cn")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"unexpected, with {args} {kwargs}")  # the message carries them too

    monkeypatch.setattr(store, "clear_failures", fail)  # after the password was checked
    with process_logging(log_format):
        signed_in = await login(anonymous, "boom@example.cn", password)

    issued: list[str] = []
    issue_token = store.issue_token
    monkeypatch.setattr(
        store, "issue_token", lambda *a: issued.append(issue_token(*a)) or issued[-1]
    )
    monkeypatch.setattr(store, "queue_mail", fail)  # the mail with its code is being queued
    other = new_password()
    with process_logging(log_format):
        registered = await register(anonymous, "boom2@example.cn", other)

    assert (signed_in.status_code, registered.status_code) == (500, 500)
    captured = capsys.readouterr()
    log = captured.out + captured.err
    for secret in (password, other, issued[0]):
        assert secret not in log
    assert log.count("request_failed") == 2 and "RuntimeError" in log
    assert "确认码" not in log and "$argon2" not in log


async def test_the_tables_keep_no_usable_code_once_the_mail_is_sent(anonymous: Client) -> None:
    await register(anonymous, "hash@example.cn", new_password())
    code = last_code(anonymous, "hash@example.cn")  # delivered: read from the mail folder

    assert code not in auth_rows(anonymous)
    assert [m.body for m in anonymous.app.state.auth["saq"].mail_to("hash@example.cn")] == [""]
    confirmed = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": code})
    assert confirmed.status_code == 200


async def test_a_newer_reset_code_spends_the_older_ones(anonymous: Client) -> None:
    await active_account(anonymous, "twice@example.cn")
    await anonymous.post(f"{SAQ}/password-resets", json={"login": "twice@example.cn"})
    older = last_code(anonymous, "twice@example.cn")
    await anonymous.post(f"{SAQ}/password-resets", json={"login": "twice@example.cn"})
    newer = last_code(anonymous, "twice@example.cn")

    stale = await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": older, "new_password": new_password()}
    )
    used = await anonymous.post(
        f"{SAQ}/password-resets/confirm", json={"token": newer, "new_password": new_password()}
    )
    assert (stale.status_code, used.status_code) == (400, 204)


async def test_reset_mails_to_one_login_are_limited_and_answered_alike(anonymous: Client) -> None:
    await active_account(anonymous, "flood@example.cn")
    answers = [
        await anonymous.post(f"{SAQ}/password-resets", json={"login": "flood@example.cn"})
        for _ in range(8)
    ]
    anonymous.app.state.mail.send_pending()
    mails = delivered_mail(anonymous.app.state.settings, "saq", "flood@example.cn")

    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    assert len(mails) == 1 + 3  # the confirmation, then three reset mails


async def test_a_registration_mails_no_registrant_text_and_is_limited(anonymous: Client) -> None:
    lure = "恭喜中奖，请访问 http://evil.example 领取"
    first = await register(anonymous, "target@example.cn", new_password(), enterprise_name=lure)
    body = last_mail(anonymous, "target@example.cn")
    again = [
        await register(anonymous, "target@example.cn", new_password(), enterprise_name=lure)
        for _ in range(3)
    ]

    assert first.status_code == 202
    assert "evil.example" not in body and "王芳" not in body and "确认码" in body
    assert [r.status_code for r in again] == [202, 202, 429]


async def test_registrations_from_one_address_are_limited(anonymous: Client) -> None:
    answers = [
        (await register(anonymous, f"many{i}@example.cn", new_password())).status_code
        for i in range(11)
    ]
    assert answers == [202] * 10 + [429]


async def test_registering_a_taken_login_answers_alike_and_mails_the_owner(
    anonymous: Client,
) -> None:
    await active_account(anonymous, "owner@example.cn")
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    version = ledger.find_account("owner@example.cn").version

    fresh = await register(anonymous, "fresh@example.cn", new_password())
    taken = await register(anonymous, "owner@example.cn", new_password(), name="冒名者")

    assert (taken.status_code, taken.json()) == (fresh.status_code, fresh.json())
    assert "冒名者" not in last_mail(anonymous, "owner@example.cn")
    mails = delivered_mail(anonymous.app.state.settings, "saq", "owner@example.cn")
    assert "注册提醒" in str(mails[-1]["Subject"])
    assert ledger.find_account("owner@example.cn").version == version


async def test_registering_again_before_confirming_sends_a_new_code(anonymous: Client) -> None:
    password = new_password()
    await register(anonymous, "again@example.cn", password)
    first = last_code(anonymous, "again@example.cn")
    again = await register(anonymous, "again@example.cn", new_password())
    second = last_code(anonymous, "again@example.cn")

    stale = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": first})
    confirmed = await anonymous.post(f"{SAQ}/registrations/confirm", json={"token": second})
    assert (again.status_code, stale.status_code, confirmed.status_code) == (202, 400, 200)
    assert (await login(anonymous, "again@example.cn", password)).status_code == 201


async def test_unknown_wrong_and_locked_sign_ins_answer_alike(anonymous: Client) -> None:
    password = await active_account(anonymous, "alike@example.cn")
    unknown = await login(anonymous, "nobody-here@example.cn", password)
    wrong = await login(anonymous, "alike@example.cn", "Wrong-password-1")
    for _ in range(4):
        await login(anonymous, "alike@example.cn", "Wrong-password-1")
    locked = await login(anonymous, "alike@example.cn", password)

    answers = [(r.status_code, r.json()["errors"], r.json()["title"]) for r in (unknown, wrong)]
    assert answers[0] == answers[1]
    assert (locked.status_code, locked.json()["errors"], locked.json()["title"]) == answers[0]


async def test_successful_sign_ins_are_limited_per_login_and_per_address(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    email, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    answers = [(await login(anonymous, email, password)).status_code for _ in range(11)]
    assert answers == [201] * 10 + [429]

    monkeypatch.setattr(api.accounts.sign_in, "ADDRESS_ATTEMPTS", 12)  # 11 counted above
    other = [(await login(anonymous, *make_account(anonymous, "saq", Role.AUDITOR))).status_code]
    other += [(await login(anonymous, *make_account(anonymous, "saq", Role.AUDITOR))).status_code]
    assert other == [201, 429]


@asynccontextmanager
async def parallel(started: Client) -> AsyncIterator[Any]:
    """A client of the started app whose requests run side by side (the test client's run one
    after another)."""
    transport = httpx.ASGITransport(app=started.app, client=("192.0.2.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class SlowPasswords:
    """argon2 made slow and watched: how many hashes run at once, on which threads, and how
    many guesses were checked against a real hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.running = self.most = self.checked = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()
        verify = Passwords.verify

        def slow_verify(passwords: Passwords, password_hash: str | None, password: str) -> bool:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
                self.checked += password_hash is not None
                self.threads.add(threading.current_thread().name)
            try:
                threading.Event().wait(0.15)
                return verify(passwords, password_hash, password)
            finally:
                with self._lock:
                    self.running -= 1

        monkeypatch.setattr(Passwords, "verify", slow_verify)


async def test_argon2_runs_two_at_a_time_on_its_own_threads(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [make_account(anonymous, "saq", Role.AUDITOR) for _ in range(8)]
    watched = SlowPasswords(monkeypatch)

    async with parallel(anonymous) as client:
        answers = await asyncio.gather(*(login(client, e, p) for e, p in accounts))

    assert [a.status_code for a in answers] == [201] * 8
    assert watched.most <= 2
    assert all(name.startswith("argon2") for name in watched.threads), watched.threads


async def test_sixteen_parallel_wrong_guesses_check_at_most_five(
    anonymous: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    email, password = make_account(anonymous, "saq", Role.SECRETARIAT)
    monkeypatch.setattr(
        api.accounts.sign_in, "LOGIN_ATTEMPTS", 100
    )  # the lock alone, not the limit
    watched = SlowPasswords(monkeypatch)

    async with parallel(anonymous) as client:
        answers = await asyncio.gather(
            *(login(client, email, f"Wrong-password-{i}") for i in range(16))
        )

    assert watched.checked <= 5
    assert {a.status_code for a in answers} == {401}
    ledger = anonymous.app.state.platform.tenants["saq"].ledger
    events = [type(e).__name__ for e in ledger.events.get(ledger.find_account(email).id)]
    assert events.count("Locked") == 1
    assert (await login(anonymous, email, password)).status_code == 401


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(anonymous: Client) -> None:
    """A loopback peer (what a proxy on the same host, or any local process, is) names any
    address it likes; unless it is a configured proxy, each attempt counts as its own."""
    transport = httpx.ASGITransport(app=anonymous.app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as local:
        for i in range(20):
            await local.post(
                f"{SAQ}/session",
                json={"login": f"n{i}@example.cn", "password": "Wrong-password-1"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
        response = await local.post(
            f"{SAQ}/session",
            json={"login": "n@example.cn", "password": "Wrong-password-1"},
            headers={"X-Forwarded-For": "198.51.100.99"},
        )
    assert response.status_code == 429


async def test_a_trusted_proxy_names_the_client(
    shared_app: Litestar,
    settings: Settings,
    clock: Clock,
    platform_options: PlatformOptions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api.accounts.sign_in, "ADDRESS_FAILURES_BEFORE_THROTTLE", 3)
    behind_proxy = msgspec.structs.replace(settings, trusted_proxies="127.0.0.1, 10.0.0.0/8")
    app = shared_app  # started on settings of its own
    restart_for_test(app, behind_proxy, clock, platform_options)
    guess = {"login": "n@example.cn", "password": "Wrong-password-1"}
    async with AsyncTestClient(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as proxy:
            one = {"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}  # client, then an inner proxy
            answers = [(await proxy.post(f"{SAQ}/session", json=guess, headers=one)).status_code]
            answers += [
                (await proxy.post(f"{SAQ}/session", json=guess, headers=one)).status_code
                for _ in range(3)
            ]
            other = {"X-Forwarded-For": "203.0.113.8"}
            answers += [(await proxy.post(f"{SAQ}/session", json=guess, headers=other)).status_code]
    assert answers == [401, 401, 401, 429, 401]


def test_the_server_leaves_forwarded_headers_to_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn believes X-Forwarded-For from loopback by default: it must not."""
    import uvicorn  # noqa: PLC0415

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: ran.update(kwargs))
    monkeypatch.setattr(api.cli, "configure_logging", lambda *a: None)
    monkeypatch.setenv("QCFLOW_DATA_DIR", str(tmp_path))
    assert api.cli.main(["serve"]) == 0
    assert ran["proxy_headers"] is False


@pytest.mark.parametrize("key", ["a", "x" * 31])
def test_a_short_secret_key_stops_the_start(key: str) -> None:
    with pytest.raises(SystemExit, match="at least 32 bytes"):
        Settings.from_env({"QCFLOW_SECRET_KEY": key})
    assert Settings.from_env({"QCFLOW_SECRET_KEY": "x" * 32}).secret_key == "x" * 32


async def test_security_headers_on_every_response(client: Client) -> None:
    responses = [
        await client.get("/api/v1/tenants"),
        await client.get(f"{SAQ}/me", headers={"Authorization": "Bearer nothing"}),
        await client.get("/api/v1/nothing-here"),
        await client.get("/schema/openapi.json"),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


async def test_a_secretariat_cannot_disable_its_own_account(anonymous: Client) -> None:
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    me = (await anonymous.get(f"{SAQ}/me", headers=headers)).json()

    refused = await anonymous.post(
        f"{SAQ}/accounts/{me['id']}/disable", json={"reason": "离职"}, headers=headers
    )

    assert refused.status_code == 409
    assert refused.json()["errors"][0]["rule"] == "own_account"
    assert (await anonymous.get(f"{SAQ}/me", headers=headers)).json()["status"] == "active"
