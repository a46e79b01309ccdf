"""How far a tenant's read models have got, as known to a process that does not run them (the web
beside a `qcflow worker`), from notifications rather than by polling (PostgreSQL).

Read-your-writes in such a process used to ask, for every read model, its stored position (and
whether any event of its topics lay between that and the write) every 50 ms: two reads a model,
eight models, many requests at once. Here one listener subscription per tenant follows two
channels of the tenant's server:
- the ledger's (each write's last position and topics, in commit order = log order): the last
  position notified (`seen`) and, per read model, the last one of a write that concerns it
  (`mine`);
- the runners' progress channel (`projections.runner.progress_channel`: each batch's commit
  tells the read model and the position it has applied up to): `applied`, per read model.

A read model has passed position P when `applied ≥ P`, or when every write up to P has been
notified and none after what it has applied concerned it (`seen ≥ P` and `mine ≤ applied`), the
rule the runners' own claims follow (ADR 30). Sound only from a baseline: once subscribed, one
read (every read model's stored position, and the last position of each topic after the lowest
of them) gives what was committed before the LISTEN took effect; every later write is notified.
A lost connection drops the baseline (notifications may have been missed): the next wait makes
it again. A wait that has seen nothing for `RECHECK` seconds reads it again too (a worker that
does not tell its progress, an older version, is then waited for by polling, slowly).
"""

from __future__ import annotations

import threading
import time

import structlog

from projections.listener import Listener, Subscription
from projections.runner import STORE_ERRORS, progress_channel
from projections.store import ViewDatabase
from tenants.postgres import parse_payload

log = structlog.get_logger(__name__)

RECHECK = 0.5
"""Seconds a wait goes without being told anything before it reads the stores again."""


class TenantProgress:
    """The progress of one tenant's read models, run in another process."""

    def __init__(
        self,
        db: ViewDatabase,
        listener: Listener,
        upstream: str,
        events_table: str,
        ledger_channel: str,
        topics: dict[str, frozenset[str] | None],
    ) -> None:
        self._db = db
        self._listener = listener
        self._upstream = upstream
        self._events_table = events_table
        self._channels = (ledger_channel, progress_channel(ledger_channel))
        self._topics = topics
        """Per read model, the topics it follows (None: every event)."""
        self._cond = threading.Condition()
        self._subscriptions: list[Subscription] = []
        self._ready = False
        self._baselining = False
        self._seen = 0
        self._mine = dict.fromkeys(topics, 0)
        self._applied = dict.fromkeys(topics, 0)
        self.baselines = 0
        """How many times the stores were read (tests, benchmarks)."""

    # What the listener's thread calls.

    def _on_write(self, payload: str) -> None:
        position, topics = parse_payload(payload)
        with self._cond:
            if position is None:  # an older writer: where it ends is unknown
                self._ready = False
            else:
                for name, followed in self._topics.items():
                    if topics is None or followed is None or not topics.isdisjoint(followed):
                        self._mine[name] = max(self._mine[name], position)
                self._seen = max(self._seen, position)
            self._cond.notify_all()

    def _on_progress(self, payload: str) -> None:
        name, _, text = payload.partition(" ")
        try:
            position = int(text)
        except ValueError:
            return
        with self._cond:
            if name in self._applied:
                self._applied[name] = max(self._applied[name], position)
                self._cond.notify_all()

    def _on_lost(self) -> None:
        with self._cond:
            self._subscriptions = []
            self._ready = False
            self._cond.notify_all()

    # The waiters.

    def passed(self, position: int) -> bool:
        """Whether every read model has passed `position`, as known now (no database)."""
        with self._cond:
            return self._passed(position)

    def _passed(self, position: int) -> bool:
        for name, applied in self._applied.items():
            if applied >= position:
                continue
            if not (self._ready and self._seen >= position and self._mine[name] <= applied):
                return False
        return True

    def wait(self, position: int, timeout: float) -> bool:
        """Until every read model has passed `position`, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if self._passed(position):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                baseline = not self._ready and not self._baselining
                if baseline:
                    self._baselining = True
                elif not self._cond.wait(min(remaining, RECHECK)) and not self._baselining:
                    self._ready = False  # told nothing for a while: read the stores again
                    continue
                else:
                    continue
            try:
                self._baseline()
            except STORE_ERRORS as e:
                log.warning("read_models_progress_unavailable", error=str(e))
                time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
            finally:
                with self._cond:
                    self._baselining = False
                    self._cond.notify_all()

    def _baseline(self) -> None:
        """Subscribe (if not already), then read what was committed before: every read model's
        stored position, and the last position of each topic after the lowest of them."""
        with self._cond:
            subscribed = bool(self._subscriptions)
        if not subscribed:
            ledger, progress = self._channels
            subscriptions = [
                self._listener.subscribe(ledger, self._on_write, self._on_lost),
                self._listener.subscribe(progress, self._on_progress, self._on_lost),
            ]
            with self._cond:
                self._subscriptions = subscriptions
        with self._db.read() as tx:
            stored = tx.positions(self._upstream)
            low = min((stored.get(name, 0) for name in self._topics), default=0)
            last_of_topics = (  # the ledger's table, in the same schema
                f"SELECT topic, max(notification_id) FROM {{{self._events_table}}}"  # noqa: S608
                " WHERE notification_id > :low GROUP BY topic"
            )
            rows = tx.execute(last_of_topics, {"low": low})
        last = {str(topic): int(position) for topic, position in rows}
        head = max([low, *last.values()])
        self.baselines += 1
        with self._cond:
            if not self._subscriptions:
                return  # lost meanwhile: the next wait tries again
            for name, followed in self._topics.items():
                position = stored.get(name, 0)
                self._applied[name] = max(self._applied[name], position)
                ahead = [
                    p
                    for topic, p in last.items()
                    if p > position and (followed is None or topic in followed)
                ]
                self._mine[name] = max([self._mine[name], *ahead])
            self._seen = max(self._seen, head)
            self._ready = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            subscriptions, self._subscriptions = self._subscriptions, []
            self._ready = False
        for subscription in subscriptions:
            self._listener.unsubscribe(subscription)
