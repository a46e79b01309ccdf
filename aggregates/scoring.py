"""Scoring rules of expert review: rubrics by topic type, and the aggregation of score sheets
(mean, trimmed mean, per-reviewer z-score normalisation), each result with its inputs.

Pure functions over plain values, so that the audit can recompute every recorded score.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

AGGREGATION_VERSION = 1
"""Bumped whenever an aggregation rule's arithmetic changes; recorded with every result."""

TWO_PLACES = Decimal("0.01")

# Default rubrics: the steps of the QC story of T/CAQ10201-2020 for each topic type, each with
# its weight (points); a campaign may define its own.
DEFAULT_RUBRICS: dict[str, dict[str, int]] = {
    "problem_solving": {
        "选题": 10,
        "现状调查": 10,
        "设定目标": 10,
        "原因分析": 15,
        "确定主要原因": 15,
        "制定对策": 10,
        "对策实施": 10,
        "效果检查": 10,
        "制定巩固措施与总结": 10,
    },
    "innovative": {
        "选题": 15,
        "设定目标及目标可行性论证": 15,
        "提出方案并确定最佳方案": 20,
        "制定对策": 10,
        "对策实施": 15,
        "效果检查": 10,
        "标准化": 5,
        "总结和下一步打算": 10,
    },
    "team": {
        "班组基础管理": 20,
        "成员能力": 20,
        "质量改进和创新": 25,
        "管理特色与业绩": 25,
        "荣誉与评价": 10,
    },
    "presentation": {"内容": 40, "表达": 30, "回答问题": 20, "时间控制": 10},
}


def quantize(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def sheet_problems(
    rubric: Mapping[str, int], criteria: Mapping[str, Decimal]
) -> list[tuple[str, str, str]]:
    """(field, rule, message) for criteria that do not fit the rubric."""
    found = []
    for name in rubric:
        if name not in criteria:
            found.append((f"criteria.{name}", "required", f"请为“{name}”打分"))
    for name, value in criteria.items():
        if name not in rubric:
            found.append((f"criteria.{name}", "unknown_criterion", "评分表中没有这一项"))
        elif not Decimal(0) <= value <= Decimal(rubric[name]):
            found.append((f"criteria.{name}", "range", f"应在 0 至 {rubric[name]} 分之间"))
    return found


def total(criteria: Mapping[str, Decimal]) -> Decimal:
    return quantize(sum(criteria.values(), Decimal(0)))


@dataclass(frozen=True)
class Sheet:
    """One counted score: who gave it, to what, and the total."""

    sheet_id: str
    reviewer: str
    submission_id: str
    total: Decimal


@dataclass(frozen=True)
class Aggregate:
    """A submission's stage score with its inputs: the sheets counted, those excluded and why."""

    score: Decimal | None
    counted: tuple[str, ...]
    excluded: dict[str, str]
    rule: str
    version: int = AGGREGATION_VERSION


def aggregate(rule: str, sheets: Sequence[Sheet], all_sheets: Sequence[Sheet] = ()) -> Aggregate:
    """A submission's score from its current sheets. `all_sheets` (every current sheet of the
    round) is needed by z-score normalisation, which scales each reviewer against their own scores."""
    if not sheets:
        return Aggregate(None, (), {}, rule)
    ordered = sorted(sheets, key=lambda s: (s.total, s.sheet_id))
    if rule == "trimmed_mean":
        if len(ordered) < 3:
            return Aggregate(
                quantize(_mean([s.total for s in ordered])),
                tuple(s.sheet_id for s in ordered),
                {},
                "mean (fewer than 3 sheets: nothing trimmed)",
            )
        low, high, middle = ordered[0], ordered[-1], ordered[1:-1]
        return Aggregate(
            quantize(_mean([s.total for s in middle])),
            tuple(s.sheet_id for s in middle),
            {low.sheet_id: "最低分，去掉", high.sheet_id: "最高分，去掉"},
            rule,
        )
    if rule == "zscore":
        return Aggregate(
            quantize(_mean([_normalised(s, all_sheets or sheets) for s in ordered])),
            tuple(s.sheet_id for s in ordered),
            {},
            rule,
        )
    return Aggregate(
        quantize(_mean([s.total for s in ordered])), tuple(s.sheet_id for s in ordered), {}, "mean"
    )


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / Decimal(len(values))


def _normalised(sheet: Sheet, all_sheets: Sequence[Sheet]) -> Decimal:
    """The sheet's total as a z-score among its reviewer's totals, mapped back onto the round's
    overall mean and spread; a reviewer with one score or no spread keeps their raw total."""
    own = [s.total for s in all_sheets if s.reviewer == sheet.reviewer]
    everyone = [s.total for s in all_sheets]
    if len(own) < 2 or len(everyone) < 2:
        return sheet.total
    own_sd = Decimal(str(statistics.pstdev([float(v) for v in own])))
    if own_sd == 0:
        return sheet.total
    z = (sheet.total - _mean(own)) / own_sd
    overall_sd = Decimal(str(statistics.pstdev([float(v) for v in everyone])))
    return _mean(everyone) + z * overall_sd


def combine(material: Decimal, presentation: Decimal, presentation_weight: Decimal) -> Decimal:
    """The contest's combined score: the campaign's weighted mix of material and presentation."""
    return quantize(material * (1 - presentation_weight) + presentation * presentation_weight)
