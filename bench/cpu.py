"""CPU time a benchmark's processes spend, read from /proc (Linux; the PostgreSQL server runs
on the same machine): per draft, the web's, the worker's and the database's own work, which
wall times on a shared machine do not tell apart."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg

THIS_PROCESS = -1
"""Stands for the benchmark's own process (its CPU from `time.process_time`)."""


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of a process, all its threads (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The process and every process under it (uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class CpuClock:
    """CPU seconds spent since it was made by each named group of processes (each with every
    process under it; `THIS_PROCESS` for the caller's own) and by the PostgreSQL backends
    connected to the database of `url`."""

    def __init__(self, url: str, groups: dict[str, list[int]]) -> None:
        self._url = url
        self._groups = groups
        self._start = self._now()

    def _backends(self) -> list[int]:
        with psycopg.connect(self._url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def _now(self) -> dict[str, dict[int, float]]:
        now: dict[str, dict[int, float]] = {}
        for name, roots in self._groups.items():
            now[name] = {}
            for root in roots:
                if root == THIS_PROCESS:
                    now[name][root] = time.process_time()
                else:
                    now[name] |= {pid: process_cpu(pid) for pid in descendants(root)}
        now["PostgreSQL"] = {pid: process_cpu(pid) for pid in self._backends()}
        return now

    def spent(self) -> dict[str, float]:
        """CPU seconds per group since the clock was made (a process started since counts
        whole; one that ended since is lost)."""
        now = self._now()
        return {
            name: sum(t - self._start[name].get(pid, 0.0) for pid, t in pids.items())
            for name, pids in now.items()
        }
