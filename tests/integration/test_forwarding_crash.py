"""The national intake survives a crashing worker: `qcflow worker` runs as its own process and
is killed (SIGKILL, no chance to clean up) again and again at random moments while two provinces
stream forwards into their ledgers; after the last restart every forward is a national
submission exactly once (nothing lost, nothing doubled), on its province's intake, with a serial
number of its own. PostgreSQL only (the process recorder and advisory locks under test)."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from uuid import UUID

import pytest

from aggregates.campaign import Campaign
from aggregates.forwarding import NationalCall
from aggregates.submission_register import SubmissionRegister
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.integration.forwarding_support import (
    forward,
    national_call,
    open_national_campaign,
    open_provincial_campaign,
)
from tests.integration.test_forwarding import received_ids
from tests.support import command_process

SEED = int(os.environ.get("QCFLOW_CRASH_SEED", "20240701"))
PROVINCES = ("saq", "sdaq")
FORWARDS = 150
MIN_KILLS = 20
EARLY_KILLS = 3
"""The first kills come at a random moment after the start, maybe before the worker is up; the
later ones (but for a random few) after it has started its followers."""
STARTUP_TIMEOUT = 30.0
CATCH_UP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class Worker:
    """`qcflow worker` as a child process (`command_process`: forked from a server that has
    imported the command, so that the kills meet the worker's start rather than its imports);
    every incarnation appends to one log file."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QCFLOW_")}
        self.env.update(
            {
                f"QCFLOW_DATABASE_URL_{code.upper()}": url
                for code, url in settings.tenant_database_urls.items()
            }
        )
        assert settings.database_url is not None
        data_dir = settings.data_dir
        self.env.update(
            QCFLOW_DATABASE_URL=settings.database_url,
            QCFLOW_DATA_DIR=str(data_dir),
            QCFLOW_LOG_FORMAT="json",
            QCFLOW_LOG_LEVEL="info",
            QCFLOW_PG_POOL_SIZE="2",
        )
        self.process: BaseProcess | None = None
        self.started_at = 0.0
        self.starts = 0
        self.refused = 0
        """Incarnations that exited at start because the server refused a connection (a shared
        server full of other tests' connections); restarted, as a supervisor would."""
        self._offset = 0

    def start(self) -> None:
        assert self.process is None
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            self._offset = log.tell()
        self.process = command_process(
            ["worker"], self.env, self.log_path, self.log_path, session=True
        )
        self.started_at = time.monotonic()
        self.starts += 1

    def output(self) -> str:
        """What this incarnation has written so far."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._offset)
            return handle.read().decode(errors="replace")

    def events(self) -> list[dict[str, object]]:
        """The log lines of this incarnation."""
        found = []
        for line in self.output().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
        return found

    def names(self) -> list[str]:
        return [str(e.get("event")) for e in self.events()]

    def running(self) -> bool:
        """Whether the incarnation runs; one that exited on its own is restarted if the server
        refused it a connection, and is a failure otherwise."""
        assert self.process is not None
        if self.process.is_alive():
            return True
        returncode = self.process.exitcode
        self.process = None
        output = self.output()
        assert "too many clients" in output, (
            f"worker start {self.starts} exited on its own with {returncode}"
        )
        self.refused += 1
        self.start()
        return False

    def wait_started(self, timeout: float) -> bool:
        """Until this incarnation's intake followers are both active."""
        wanted = {f"intake_{code}" for code in PROVINCES}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running():
                events = self.events()
                active = {e.get("follower") for e in events if e["event"] == "follower_active"}
                if wanted <= active and any(e["event"] == "worker_started" for e in events):
                    return True
            time.sleep(0.05)
        return False

    def kill(self) -> tuple[bool, int] | None:
        """SIGKILL; answers whether it was up (worker_started) and how much it had recorded, or
        None if it was not running (and was restarted)."""
        if not self.running():
            return None
        assert self.process is not None
        self.process.kill()  # SIGKILL
        self.process.join(10)
        self.process = None
        names = self.names()
        return "worker_started" in names, names.count("follower_recorded")

    def terminate(self, timeout: float) -> int:
        assert self.process is not None
        self.process.terminate()  # SIGTERM
        try:
            self.process.join(timeout)
            assert self.process.exitcode is not None, f"the worker ran on {timeout}s after SIGTERM"
            return self.process.exitcode
        finally:
            self.ensure_dead()

    def ensure_dead(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(10)
            self.process = None

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line[:400] for line in text[-lines:])


class Stream(threading.Thread):
    """Forwards, alternating between the provinces, paced by the kills so that the stream
    spans them: forward i waits for kill i * MIN_KILLS / FORWARDS, then comes after a small
    random pause (now and then a longer one, so that kills meet both a burst and a lull)."""

    def __init__(
        self,
        rng: random.Random,
        sources: dict[str, tuple[TenantRuntime, Campaign, NationalCall]],
        kills: threading.Semaphore,
    ) -> None:
        super().__init__(name="forward-stream", daemon=True)
        self.rng = rng
        self.sources = sources
        self.kills = kills
        self.forwarded: list[tuple[str, UUID, UUID]] = []
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.abort = threading.Event()

    def run(self) -> None:
        try:
            allowed = 0
            for i in range(FORWARDS):
                while allowed < i * MIN_KILLS // FORWARDS:
                    while not self.kills.acquire(timeout=0.1):
                        if self.abort.is_set():
                            return
                    allowed += 1
                time.sleep(self.rng.uniform(0, 0.03))
                if self.rng.random() < 0.2:
                    time.sleep(self.rng.uniform(0.1, 0.6))
                code = PROVINCES[i % len(PROVINCES)]
                member, campaign, call = self.sources[code]
                provincial_id, national_id = forward(member, campaign, call, i + 1)
                self.forwarded.append((code, provincial_id, national_id))
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            self.finished.set()


@dataclass
class Crashes:
    """What the kills met, for the report."""

    kills: int = 0
    early: int = 0
    of_started: int = 0
    after_recording: int = 0
    while_streaming: int = 0

    def __str__(self) -> str:
        return (
            f"{self.kills} kills ({self.early} timed from the start, {self.of_started} of a "
            f"started worker, {self.after_recording} after it recorded forwards, "
            f"{self.while_streaming} while forwards were streaming)"
        )


def keep_crashing(
    worker: Worker, stream: Stream, gate: threading.Semaphore, crashes: Crashes, seed: float
) -> None:
    """Kill and restart the worker until the stream is through and enough kills are done."""
    rng = random.Random(seed)
    while crashes.kills < MIN_KILLS or not stream.finished.is_set():
        if stream.error is not None:
            return  # reported by the test
        early = crashes.kills < EARLY_KILLS or rng.random() < 0.15
        if early:
            time.sleep(max(0.0, worker.started_at + rng.uniform(0.2, 1.5) - time.monotonic()))
        else:
            assert worker.wait_started(STARTUP_TIMEOUT), (
                f"worker start {worker.starts} never got its followers going"
            )
            time.sleep(rng.uniform(0.2, 1.5))
        streaming = not stream.finished.is_set()
        killed = worker.kill()
        if killed is None:
            continue  # it had exited on its own at start, and was started again
        was_up, recorded = killed
        crashes.kills += 1
        crashes.early += early
        crashes.of_started += was_up
        crashes.after_recording += recorded > 0
        crashes.while_streaming += streaming
        gate.release()
        worker.start()


def settle(platform: Platform, worker: Worker) -> None:
    """Wait until the last incarnation has followed both provinces to their heads; stop it."""
    caq = platform.tenants["caq"]
    # Up first: the handler of SIGTERM is installed at start, and this incarnation is to show
    # that a worker started after all the crashes gets going.
    assert worker.wait_started(STARTUP_TIMEOUT), "the last start never got its followers going"
    heads = {c: platform.tenants[c].ledger.recorder.max_notification_id() or 0 for c in PROVINCES}
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while any(caq.ledger.tracked_position(c) < h for c, h in heads.items()):
        assert time.monotonic() < deadline, (
            f"the intake did not catch up in {CATCH_UP_TIMEOUT:.0f}s after the last restart: "
            + ", ".join(f"{c} {caq.ledger.tracked_position(c)}/{h}" for c, h in heads.items())
        )
        worker.running()  # restarted if the server refused it at start
        time.sleep(0.1)
    returncode = worker.terminate(STOP_TIMEOUT)
    assert returncode == 0, f"the worker stopped on SIGTERM with {returncode}"
    assert "worker_stopped" in worker.names(), "the worker did not stop cleanly"


def check_received(
    platform: Platform, national: Campaign, forwarded: list[tuple[str, UUID, UUID]]
) -> None:
    """Every forward a national submission exactly once, on its province's intake, numbered
    once."""
    caq = platform.tenants["caq"]
    assert len(forwarded) == FORWARDS
    counts = received_ids(platform)
    doubled = {str(i): n for i, n in counts.items() if n != 1}
    assert not doubled, f"national submissions created more than once: {doubled}"
    expected = {national_id for _, _, national_id in forwarded}
    lost = sorted(str(i) for i in expected - set(counts))
    assert not lost, f"{len(lost)} forwards never received: {lost}"
    assert set(counts) == expected, f"received, never forwarded: {set(counts) - expected}"
    for code in PROVINCES:
        unit = platform.registry.national_unit(code)
        assert unit is not None
        intake = caq.ledger.get_intake(national.id, unit.code)
        mine = {str(n): p for c, p, n in forwarded if c == code}
        assert set(intake.received) == set(mine), f"the intake of {code} differs"
        origins = {n: r["origin_submission_id"] for n, r in intake.received.items()}
        assert origins == mine, f"the intake of {code} names wrong origins"
    register = caq.ledger._find(SubmissionRegister.create_id(national.id), SubmissionRegister)
    assert register is not None
    assert set(register.entries) == {str(n) for n in expected}
    assert register.issued == FORWARDS, f"{register.issued} serial numbers issued"
    serials = [entry["serial"] for entry in register.entries.values()]
    assert len(set(serials)) == FORWARDS, "a serial number was issued twice"


@pytest.mark.postgres
@pytest.mark.parametrize("servers", ["one server", "caq on a second server"])
def test_each_forward_is_received_once_while_the_worker_keeps_crashing(
    servers: str,
    postgres_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    began = time.monotonic()
    elsewhere = (
        {"caq": request.getfixturevalue("second_postgres_url")} if "second" in servers else {}
    )
    settings = Settings(
        database_url=postgres_url,
        tenant_database_urls=elsewhere,
        data_dir=tmp_path / "var",
        pg_pool_size=2,
    )
    platform = Platform.from_settings(settings)
    worker = Worker(settings, tmp_path / "worker.log")
    crashes = Crashes()
    stream: Stream | None = None
    try:
        national = open_national_campaign(platform.tenants["caq"].ledger)
        sources = {}
        for code in PROVINCES:
            member = platform.tenants[code]
            campaign = open_provincial_campaign(member.ledger)
            sources[code] = (member, campaign, national_call(platform, code, national))
        rng = random.Random(SEED)
        gate = threading.Semaphore(0)
        stream = Stream(random.Random(rng.random()), sources, gate)
        worker.start()
        stream.start()
        try:
            keep_crashing(worker, stream, gate, crashes, rng.random())
            assert stream.error is None, f"the forward stream failed: {stream.error!r}"
            assert crashes.kills >= MIN_KILLS
            assert crashes.while_streaming >= MIN_KILLS // 2, "too few kills while streaming"
            settle(platform, worker)
            check_received(platform, national, stream.forwarded)
        except AssertionError as e:
            raise AssertionError(
                f"{e}\nseed {SEED} (QCFLOW_CRASH_SEED={SEED} repeats it), {crashes}\n"
                f"worker log ({worker.log_path}), last lines:\n{worker.tail()}"
            ) from e
    finally:
        if stream is not None:
            stream.abort.set()
            stream.join(30)
        worker.ensure_dead()
        platform.close()
        print(  # noqa: T201 (the run's summary, shown with -s)
            f"\nforwarding crash test: seed {SEED}, {crashes}, {worker.starts} worker starts "
            f"({worker.refused} refused a connection at start), "
            f"{time.monotonic() - began:.1f}s"
        )
