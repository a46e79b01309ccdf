"""A campaign's review plan (评审方案): the formal-review checklist, the expert rounds, the rubrics,
the presentation contest's weight, and how grades are given (bands by score or by rank, quotas)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from aggregates.problems import Problem
from aggregates.scoring import DEFAULT_RUBRICS

AGGREGATIONS = ("mean", "trimmed_mean", "zscore")
ROUND_KINDS = ("material", "presentation")
GRADINGS = ("score", "rank")

DEFAULT_CHECKLIST = (
    "盖章申报表齐全",
    "成果报告齐全",
    "成果为近两年内取得",
    "推荐单位评审组有持证评委",
)


@dataclass(frozen=True)
class RoundPlan:
    """One round of expert review: 初评, 复评 (material) or the presentation contest (发表赛)."""

    code: str
    name_zh: str
    kind: str = "material"
    reviewers_per_submission: int = 3
    aggregation: str = "trimmed_mean"


@dataclass(frozen=True)
class GradeBand:
    """A grade of the tenant's scale, best first: its lowest score (grading by score), its quota,
    and what it needs (a live presentation; a presentation video)."""

    grade: str
    min_score: Decimal | None = None
    quota: int | None = None
    requires_presentation: bool = False
    requires_video: bool = False


@dataclass(frozen=True)
class ReviewPlan:
    checklist: tuple[str, ...] = DEFAULT_CHECKLIST
    rounds: tuple[RoundPlan, ...] = (
        RoundPlan("initial", "初评"),
        RoundPlan("final", "复评"),
    )
    presentation_weight: Decimal = Decimal("0.4")
    """The presentation's share of the combined score (发表赛成绩权重); the material's is the rest."""
    grading: str = "score"
    bands: tuple[GradeBand, ...] = ()
    domain_quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per key domain, the most results of each grade."""
    rubrics: dict[str, dict[str, int]] = field(default_factory=lambda: dict(DEFAULT_RUBRICS))
    """Criteria and their points by topic type ("team" for teams; "presentation" for contests)."""

    def round(self, code: str) -> RoundPlan | None:
        return next((r for r in self.rounds if r.code == code), None)

    def band(self, grade: str) -> GradeBand | None:
        return next((b for b in self.bands if b.grade == grade), None)

    def to_state(self) -> dict[str, Any]:
        return {
            "checklist": list(self.checklist),
            "rounds": [asdict(r) for r in self.rounds],
            "presentation_weight": self.presentation_weight,
            "grading": self.grading,
            "bands": [asdict(b) for b in self.bands],
            "domain_quotas": {d: dict(q) for d, q in self.domain_quotas.items()},
            "rubrics": {t: dict(c) for t, c in self.rubrics.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ReviewPlan:
        return cls(
            checklist=tuple(state["checklist"]),
            rounds=tuple(RoundPlan(**r) for r in state["rounds"]),
            presentation_weight=Decimal(state["presentation_weight"]),
            grading=state["grading"],
            bands=tuple(GradeBand(**b) for b in state["bands"]),
            domain_quotas={d: dict(q) for d, q in state["domain_quotas"].items()},
            rubrics={t: dict(c) for t, c in state["rubrics"].items()},
        )

    def problems(self, grades: set[str], score_max: int) -> list[Problem]:
        """What breaks a rule, given the tenant's grade codes and the campaign's top score."""
        found: list[Problem] = []
        if not self.checklist or any(not item.strip() for item in self.checklist):
            found.append(Problem("checklist", "required", "形式审查清单不能为空，且每项须有内容"))
        codes = [r.code for r in self.rounds]
        if not self.rounds or not any(r.kind == "material" for r in self.rounds):
            found.append(Problem("rounds", "required", "须至少安排一轮材料评审"))
        if len(set(codes)) != len(codes):
            found.append(Problem("rounds", "unique", "评审轮次代码重复"))
        for i, r in enumerate(self.rounds):
            if not r.code.strip() or not r.name_zh.strip():
                found.append(Problem(f"rounds[{i}]", "required", "轮次须有代码和名称"))
            if r.kind not in ROUND_KINDS:
                found.append(
                    Problem(f"rounds[{i}].kind", "one_of", "须为 material 或 presentation")
                )
            if r.aggregation not in AGGREGATIONS:
                found.append(
                    Problem(
                        f"rounds[{i}].aggregation", "one_of", "须为 mean、trimmed_mean 或 zscore"
                    )
                )
            if not 1 <= r.reviewers_per_submission <= 15:
                found.append(
                    Problem(f"rounds[{i}].reviewers_per_submission", "range", "应为 1 至 15 人")
                )
        if sum(1 for r in self.rounds if r.kind == "presentation") > 1:
            found.append(Problem("rounds", "one_presentation", "发表赛只能安排一轮"))
        if not Decimal(0) <= self.presentation_weight <= Decimal(1):
            found.append(Problem("presentation_weight", "range", "发表赛权重应在 0 至 1 之间"))
        if self.grading not in GRADINGS:
            found.append(Problem("grading", "one_of", "须为 score（按分数段）或 rank（按名次）"))
        if not self.bands:
            found.append(Problem("bands", "required", "请设定等级"))
        for i, b in enumerate(self.bands):
            if b.grade not in grades:
                found.append(Problem(f"bands[{i}].grade", "unknown_grade", "不是本协会的等级"))
            if self.grading == "score" and b.min_score is None:
                found.append(
                    Problem(f"bands[{i}].min_score", "required", "按分数段认定须给出分数线")
                )
            if b.min_score is not None and not Decimal(0) <= b.min_score <= score_max:
                found.append(
                    Problem(f"bands[{i}].min_score", "range", f"应在 0 至 {score_max} 之间")
                )
            if self.grading == "rank" and b.quota is None:
                found.append(Problem(f"bands[{i}].quota", "required", "按名次认定须给出名额"))
            if b.quota is not None and b.quota < 1:
                found.append(Problem(f"bands[{i}].quota", "positive", "名额须为正整数"))
        for domain, quotas in self.domain_quotas.items():
            for grade, count in quotas.items():
                if grade not in grades or count < 0:
                    found.append(
                        Problem(f"domain_quotas.{domain}.{grade}", "quota", "等级或名额不正确")
                    )
        for topic, criteria in self.rubrics.items():
            if not criteria or sum(criteria.values()) != score_max:
                found.append(
                    Problem(f"rubrics.{topic}", "sum", f"各项分值之和须为满分 {score_max}")
                )
        return found
