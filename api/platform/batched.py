"""Reads of many concurrent requests made together: one read, in one thread, for every key
asked while the previous read was running (ADR 0031, "Sessions read together").

Every authenticated request reads its session (and its account's last version) from the
store. Alone, each read was a statement of its own in a thread of its own: under load, most of
a simple request's cost was psycopg's per-statement work and the hand-offs of the threads
waiting for the pool, not PostgreSQL. Here the first request to ask starts a read at once;
those that ask while it runs wait for the next, which asks for all of their keys in one
statement. A request alone waits for nothing more than before; under load a read serves as
many requests as arrived during the last one.

Every request's answer is read after the request asked (its read starts after it was queued),
so what was committed before it asked (a revoked session, a disabled account) is seen, as with
a read of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from litestar.concurrency import sync_to_thread

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class BatchedReads(Generic[Key, Value]):
    """`read(keys)` (blocking, run in a thread) answers many keys at once; `get(key)` awaits
    one key's answer (None when `read` has none for it), read together with the keys others
    asked for meanwhile on the same event loop."""

    def __init__(self, read: Callable[[Sequence[Key]], dict[Key, Value]]) -> None:
        self._read = read
        self._next: dict[asyncio.AbstractEventLoop, dict[Key, list[asyncio.Future[Value | None]]]]
        self._next = {}
        """Per event loop that has a read running: the keys asked since it started."""
        self._running: set[asyncio.Task[None]] = set()
        self.reads = 0
        """How many reads were made (tests, benchmarks)."""

    async def get(self, key: Key) -> Value | None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Value | None] = loop.create_future()
        waiting = self._next.get(loop)
        if waiting is None:
            waiting = self._next[loop] = {}
            task = loop.create_task(self._drain(loop))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        waiting.setdefault(key, []).append(answer)
        return await answer

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read what was asked, then what was asked meanwhile, until nothing is."""
        batch: dict[Key, list[asyncio.Future[Value | None]]] = {}
        try:
            while batch := self._next[loop]:
                self._next[loop] = {}
                self.reads += 1
                try:
                    found = await sync_to_thread(self._read, list(batch))
                except Exception as error:
                    _settle(batch, error=error)
                else:
                    _settle(batch, found=found)
        finally:  # when cancelled (the loop is closing), so are the requests still waiting
            for answers in (*batch.values(), *self._next.pop(loop, {}).values()):
                for answer in answers:
                    answer.cancel()


def _settle(
    batch: dict[Key, list[asyncio.Future[Value | None]]],
    *,
    found: dict[Key, Value] | None = None,
    error: Exception | None = None,
) -> None:
    for key, answers in batch.items():
        for answer in answers:
            if answer.done():  # its request was cancelled (the caller went away)
                continue
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result((found or {}).get(key))
