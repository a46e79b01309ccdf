"""How much a user may write where the domain bounds it, in one place: the aggregates check these
limits, and the API's request schemas take their bounds from here (never a number of their own)."""

from __future__ import annotations

from aggregates.problems import Problem

REASON_MAX_CHARS = 500
"""A stated reason for a decision (退回, 撤回, 停用, 增加名额, 不予推荐 ...)."""
COMMENT_MAX_CHARS = 1000
"""A reviewer's comment on a score sheet (评语)."""
OBJECTION_MAX_CHARS = 2000
"""The facts and reasons of an objection filed in the public notice (异议)."""
EXTRA_QUOTA_MAX = 1000
"""Places added at once to a recommending unit's or a member association's quota."""


def too_long(field: str, value: str, limit: int, what: str) -> list[Problem]:
    """The problem of `value` (named `what` in the message) past `limit` characters, if it is."""
    if len(value) <= limit:
        return []
    return [Problem(field, "max_length", f"{what}不得超过 {limit} 字")]


def quota_grant_problems(extra: int, reason: str) -> list[Problem]:
    """What is wrong with adding `extra` places to a quota for `reason` (推荐名额 or 全国名额)."""
    found = []
    if extra < 1:
        found.append(Problem("extra", "positive", "增加名额须为正整数"))
    elif extra > EXTRA_QUOTA_MAX:
        found.append(Problem("extra", "max", f"一次增加的名额不超过 {EXTRA_QUOTA_MAX} 个"))
    if not reason.strip():
        found.append(Problem("reason", "required", "请说明增加名额的理由"))
    return found + too_long("reason", reason, REASON_MAX_CHARS, "理由")
