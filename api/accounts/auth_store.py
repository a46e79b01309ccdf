"""A tenant's sign-in records: sessions, one-time tokens, failed sign-ins, attempts (for
throttling), and the mail outbox.

Operational data, not history: the history (registered, locked, password changed, …) is in the
ledger's account events. Tokens and session ids are stored only as SHA-256 digests, and a mail's
body (which carries a one-time code) only until it is sent, so the tables alone cannot be used to
sign in. What has expired is purged. Same storage as the read models (a SQLite file per tenant,
or tables in the tenant's schema).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from projections.store import PostgresViewDatabase, Tx, ViewDatabase

TABLES = (
    "CREATE TABLE IF NOT EXISTS {auth_sessions} ("
    " session_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, epoch INTEGER NOT NULL,"
    " created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)",
    "CREATE TABLE IF NOT EXISTS {auth_tokens} ("
    " token_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, account_id TEXT NOT NULL,"
    " created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT)",
    "CREATE TABLE IF NOT EXISTS {auth_failures} ("
    " account_id TEXT, address TEXT NOT NULL, failed_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {mail_outbox} ("
    " id TEXT PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
    " queued_at TEXT NOT NULL, sent_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, error TEXT)",
    "CREATE TABLE IF NOT EXISTS {auth_attempts} ("
    " kind TEXT NOT NULL, subject TEXT NOT NULL, attempted_at TEXT NOT NULL)",
    # One row per subject that is counted under a lock: updating it takes the row's lock
    # (PostgreSQL), so a count and the insert after it are one step; SQLite writes one at a time.
    "CREATE TABLE IF NOT EXISTS {auth_keys} (subject TEXT PRIMARY KEY)",
)
MAIL_ATTEMPTS = 10
"""Delivery tries before a mail is given up (and its body dropped)."""
KEPT = timedelta(days=30)
"""How long the record of a sent mail (recipient, subject, when) and of attempts is kept."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRecord:
    account_id: UUID
    epoch: int
    expires_at: datetime
    revoked: bool
    account_version: int | None = None
    """The account's last version in the ledger, read in the same statement where the ledger
    shares the database (PostgreSQL: the tenant's schema); None where it does not (SQLite)."""
    view_positions: Mapping[str, int] = field(default_factory=dict)
    """The stored positions of the read models the store was asked to report (`AuthStore`'s
    `views`), read in the same statement (PostgreSQL; empty on SQLite, a file per view): what a
    read's cache keyed by its view's position checks, with no round trip of its own (ADR 0031)."""
    current_versions: Mapping[UUID, int] = field(default_factory=dict)
    """The last versions in the ledger of the aggregates `sessions` was asked about (those that
    exist), read in the same statement (PostgreSQL; empty on SQLite): a kept copy at such a
    version needs no read of its own (`aggregates.ledger.base.current_as_of_request`)."""


SESSIONS = (
    "SELECT s.session_hash, s.account_id, s.epoch, s.expires_at, s.revoked_at"
    " FROM {auth_sessions} s WHERE s.session_hash IN (SELECT value FROM json_each(:hs))"
)
"""Sessions by their hashes (SQLite: a JSON array of them)."""
SESSIONS_AND_ACCOUNT_VERSIONS = (
    "SELECT s.session_hash, s.account_id, s.epoch, s.expires_at, s.revoked_at,"
    " (SELECT max(e.originator_version) FROM {ledger_events} e"
    "  WHERE e.originator_id = CAST(s.account_id AS uuid)),"
    " (SELECT json_object_agg(v.id, v.version) FROM (SELECT e.originator_id AS id,"
    "  max(e.originator_version) AS version FROM {ledger_events} e"
    "  WHERE e.originator_id = ANY(CAST(:ids AS uuid[])) GROUP BY e.originator_id) v)"
    " FROM {auth_sessions} s WHERE s.session_hash = ANY(:hs)"
)
"""Sessions by their hashes (an array), each with its account's last version
(`api.accounts.cache`, ADR 0031), and the last versions of the aggregates asked about (an array
of ids, the same for every row): on PostgreSQL the tenant's ledger (`ledger_events`) is in the
same schema, so one round trip answers all of it, for every session asked."""

VIEW_POSITION = (
    ", (SELECT t.notification_id FROM {projection_tracking} t"
    " WHERE t.projection = :view_%d AND t.upstream = :upstream)"
)
"""A read model's stored position, a column of the session's statement (PostgreSQL: the
tracking table is in the tenant's schema too)."""


def _session_record(
    session: Sequence[Any],
    account_version: int | None,
    positions: Mapping[str, int | None],
    versions: Mapping[str, int],
) -> SessionRecord:
    """A session from its row's columns (account, epoch, expiry, revocation) and what was read
    with it (a view without a stored position is left out)."""
    account_id, epoch, expires_at, revoked_at = session
    return SessionRecord(
        UUID(account_id),
        int(epoch),
        datetime.fromisoformat(expires_at),
        revoked_at is not None,
        None if account_version is None else int(account_version),
        {name: int(position) for name, position in positions.items() if position is not None},
        {UUID(aggregate_id): int(version) for aggregate_id, version in versions.items()},
    )


@dataclass(frozen=True)
class Mail:
    id: str
    recipient: str
    subject: str
    body: str


class AuthStore:
    """One tenant's sign-in records."""

    def __init__(self, db: ViewDatabase, views: Sequence[str] = (), upstream: str = "") -> None:
        """`views`: the read models whose stored positions (from `upstream`, the tenant's
        ledger) each session's statement reports too, on PostgreSQL."""
        self.db = db
        with db.transaction() as tx:
            for statement in TABLES:
                tx.execute(statement)
        self._views = tuple(views) if isinstance(db, PostgresViewDatabase) else ()
        self._session_params = {f"view_{i}": name for i, name in enumerate(self._views)}
        self._session_params["upstream"] = upstream
        self._postgres = isinstance(db, PostgresViewDatabase)
        self._session_statement = (
            SESSIONS_AND_ACCOUNT_VERSIONS.replace(
                " FROM {auth_sessions} s",
                "".join(VIEW_POSITION % i for i in range(len(self._views)))
                + " FROM {auth_sessions} s",
            )
            if self._postgres
            else SESSIONS
        )

    # Sessions.

    def open_session(
        self, account_id: UUID, epoch: int, at: datetime, ttl: timedelta
    ) -> tuple[str, datetime]:
        session_id = secrets.token_urlsafe(32)
        expires_at = at + ttl
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO {auth_sessions} (session_hash, account_id, epoch, created_at, expires_at)"
                " VALUES (:h, :a, :e, :c, :x)",
                {
                    "h": digest(session_id),
                    "a": str(account_id),
                    "e": epoch,
                    "c": at.isoformat(),
                    "x": expires_at.isoformat(),
                },
            )
        return session_id, expires_at

    def session(self, session_id: str) -> SessionRecord | None:
        return self.sessions([session_id]).get(session_id)

    def sessions(
        self, session_ids: Sequence[str], aggregate_ids: Sequence[UUID] = ()
    ) -> dict[str, SessionRecord]:
        """The sessions of these ids that exist (revoked and expired ones too), in one
        statement: one round trip on PostgreSQL (`read_rows`). Every authenticated request
        needs its session; concurrent requests read theirs together (`api.platform.batched`).
        On PostgreSQL each also tells the last versions of the `aggregate_ids` (the campaigns
        the requests' paths name)."""
        by_hash = {digest(session_id): session_id for session_id in session_ids}
        hashes = list(by_hash)
        if not self._postgres:
            rows = self.db.read_rows(self._session_statement, {"hs": json.dumps(hashes)})
            return {by_hash[row[0]]: _session_record(row[1:5], None, {}, {}) for row in rows}
        rows = self.db.read_rows(
            self._session_statement,
            {**self._session_params, "hs": hashes, "ids": [str(i) for i in aggregate_ids]},
        )
        found = {}
        for row in rows:
            account_version, versions, positions = row[5], row[6], row[7:]
            found[by_hash[row[0]]] = _session_record(
                row[1:5],
                account_version,
                dict(zip(self._views, positions, strict=True)),
                versions or {},
            )
        return found

    def revoke_session(self, session_id: str, at: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE {auth_sessions} SET revoked_at = :at WHERE session_hash = :h AND revoked_at IS NULL",
                {"h": digest(session_id), "at": at.isoformat()},
            )

    # One-time tokens (invitation, confirmation, password reset).

    def issue_token(self, purpose: str, account_id: UUID, at: datetime, ttl: timedelta) -> str:
        """A new token; the account's older unused tokens of the purpose stop working."""
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            _spend(tx, purpose, account_id, at)
            tx.execute(
                "INSERT INTO {auth_tokens} (token_hash, purpose, account_id, created_at, expires_at)"
                " VALUES (:h, :p, :a, :c, :x)",
                {
                    "h": digest(token),
                    "p": purpose,
                    "a": str(account_id),
                    "c": at.isoformat(),
                    "x": (at + ttl).isoformat(),
                },
            )
        return token

    def redeem_token(self, token: str, purpose: str, at: datetime) -> UUID | None:
        """The token's account, marking it (and every other of its purpose for the account)
        used; None if unknown, used, expired or for another purpose. A token is good once: the
        update and the check are one statement."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT account_id, expires_at FROM {auth_tokens}"
                " WHERE token_hash = :h AND purpose = :p AND used_at IS NULL",
                {"h": digest(token), "p": purpose},
            )
            if not rows or datetime.fromisoformat(rows[0][1]) <= at:
                return None
            tx.execute(
                "UPDATE {auth_tokens} SET used_at = :at WHERE token_hash = :h AND used_at IS NULL",
                {"h": digest(token), "at": at.isoformat()},
            )
            if tx.rowcount() != 1:
                return None
            _spend(tx, purpose, UUID(rows[0][0]), at)
        return UUID(rows[0][0])

    # Failed sign-ins, for throttling and lock-out.

    def reserve_guess(
        self, account_id: UUID, address: str, at: datetime, since: datetime, limit: int
    ) -> int | None:
        """Count a guess at the account's password as failed before it is checked, unless
        `limit` failures (checked or still being checked) are already counted since `since`:
        then None, and the guess must not be checked; else the guess's place (1 … limit). Count and insert are one step under the
        account's lock, so parallel guesses cannot all pass the count. A guess that proves right
        is taken back with `clear_failures`."""
        with self.db.transaction() as tx:
            _lock(tx, f"account:{account_id}")
            rows = tx.execute(
                "SELECT count(*) FROM {auth_failures} WHERE account_id = :a AND failed_at > :since",
                {"a": str(account_id), "since": since.isoformat()},
            )
            counted = int(rows[0][0])
            if counted >= limit:
                return None
            tx.execute(
                "INSERT INTO {auth_failures} (account_id, address, failed_at) VALUES (:a, :ip, :at)",
                {"a": str(account_id), "ip": address, "at": at.isoformat()},
            )
        return counted + 1

    def record_failure(self, account_id: UUID | None, address: str, at: datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO {auth_failures} (account_id, address, failed_at) VALUES (:a, :ip, :at)",
                {"a": str(account_id) if account_id else None, "ip": address, "at": at.isoformat()},
            )

    def failures(
        self, since: datetime, *, account_id: UUID | None = None, address: str | None = None
    ) -> int:
        column, value = (
            ("account_id", str(account_id)) if account_id else ("address", address or "")
        )
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT count(*) FROM {{auth_failures}} WHERE {column} = :v AND failed_at > :since",  # noqa: S608 (our column)
                {"v": value, "since": since.isoformat()},
            )
        return int(rows[0][0])

    def clear_failures(self, account_id: UUID) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM {auth_failures} WHERE account_id = :a", {"a": str(account_id)})

    # Attempts (sign-ins, registrations, reset mails), limited per subject and window.

    def admit(self, kind: str, subject: str, at: datetime, since: datetime, limit: int) -> bool:
        """Count an attempt of `kind` by `subject` (a login, an address), unless `limit` are
        already counted since `since`: then False. One step under the subject's lock."""
        with self.db.transaction() as tx:
            _lock(tx, f"{kind}:{subject}")
            rows = tx.execute(
                "SELECT count(*) FROM {auth_attempts}"
                " WHERE kind = :k AND subject = :s AND attempted_at > :since",
                {"k": kind, "s": subject, "since": since.isoformat()},
            )
            if int(rows[0][0]) >= limit:
                return False
            tx.execute(
                "INSERT INTO {auth_attempts} (kind, subject, attempted_at) VALUES (:k, :s, :at)",
                {"k": kind, "s": subject, "at": at.isoformat()},
            )
        return True

    # The mail outbox: stored first, sent after; the body (and its code) only until then.

    def queue_mail(self, recipient: str, subject: str, body: str, at: datetime) -> str:
        mail_id = secrets.token_hex(8)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO {mail_outbox} (id, recipient, subject, body, queued_at)"
                " VALUES (:id, :r, :s, :b, :at)",
                {"id": mail_id, "r": recipient, "s": subject, "b": body, "at": at.isoformat()},
            )
        return mail_id

    def unsent_mail(self, limit: int = 20) -> list[Mail]:
        with self.db.read() as tx:
            rows = tx.execute(
                "SELECT id, recipient, subject, body FROM {mail_outbox}"
                " WHERE sent_at IS NULL AND attempts < 10 ORDER BY queued_at LIMIT :n",
                {"n": limit},
            )
        return [Mail(*row) for row in rows]

    def mail_to(self, recipient: str) -> list[Mail]:
        with self.db.read() as tx:
            rows = tx.execute(
                "SELECT id, recipient, subject, body FROM {mail_outbox} WHERE recipient = :r ORDER BY queued_at",
                {"r": recipient},
            )
        return [Mail(*row) for row in rows]

    def mark_mail(self, mail_id: str, at: datetime, error: str | None) -> None:
        """Record a delivery try. A sent mail, or one given up, keeps no body: the code in it
        was for its recipient only."""
        with self.db.transaction() as tx:
            if error is None:
                tx.execute(
                    "UPDATE {mail_outbox} SET attempts = attempts + 1, error = NULL, sent_at = :at,"
                    " body = '' WHERE id = :id",
                    {"id": mail_id, "at": at.isoformat()},
                )
            else:
                tx.execute(
                    "UPDATE {mail_outbox} SET attempts = attempts + 1, error = :e,"
                    " body = CASE WHEN attempts + 1 >= :n THEN '' ELSE body END WHERE id = :id",
                    {"id": mail_id, "e": error[:500], "n": MAIL_ATTEMPTS},
                )

    # Purging what has expired.

    def purge(self, at: datetime) -> dict[str, int]:
        """Delete what can no longer be used or counted: expired or revoked sessions, expired or
        used tokens, failures and attempts past every window, mail records past `KEPT`, and
        unsent mails older than the longest token (their codes have expired). The counts of
        rows deleted, by table."""
        now, kept = at.isoformat(), (at - KEPT).isoformat()
        statements = {
            "auth_sessions": (
                "DELETE FROM {auth_sessions} WHERE expires_at <= :now OR revoked_at IS NOT NULL"
            ),
            "auth_tokens": "DELETE FROM {auth_tokens} WHERE expires_at <= :now OR used_at IS NOT NULL",
            "auth_failures": "DELETE FROM {auth_failures} WHERE failed_at <= :day",
            "auth_attempts": "DELETE FROM {auth_attempts} WHERE attempted_at <= :day",
            "mail_outbox": (
                "DELETE FROM {mail_outbox} WHERE queued_at <= :kept"
                " OR (sent_at IS NULL AND queued_at <= :week)"
            ),
        }
        params = {
            "now": now,
            "kept": kept,
            "day": (at - timedelta(days=1)).isoformat(),
            "week": (at - timedelta(days=7)).isoformat(),
        }
        deleted = {}
        with self.db.transaction() as tx:
            for table, statement in statements.items():
                tx.execute(statement, params)
                deleted[table] = tx.rowcount()
            tx.execute("DELETE FROM {auth_keys}")
        return deleted


def _lock(tx: Tx, subject: str) -> None:
    """Hold `subject`'s row until the transaction ends (the upsert locks it on PostgreSQL; a
    SQLite transaction here holds the whole file)."""
    tx.execute(
        "INSERT INTO {auth_keys} (subject) VALUES (:s)"
        " ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject",
        {"s": subject},
    )


def _spend(tx: Tx, purpose: str, account_id: UUID, at: datetime) -> None:
    tx.execute(
        "UPDATE {auth_tokens} SET used_at = :at"
        " WHERE account_id = :a AND purpose = :p AND used_at IS NULL",
        {"a": str(account_id), "p": purpose, "at": at.isoformat()},
    )
