"""The accounts a process has authenticated, kept between requests (ADR 0031).

Authenticating a request needed the account (its status, lock, session epoch and grants), and
rebuilding it from its events on every request was a fifth of a simple read's time. The cache
keeps each account as last rebuilt, with its version, and every request asks the tenant's store
one cheap question: has the account an event after that version (one indexed row at most, not
decoded)? Only when it has is the account rebuilt. On PostgreSQL the question rides on the
session's own statement (`api.accounts.auth_store.SESSIONS_AND_ACCOUNT_VERSIONS`): no extra round trip.
So a change made by any process (another worker, `qcflow accounts`, another host) is seen by
the very next request here: a disabled or locked account stops at once, a revoked role is gone
at once; nothing waits for a notification or an expiry. Saves made by this process need no special path: they are events like any other.

The cached account is shared by concurrent requests and only read: commands load their own, or
read this one where it stands for the acting account at its last version (a draft's enterprise
name, `draft_submission`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

from aggregates.account import Account
from aggregates.ledger.application import AssociationLedger

CACHED_ACCOUNTS = 10_000
"""Accounts kept per tenant (least recently used leave first)."""


class AccountCache:
    """One tenant's accounts as of their last event."""

    def __init__(self, ledger: AssociationLedger, size: int = CACHED_ACCOUNTS) -> None:
        self.ledger = ledger
        self.size = size
        self._accounts: OrderedDict[UUID, Account] = OrderedDict()
        self._lock = threading.Lock()
        self.rebuilds = 0
        """How many times an account was rebuilt from its events (for tests and benchmarks)."""

    def get(self, account_id: UUID, last_version: int | None = None) -> Account:
        """The account as of its last event (raises `AccountNotFound` as the ledger does).
        `last_version`, when the caller has just read it from the store (the session's
        statement on PostgreSQL), spares the check's round trip."""
        with self._lock:
            cached = self._accounts.get(account_id)
            if cached is not None:
                self._accounts.move_to_end(account_id)
        if cached is not None:
            if last_version is not None:
                if cached.version >= last_version:
                    return cached
            elif not self._has_newer(account_id, cached.version):
                return cached
        account = self.ledger.get_account(account_id)
        with self._lock:
            self.rebuilds += 1
            current = self._accounts.get(account_id)
            if current is None or current.version <= account.version:
                self._accounts[account_id] = account
                self._accounts.move_to_end(account_id)
            while len(self._accounts) > self.size:
                self._accounts.popitem(last=False)
        return account

    def _has_newer(self, account_id: UUID, version: int) -> bool:
        return bool(self.ledger.recorder.select_events(account_id, gt=version, limit=1))
