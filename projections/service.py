"""Every read model of every tenant: their databases and runners, started and stopped together."""

from __future__ import annotations

from collections.abc import Iterator

from projections.campaign_list import CampaignListProjection
from projections.review_board import ReviewBoardProjection
from projections.runner import Projection, ProjectionRunner, RunnerStatus
from projections.store import ViewDatabase, open_view_database
from projections.submission_list import SubmissionListProjection
from tenants.runtime import Platform, TenantRuntime

PROJECTIONS: tuple[type[Projection], ...] = (
    CampaignListProjection,
    SubmissionListProjection,
    ReviewBoardProjection,
)
"""The read models; a new one is added here."""

READ_YOUR_WRITES_TIMEOUT = 5.0
"""How long a command waits for the read models to show its write, at most (seconds)."""


class TenantViews:
    """One tenant's read models, each with its database and runner."""

    def __init__(self, runtime: TenantRuntime, poll_interval: float = 0.5) -> None:
        self.runtime = runtime
        self.runners: dict[str, ProjectionRunner] = {}
        try:
            for projection_class in PROJECTIONS:
                projection = projection_class()
                db = open_view_database(runtime.location, projection.name)
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

    def db(self, name: str) -> ViewDatabase:
        return self.runners[name].db

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def wait(self, position: int | None, timeout: float = READ_YOUR_WRITES_TIMEOUT) -> bool:
        """Read-your-writes: wait until every read model has passed `position`."""
        return all(runner.wait(position, timeout) for runner in self.runners.values())

    def statuses(self) -> list[RunnerStatus]:
        return [runner.status() for runner in self.runners.values()]

    def close(self) -> None:
        for runner in self.runners.values():
            runner.stop()
            runner.db.close()


class PlatformViews:
    """The read models of every tenant of a platform."""

    def __init__(self, platform: Platform, poll_interval: float = 0.5) -> None:
        self.tenants: dict[str, TenantViews] = {}
        try:
            for code, runtime in platform.tenants.items():
                self.tenants[code] = TenantViews(runtime, poll_interval)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, code: str) -> TenantViews:
        return self.tenants[code]

    def __iter__(self) -> Iterator[TenantViews]:
        return iter(self.tenants.values())

    def start(self) -> None:
        for views in self.tenants.values():
            views.start()

    def close(self) -> None:
        for views in self.tenants.values():
            views.close()
