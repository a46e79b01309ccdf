"""Signing in without helping an attacker: argon2 work bounded, attempts limited per login and
per address, at most five wrong guesses checked per account, and the same answer whether the
login is unknown, the password wrong or the account locked. Also the limits on the other public
account routes (registration, reset mails). Decisions in docs/adr/0020-secrets-and-sessions.md.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from litestar.concurrency import sync_to_thread

from aggregates.account import Account, AccountStatus, normalise_login
from aggregates.credentials import Passwords, check_password
from aggregates.problems import Problem
from api.platform.access import SYSTEM
from api.platform.errors import RequestProblem

if TYPE_CHECKING:
    from api.accounts.routes import Auth

T = TypeVar("T")

HASHING_SLOTS = 2
"""argon2 hashes computed at once in the process; the rest wait without holding a worker."""
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES_BEFORE_LOCK = 5
LOCK_DURATION = timedelta(minutes=15)
ADDRESS_FAILURES_BEFORE_THROTTLE = 20
LOGIN_ATTEMPTS = 10
"""Sign-in attempts per login in FAILURE_WINDOW, successful ones included."""
ADDRESS_ATTEMPTS = 60
"""Sign-in attempts per client address in FAILURE_WINDOW, successful ones included."""
RESET_MAILS = 3
"""Reset mails per login in FAILURE_WINDOW (further requests are answered alike, unsent)."""
RESET_REQUESTS_PER_ADDRESS = 10
REGISTRATION_WINDOW = timedelta(hours=1)
REGISTRATIONS_PER_LOGIN = 3
REGISTRATIONS_PER_ADDRESS = 10


class BoundedPasswords(Passwords):
    """The ledger's hasher, at most `slots` hashes at once across every tenant of the process:
    argon2 is made to be slow, and unbounded it starves every other request of the CPU."""

    def __init__(self, inner: Passwords, slots: threading.BoundedSemaphore) -> None:
        self._inner = inner
        self._slots = slots

    def hash(self, password: str) -> str:
        with self._slots:
            return self._inner.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self._slots:
            return self._inner.verify(password_hash, password)


def hashing_executor() -> Executor:
    """Where sign-in checks wait their turn: its own threads, so that waiting sign-ins hold none
    of the threads the other requests run on."""
    return ThreadPoolExecutor(max_workers=HASHING_SLOTS, thread_name_prefix="argon2")


async def _hash(executor: Executor, work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(executor, work)


def _throttled(field: str, message: str) -> RequestProblem:
    return RequestProblem(429, Problem(field, "throttled", message))


def invalid_credentials() -> RequestProblem:
    """The one answer to an unknown login, a wrong password and a locked account."""
    return RequestProblem(401, Problem("password", "invalid_credentials", "登录名或密码不正确"))


async def check_sign_in(auth: Auth, login: str, password: str, address: str) -> Account:
    """The account `login` signs in to with `password`, or the refusal (429, 401, 403)."""
    now = auth.now
    since = now - FAILURE_WINDOW
    ledger = auth.runtime.ledger
    key = normalise_login(login)

    def admit() -> tuple[Account | None, int | None]:
        store = auth.store
        if (
            store.failures(since, address=address) >= ADDRESS_FAILURES_BEFORE_THROTTLE
            or not store.admit("sign_in_address", address, now, since, ADDRESS_ATTEMPTS)
            or not store.admit("sign_in_login", key, now, since, LOGIN_ATTEMPTS)
        ):
            raise _throttled("login", "登录尝试过于频繁，请 15 分钟后再试")
        account = ledger.find_account(login)
        if account is None or account.is_locked(now) or account.password_hash is None:
            store.record_failure(None, address, now)
            return account, None
        guess = store.reserve_guess(account.id, address, now, since, ACCOUNT_FAILURES_BEFORE_LOCK)
        if guess is None:
            store.record_failure(None, address, now)
        return account, guess

    account, guess = await sync_to_thread(admit)
    # An account not checked costs the same time as one checked: timing tells nothing either.
    checked_hash = account.password_hash if account is not None and guess else None
    right = await _hash(auth.hashing, lambda: ledger.passwords.verify(checked_hash, password))
    if account is None or guess is None:
        raise invalid_credentials()
    if not right:
        if guess == ACCOUNT_FAILURES_BEFORE_LOCK:  # the guess that used the last try locks
            await sync_to_thread(
                ledger.lock_account, account.id, "连续多次登录失败", now + LOCK_DURATION, SYSTEM
            )
        raise invalid_credentials()
    await sync_to_thread(auth.store.clear_failures, account.id)
    refusal = account.sign_in_refusal(now)
    if refusal is not None:  # only who knows the password learns why
        raise RequestProblem(403, Problem("login", refusal.rule, refusal.message))
    return account


def admit_registration(auth: Auth, login: str, address: str) -> None:
    """Registration mails whatever address is typed: a few per address and per login an hour."""
    now, since = auth.now, auth.now - REGISTRATION_WINDOW
    if not auth.store.admit(
        "registration_address", address, now, since, REGISTRATIONS_PER_ADDRESS
    ) or not auth.store.admit(
        "registration_login", normalise_login(login), now, since, REGISTRATIONS_PER_LOGIN
    ):
        raise _throttled("login", "注册过于频繁，请 1 小时后再试")


def already_registered(auth: Auth, account: Account, password: str, name: str) -> None:
    """Registration of a login that exists answers as a new one would (the same checks, the same
    time spent hashing) and tells the owner, not the registrant: a new confirmation code if the
    account still waits for one (the first mail may be lost or expired), else a notice."""
    check_password(password, account.login, name)
    auth.runtime.ledger.passwords.hash(password)
    if account.status is AccountStatus.PENDING and account.password_hash is not None:
        auth.mail_confirmation(account)  # the account's own password stays; this one is dropped
        return
    tenant = auth.runtime.tenant
    body = (
        "您好：\n\n有人使用本邮箱申请注册平台账号。本邮箱已有账号，无需再次注册；"
        "如忘记密码，请在登录页申请重置密码。\n\n"
        f"平台地址：{auth.settings.base_url}\n\n如非本人操作，请忽略本邮件。\n{tenant.name_zh}"
    )
    auth.store.queue_mail(account.login, f"【{tenant.short_name_zh}】注册提醒", body, auth.now)


def admit_reset_mail(auth: Auth, login: str, address: str) -> bool:
    """Whether a reset mail may go to `login` now; refused requests are answered alike."""
    now, since = auth.now, auth.now - FAILURE_WINDOW
    return auth.store.admit(
        "reset_address", address, now, since, RESET_REQUESTS_PER_ADDRESS
    ) and auth.store.admit("reset_login", normalise_login(login), now, since, RESET_MAILS)
