"""What every tenant's read models of a process share on PostgreSQL (ADR 30): one pool for the
view transactions (statements name the tenant's schema), and one listening connection that
carries every tenant's notifications and holds every claim of the process.

The listener LISTENs on each channel a loop of the process follows and wakes only the loops of
that channel. A claim is a session-level advisory lock held on that connection: if it drops, all
of them go together (each loop is told, by an error from its wait, and claims again), exactly as
a loop's own connection did before. Two loops of one process on the same name cannot both hold
it (the session's lock would let them): the second stands by in the process and takes it over
when the first lets go. Standby claims are tried again all in one statement every few seconds;
an idle process sends nothing at all.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg_pool import ConnectionPool

from tenants.postgres import parse_payload

log = structlog.get_logger(__name__)

STANDBY_RETRY = 2.0
"""Seconds between attempts to take the claims that another process holds."""


class ListenerClaim:
    """One loop's claim on the process's listening connection."""

    def __init__(
        self,
        listener: Listener,
        key: str,
        channel: str,
        wake: threading.Event,
        topics: frozenset[str] | None = None,
    ) -> None:
        self.listener = listener
        self.key = key
        self.channel = channel
        self.wake = wake
        self.topics = topics
        """The topics its loop follows: a write of none of them does not wake it (None: any)."""
        self.held = False
        self.lost = False
        self.watching = False
        """Only wake-ups, no lock (a follower whose claim is held on another server)."""
        self.seen_upto = 0
        """The last position of the writes notified since the claim was made."""
        self.blind = False
        """A write was notified without its position since `notified_head` last answered."""
        self.mine_upto = 0
        """The last position of those writes that carried a followed topic (or whose topics
        the notification did not say)."""

    def notified(self, position: int | None, topics: frozenset[str] | None) -> bool:
        """Note a write notified on the claim's channel; answers whether it concerns the loop.
        Called by the listener's thread, in commit order (= log order: the writes hold the
        ledger's table lock until they commit)."""
        concerns = topics is None or self.topics is None or not topics.isdisjoint(self.topics)
        if position is not None:
            if concerns:
                self.mine_upto = max(self.mine_upto, position)
            self.seen_upto = max(self.seen_upto, position)
        else:
            self.blind = True
        return concerns

    def notified_head(self) -> int | None:
        """The last position notified since the claim was made, or None if a write was notified
        without its position since the last call (then the ledger is asked)."""
        if self.blind:
            self.blind = False
            return None
        return self.seen_upto

    def passed(self, applied: int, position: int) -> bool:
        """Whether a loop that has applied everything it follows up to `applied` (having read
        to the ledger's head at least once since the claim was made) has thereby passed
        `position`: every write up to it was notified, and none after `applied` was its own."""
        seen = self.seen_upto  # first: a write's `mine_upto` is set before its `seen_upto`
        return seen >= position and self.mine_upto <= applied

    @property
    def listener_pid(self) -> int | None:
        return self.listener.backend_pid

    def wait(self, timeout: float) -> None:
        """Return on a write to the followed ledger, a nudge, on becoming the holder, or (only
        while standing by) after `timeout` seconds; raise if the connection was lost."""
        self.wake.wait(None if self.held else timeout)
        self.wake.clear()
        if self.lost:
            raise psycopg.OperationalError("the listening connection was lost")


class Subscription:
    """Every payload notified on one channel, handed to `on_notify` (on the listener's thread,
    in commit order); `on_lost` is called once if the connection drops (notifications may have
    been missed: subscribe again)."""

    def __init__(
        self, channel: str, on_notify: Callable[[str], None], on_lost: Callable[[], None]
    ) -> None:
        self.channel = channel
        self.on_notify = on_notify
        self.on_lost = on_lost


class Listener:
    """The listening and claiming connection of one process and database."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._claims: list[ListenerClaim] = []
        self._subscriptions: list[Subscription] = []
        self._held: set[str] = set()
        self._listening: set[str] = set()
        self._stop = False
        self._next_try = 0.0
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)
        self._thread.start()

    @property
    def backend_pid(self) -> int | None:
        conn = self._conn
        return conn.info.backend_pid if conn is not None else None

    # What the loops call.

    def claim(
        self,
        key: str,
        channel: str,
        wake: threading.Event,
        topics: frozenset[str] | None = None,
    ) -> ListenerClaim:
        claim = ListenerClaim(self, key, channel, wake, topics)
        with self._lock:
            self._listen(channel)
            conn = self._connection()
            try:
                if key not in self._held:
                    row = conn.execute(
                        "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (key,)
                    ).fetchone()
                    if row and row[0]:
                        self._held.add(key)
                        claim.held = True
            except psycopg.Error:
                self._lose()
                raise
            self._claims.append(claim)
        self._poke()  # a standby claim changes when the listener next tries
        return claim

    def watch(
        self, channel: str, wake: threading.Event, topics: frozenset[str] | None = None
    ) -> ListenerClaim:
        """Wake-ups on `channel` of this server, without a lock: for a follower whose upstream
        ledger lives on another server than its claim. Lost with the connection, like a claim."""
        watch = ListenerClaim(self, "", channel, wake, topics)
        watch.watching = True
        with self._lock:
            self._listen(channel)
            watch.held = True  # woken by every notification on its channel
            self._claims.append(watch)
        return watch

    def subscribe(
        self, channel: str, on_notify: Callable[[str], None], on_lost: Callable[[], None]
    ) -> Subscription:
        """Every notification on `channel` of this server from now on (once this returns, the
        LISTEN has taken effect: a write committed after it is notified)."""
        subscription = Subscription(channel, on_notify, on_lost)
        with self._lock:
            self._listen(channel)
            self._subscriptions.append(subscription)
        return subscription

    def _listen(self, channel: str) -> None:
        """LISTEN on `channel` (once per connection); called holding the lock."""
        conn = self._connection()
        try:
            if channel not in self._listening:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                self._listening.add(channel)
        except psycopg.Error:
            self._lose()
            raise

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def release(self, claim: ListenerClaim) -> None:
        with self._lock:
            if claim in self._claims:
                self._claims.remove(claim)
            if not claim.held or claim.lost or claim.watching:
                return
            claim.held = False
            heir = next((c for c in self._claims if c.key == claim.key), None)
            if heir is not None:  # one of this process stands by: it takes the lock over
                heir.held = True
                heir.wake.set()
                return
            self._held.discard(claim.key)
            if self._conn is not None:
                try:
                    self._conn.execute(
                        "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (claim.key,)
                    )
                except psycopg.Error:
                    self._lose()

    def close(self) -> None:
        with self._lock:
            self._stop = True
        self._poke()
        self._thread.join(5)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        os.close(self._wake_r)
        os.close(self._wake_w)

    # The connection.

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo, autocommit=True)
            self._conn.add_notify_handler(self._notified)
            self._listening.clear()
            self._poke()
        return self._conn

    def _lose(self) -> None:
        """The connection dropped: every lock went with it. Each loop is told and claims again."""
        log.warning("listener_connection_lost", claims=len(self._claims))
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        for claim in self._claims:
            claim.lost, claim.held = True, False
            claim.wake.set()
        self._claims.clear()
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.on_lost()
        self._held.clear()
        self._listening.clear()

    def _notified(self, notify: psycopg.Notify) -> None:
        for subscription in self._subscriptions:
            if subscription.channel == notify.channel:
                subscription.on_notify(notify.payload)
        position, topics = parse_payload(notify.payload)
        for claim in self._claims:
            if claim.channel == notify.channel:
                concerns = claim.notified(position, topics)
                if concerns and claim.held:
                    claim.wake.set()

    def _poke(self) -> None:
        os.write(self._wake_w, b".")

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stop:
                    return
                conn = self._conn
                standby = any(not c.held for c in self._claims)
            if standby and self._next_try == 0.0:
                self._next_try = time.monotonic() + STANDBY_RETRY
            timeout = max(self._next_try - time.monotonic(), 0.0) if standby else None
            fds = [self._wake_r] + ([conn.fileno()] if conn is not None else [])
            try:
                readable, _, _ = select.select(fds, [], [], timeout)
            except (OSError, ValueError):  # the connection closed under us: look again
                readable = [self._wake_r]
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            with self._lock:
                if self._stop:
                    return
                if self._conn is None or self._conn is not conn:
                    continue
                try:
                    if conn.fileno() in readable:
                        self._drain(conn)
                    if standby and time.monotonic() >= self._next_try:
                        self._next_try = 0.0
                        self._try_standby(conn)
                except psycopg.Error:
                    self._lose()

    def _drain(self, conn: psycopg.Connection[Any]) -> None:
        pgconn = conn.pgconn
        pgconn.consume_input()  # raises when the server is gone
        while (notify := pgconn.notifies()) is not None:
            channel = notify.relname.decode()
            self._notified(psycopg.Notify(channel, notify.extra.decode(), notify.be_pid))

    def _try_standby(self, conn: psycopg.Connection[Any]) -> None:
        keys = sorted({c.key for c in self._claims if not c.held} - self._held)
        if not keys:
            return
        rows = conn.execute(
            "SELECT k FROM unnest(%s::text[]) AS k WHERE pg_try_advisory_lock(hashtextextended(k, 0))",
            (keys,),
        ).fetchall()
        for (key,) in rows:
            self._held.add(key)
            claim = next(c for c in self._claims if c.key == key and not c.held)
            claim.held = True
            claim.wake.set()


class Shared:
    """A process's view pool and listener for one database, counted by their users."""

    def __init__(self, conninfo: str, pool_size: int) -> None:
        self.pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            min_size=pool_size,
            max_size=pool_size,
            open=True,
            name="views",
        )
        self.listener = Listener(conninfo)
        self.users = 0

    def close(self) -> None:
        self.listener.close()
        self.pool.close()


_shared: dict[str, Shared] = {}
_shared_lock = threading.Lock()


def acquire(conninfo: str, pool_size: int) -> Shared:
    with _shared_lock:
        shared = _shared.get(conninfo)
        if shared is None:
            shared = _shared[conninfo] = Shared(conninfo, pool_size)
        shared.users += 1
        return shared


def release(conninfo: str) -> None:
    with _shared_lock:
        shared = _shared.get(conninfo)
        if shared is None:
            return
        shared.users -= 1
        if shared.users <= 0:
            del _shared[conninfo]
            shared.close()
