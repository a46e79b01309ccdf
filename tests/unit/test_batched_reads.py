"""Reads made together for concurrent requests (`api.platform.batched`, ADR 0031)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from api.platform.batched import BatchedReads


class Store:
    """A blocking read that can be held open, recording what each read asked for."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail: Exception | None = None

    def read(self, keys: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(keys))
        self.entered.set()
        self.gate.wait(5)
        if self.fail is not None:
            raise self.fail
        return {key: key.upper() for key in keys if key != "missing"}


async def started(store: Store) -> None:
    await asyncio.to_thread(store.entered.wait, 5)
    store.entered.clear()


async def test_a_lone_request_is_read_at_once_and_alone() -> None:
    store = Store()
    reads = BatchedReads(store.read)
    assert await reads.get("a") == "A"
    assert await reads.get("missing") is None
    assert store.asked == [["a"], ["missing"]]
    assert reads.reads == 2


async def test_what_is_asked_during_a_read_is_read_together_after_it() -> None:
    store = Store()
    store.gate.clear()
    reads = BatchedReads(store.read)
    first = asyncio.ensure_future(reads.get("a"))
    await started(store)  # the first read runs; the next ones wait for it
    later = [asyncio.ensure_future(reads.get(key)) for key in ("b", "c", "b", "missing")]
    await asyncio.sleep(0)
    store.gate.set()
    assert await first == "A"
    assert await asyncio.gather(*later) == ["B", "C", "B", None]
    # The second read asked for each key once, and only after the request had asked.
    assert store.asked == [["a"], ["b", "c", "missing"]]
    assert reads.reads == 2


async def test_a_failed_read_fails_every_request_of_it_and_the_next_read_goes_on() -> None:
    store = Store()
    store.fail = ConnectionError("no server")
    reads = BatchedReads(store.read)
    asked = [asyncio.ensure_future(reads.get(key)) for key in ("a", "b")]
    results = await asyncio.gather(*asked, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    store.fail = None
    assert await reads.get("a") == "A"


async def test_a_request_that_goes_away_does_not_stop_the_others() -> None:
    store = Store()
    store.gate.clear()
    reads = BatchedReads(store.read)
    first = asyncio.ensure_future(reads.get("a"))
    await started(store)
    leaving = asyncio.ensure_future(reads.get("b"))
    staying = asyncio.ensure_future(reads.get("c"))
    await asyncio.sleep(0)
    leaving.cancel()
    store.gate.set()
    assert await first == "A"
    assert await staying == "C"
    with pytest.raises(asyncio.CancelledError):
        await leaving
