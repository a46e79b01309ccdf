"""The shape every domain refusal shares: problems that name the field and the rule broken.

Each aggregate module raises its own exceptions; they also inherit one of the kinds here so that
`api/platform/errors.py` can map every refusal to an HTTP status in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field it concerns (dotted path), a rule code and a message in Chinese."""

    field: str
    rule: str
    message: str


class DomainError(Exception):
    """A command refused by the domain; nothing was recorded."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = problems
        super().__init__("；".join(p.message for p in problems))


class InvalidInput(DomainError):
    """The command's values break a rule (HTTP 422)."""


class Conflict(DomainError):
    """The command does not fit the current state or the moment (HTTP 409)."""


class NotFound(DomainError):
    """The record does not exist in this tenant (HTTP 404)."""


class VersionConflict(Conflict):
    """The client acted on a version that is no longer current (HTTP 409)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            Problem(
                "If-Match",
                "stale_version",
                f"记录已被他人修改：您依据的是第 {expected} 版，当前为第 {actual} 版，请刷新后重试",
            )
        )
