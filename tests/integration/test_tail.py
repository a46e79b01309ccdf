"""Appends in one round trip keep the log gap-safe (issue 22 §5): sixteen writers save at once
while a reader tails the log the way a projection runner does (after the last id it saw); at
the end the reader has seen every event, in order, and the hash chain links every one."""

from __future__ import annotations

import threading

from eventsourcing.domain import Aggregate

from aggregates.ledger.application import AssociationLedger
from tenants.chain import chain_of
from tenants.chain_verify import verify
from tenants.postgres import provision_schemas
from tenants.runtime import StoreLocation

WRITERS = 16
SAVES = 30
"""Per writer; every third save holds three events (one transaction, three ids)."""


class TailItem(Aggregate):
    """A test-only aggregate: what it holds does not matter, only the ids of its events."""

    class Noted(Aggregate.Event):
        pass

    def note(self) -> None:
        self.trigger_event(self.Noted)


def test_a_tailing_reader_misses_nothing_while_sixteen_writers_append(
    postgres_url: str,
) -> None:
    location = StoreLocation("tail", conninfo=postgres_url, schema="t_tail")
    provision_schemas(postgres_url, ["t_tail"])
    ledger = AssociationLedger(location.ledger_env(pool_size=WRITERS))
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()
    start = threading.Barrier(WRITERS + 1)

    def write() -> None:
        try:
            start.wait(30)
            for i in range(SAVES):
                item = TailItem()
                if i % 3 == 0:
                    item.note()
                    item.note()
                ledger.save(item)
        except BaseException as e:
            errors.append(e)

    def tail() -> None:
        # As a runner reads: up to the head it sees, after the last id it has.
        last = 0
        try:
            while True:
                finished = done.is_set()
                head = ledger.recorder.max_notification_id() or 0
                while last < head:
                    page = ledger.recorder.select_notifications(last + 1, 50, stop=head)
                    seen.extend(n.id for n in page)
                    last = page[-1].id if len(page) == 50 else head
                if finished:
                    return
        except BaseException as e:
            errors.append(e)

    try:
        writers = [threading.Thread(target=write) for _ in range(WRITERS)]
        reader = threading.Thread(target=tail)
        for thread in [*writers, reader]:
            thread.start()
        start.wait(30)
        for thread in writers:
            thread.join(120)
        done.set()
        reader.join(60)
        assert not errors, errors
        total = WRITERS * (SAVES + 2 * len(range(0, SAVES, 3)))
        assert ledger.recorder.max_notification_id() == total
        missed = sorted(set(range(1, total + 1)) - set(seen))
        assert missed == []
        assert seen == list(range(1, total + 1))  # in order, each once
        report = verify(chain_of(ledger.recorder))
        assert report.intact
    finally:
        ledger.close()
