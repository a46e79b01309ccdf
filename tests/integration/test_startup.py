"""Processes that start together (issue 22 §6): each builds the platform and its read models on a
fresh PostgreSQL database (an empty one of `postgres_url`, no schema of ours in it, as in a new
one) at the same moment; none dies on the other's DDL (schemas, the library's tables and types,
the chain's, the read models'). Without the start-up lock one of two died in most tries
(`tuple concurrently updated`, a duplicate key in the catalogue)."""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg
import pytest

from projections.service import PlatformViews
from tenants.runtime import Platform
from tenants.settings import Settings

TRIES = 10
PROCESSES = 2


def _start(url: str, data_dir: str, barrier: Barrier) -> None:
    """One process: the platform and every read model's tables, as a worker starts."""
    settings = Settings(database_url=url, data_dir=Path(data_dir), pg_pool_size=1)
    barrier.wait(60)
    try:
        platform = Platform.from_settings(settings)
        try:
            PlatformViews(platform).close()
        finally:
            platform.close()
    except BaseException:
        traceback.print_exc()
        raise SystemExit(1) from None


@pytest.mark.parametrize("attempt", range(TRIES))
def test_processes_starting_together_on_a_fresh_database_all_start(
    postgres_url: str, tmp_path: Path, attempt: int
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    processes = [
        context.Process(target=_start, args=(postgres_url, str(tmp_path / f"p{i}"), barrier))
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(180)
    codes = [process.exitcode for process in processes]
    assert codes == [0] * PROCESSES, f"try {attempt}: exit codes {codes}"
    with psycopg.connect(postgres_url) as conn:  # and what they made is there once
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'"
        ).fetchone()
    assert schemas is not None and schemas[0] == 4
