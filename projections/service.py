"""Every read model of every tenant: their databases and runners, started and stopped together."""

from __future__ import annotations

from collections.abc import Iterator

from projections.account_list import AccountListProjection
from projections.campaign_desk import CampaignDeskProjection
from projections.campaign_list import CampaignListProjection
from projections.campaign_statistics import CampaignStatisticsProjection
from projections.enterprise_accounts import EnterpriseAccountsProjection
from projections.forwarding import ForwardingProcesses
from projections.progress import TenantProgress
from projections.reported_statistics import ReportedStatisticsProjection
from projections.review_board import ReviewBoardProjection
from projections.runner import Projection, ProjectionRunner, RunnerStatus
from projections.store import PostgresViewDatabase, ViewDatabase, open_view_database
from projections.submission_list import SubmissionListProjection
from tenants.runtime import Platform, TenantRuntime

PROJECTIONS: tuple[type[Projection], ...] = (
    CampaignListProjection,
    SubmissionListProjection,
    ReviewBoardProjection,
    CampaignStatisticsProjection,
    ReportedStatisticsProjection,
    EnterpriseAccountsProjection,
    AccountListProjection,
    CampaignDeskProjection,
)
"""The read models; a new one is added here."""

READ_YOUR_WRITES_TIMEOUT = 5.0
"""How long a command waits for the read models to show its write, at most (seconds)."""


class TenantViews:
    """One tenant's read models, each with its database and runner."""

    def __init__(self, runtime: TenantRuntime, poll_interval: float = 0.5) -> None:
        self.runtime = runtime
        self.runners: dict[str, ProjectionRunner] = {}
        shared: ViewDatabase | None = None  # on PostgreSQL, one pool for the tenant's schema
        try:
            for projection_class in PROJECTIONS:
                projection = projection_class()
                if runtime.location.is_postgres:
                    shared = shared or open_view_database(
                        runtime.location, projection.name, derived=True
                    )
                    db = shared
                else:
                    db = open_view_database(runtime.location, projection.name, derived=True)
                self.runners[projection.name] = ProjectionRunner(
                    projection,
                    runtime.ledger,
                    db,
                    runtime.location.ledger_channel,
                    poll_interval=poll_interval,
                )
        except BaseException:
            self.close()
            raise
        self.progress: TenantProgress | None = None
        """On PostgreSQL, what this process is told of read models it does not run."""
        if isinstance(shared, PostgresViewDatabase):
            self.progress = TenantProgress(
                shared,
                shared.listener,
                runtime.ledger.name,
                f"{runtime.ledger.name}_events",
                runtime.location.ledger_channel,
                {
                    name: frozenset(r.projection.topics) if r.projection.topics else None
                    for name, r in self.runners.items()
                },
            )

    def db(self, name: str) -> ViewDatabase:
        return self.runners[name].db

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def wait(self, position: int | None, timeout: float = READ_YOUR_WRITES_TIMEOUT) -> bool:
        """Read-your-writes: wait until every read model has passed `position`.

        Read models run in this process are asked each (they know without a round trip); on
        PostgreSQL, those run elsewhere (a `qcflow worker`) are waited for together, from the
        notifications of the tenant's writes and of the runners' batches (`TenantProgress`),
        not polled for one by one. On SQLite every runner is nudged at once (no notification will
        wake one), so the wait costs the slowest read model, not their sum."""
        if position is None:
            return True
        if (progress := self._told_elsewhere()) is not None:
            return progress.wait(position, timeout)
        self.expect(position)
        return all(runner.wait(position, timeout) for runner in self.runners.values())

    def known_passed(self, position: int) -> bool:
        """Whether every read model is known to have passed `position` without a wait or a
        query (the event loop may ask; False: not known, `wait` finds out)."""
        if (progress := self._told_elsewhere()) is not None:
            return progress.passed(position)
        return all(runner.known_passed(position) for runner in self.runners.values())

    def _told_elsewhere(self) -> TenantProgress | None:
        """On PostgreSQL, when no read model runs here (a `qcflow worker` runs them): what this
        process is told of their progress."""
        if self.progress is not None and all(not r.runs_here() for r in self.runners.values()):
            return self.progress
        return None

    def expect(self, position: int) -> None:
        """A write at `position` was made in this process: the read models that no notification
        will wake (SQLite) look now (`ProjectionRunner.expect`)."""
        for runner in self.runners.values():
            runner.expect(position)

    def statuses(self) -> list[RunnerStatus]:
        return [runner.status() for runner in self.runners.values()]

    def close(self) -> None:
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.close()
        for runner in self.runners.values():
            runner.stop()
        for db in {id(r.db): r.db for r in self.runners.values()}.values():
            db.close()


class PlatformViews:
    """The read models of every tenant of a platform, and the forwarding processes between
    member associations and their national parent."""

    def __init__(self, platform: Platform, poll_interval: float = 0.5) -> None:
        self.tenants: dict[str, TenantViews] = {}
        self.forwarding: ForwardingProcesses | None = None
        try:
            with platform.startup_lock():  # the read models' tables: one process at a time
                for code, runtime in platform.tenants.items():
                    self.tenants[code] = TenantViews(runtime, poll_interval)
                self.forwarding = ForwardingProcesses(platform, poll_interval)
        except BaseException:
            self.close()
            raise

    def written(self, code: str, position: int) -> None:
        """This process wrote `code`'s ledger up to `position`. On SQLite, where no notification
        tells of a write, the loops that follow that ledger here look now: its read models and
        the followers that forward from it. So a write is seen at once, whoever made it (a
        request, or a follower recording into its target), and the poll interval is only the
        pace at which another process's writes are seen. On PostgreSQL the tenant's listener
        wakes them."""
        views = self.tenants.get(code)
        if views is None or views.runtime.location.is_postgres:
            return
        views.expect(position)
        for follower in self.forwarding or ():
            if follower.upstream.tenant.code == code:
                follower.nudge()

    def statuses(self, code: str) -> list[RunnerStatus]:
        """A tenant's read models, and the followers that record into its ledger."""
        followers = self.forwarding or ()
        return self.tenants[code].statuses() + [
            f.status() for f in followers if f.downstream.tenant.code == code
        ]

    def __getitem__(self, code: str) -> TenantViews:
        return self.tenants[code]

    def __iter__(self) -> Iterator[TenantViews]:
        return iter(self.tenants.values())

    def start(self) -> None:
        for views in self.tenants.values():
            views.start()
        if self.forwarding is not None:
            self.forwarding.start()

    def close(self) -> None:
        if self.forwarding is not None:
            self.forwarding.close()
        for views in self.tenants.values():
            views.close()
