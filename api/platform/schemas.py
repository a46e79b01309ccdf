"""The bases of every context's request and response types (msgspec), the bounded texts they share, and
the few bodies every context takes (a reason, a quota) or the tenant list answers."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated

import msgspec
from msgspec import Meta

from aggregates.limits import EXTRA_QUOTA_MAX, REASON_MAX_CHARS
from api.platform.boundary import nested_problems
from api.platform.errors import problem_text


class Request(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: strict about unknown fields, so a misspelt field is an error
    rather than silently lost. Subclasses repeat kw_only=True (msgspec does not inherit it):
    field order is not part of the contract, and optional fields may come first."""

    def __post_init__(self) -> None:
        # The boundary's rules for numbers and moments, for every body (api/platform/boundary.py). A
        # ValueError is what msgspec reports with the path of this Struct; api/platform/errors.py
        # reads the problem back from its message.
        for name in self.__struct_fields__:
            for problem in nested_problems(name, getattr(self, name)):
                raise ValueError(problem_text(problem))


class Response(msgspec.Struct, kw_only=True, frozen=True):
    """Base of response bodies: frozen, built once per response."""


Text200 = Annotated[str, Meta(max_length=200)]
Text500 = Annotated[str, Meta(max_length=500)]
Reason = Annotated[str, Meta(max_length=REASON_MAX_CHARS)]
"""A stated reason for a decision, bounded by the domain's limit."""
PositiveInt = Annotated[int, Meta(ge=1)]


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """A time as the tenant reads it: naive input is the tenant's local time (Beijing time)."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


class ReasonIn(Request, kw_only=True):
    """A decision that needs only its reason (退回, 撤回, 不予推荐, 专家退出 ...)."""

    reason: Reason


class QuotaIn(Request, kw_only=True):
    """Places added to a quota (a recommending unit's, or a member association's national one)."""

    extra: Annotated[int, Meta(ge=1, le=EXTRA_QUOTA_MAX)]
    reason: Reason


class TenantSummary(Response, kw_only=True, frozen=True):
    code: str
    name_zh: str
    name_en: str
    short_name_zh: str
    level: str
    national_parent: str | None
