"""cProfile of every thread of a benchmark's process (the app's, the runners', the client's),
merged into one report: what profile_page, profile_draft and profile_read print."""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import threading
from typing import Any


class ThreadProfiles:
    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._owners: list[int] = []
        """The thread each profile is enabled in (`enable` hooks the calling thread)."""
        self.timer: Any = None
        """`time.thread_time` for each thread's CPU time only (what waits for the server,
        a lock or a queue then costs nothing); the wall clock by default."""
        self._lock = threading.Lock()

    def start(self) -> None:
        """A profile for every thread started from now on, and for this one."""

        def profile(*_: Any) -> None:
            p = cProfile.Profile(self.timer) if self.timer else cProfile.Profile()
            with self._lock:
                self._profiles.append(p)
                self._owners.append(threading.get_ident())
            p.enable()

        threading.setprofile(profile)
        profile()

    def restart(self) -> None:
        """Forget what was profiled so far (the set-up and the warm-up are not what is measured)."""
        # Only cleared: enabling another thread's profile here would hook this thread to it
        # too (two threads' clocks in one profile: wrong figures with `thread_time`).
        for p in list(self._profiles):
            p.clear()

    def stop(self) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        for p in list(self._profiles):
            p.disable()

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self._profiles[0])
        for p in self._profiles[1:]:
            with contextlib.suppress(TypeError):  # a thread's profile with nothing in it
                stats.add(p)
        return stats
