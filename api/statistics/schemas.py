"""Response types of the statistics: the platform's own figures and the roll-ups of the reported
statistics tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum

from aggregates.submission_forms import TOPIC_TYPE_NAMES_ZH, TopicType
from api.platform.schemas import Response
from projections.campaign_figures import CampaignFigures, Figures, Group
from projections.statistics_rollup import GROUP_COUNTS, Number, RollUp, in_10k


class Dimension(StrEnum):
    """What the platform's figures are broken down by."""

    RECOMMENDING_UNIT = "recommending_unit"
    KEY_DOMAIN = "key_domain"
    INDUSTRY = "industry"
    TOPIC_TYPE = "topic_type"


class GradeCount(Response, kw_only=True, frozen=True):
    grade: str
    name: str
    count: int


class FiguresOut(Response, kw_only=True, frozen=True):
    registrations: int | None
    """报名数; null where it does not apply (by recommending unit or topic type)."""
    submissions: int
    """申报数: filed and not withdrawn (received results included)."""
    withdrawn: int
    """撤回数: filed, then withdrawn (a draft never submitted is not counted)."""
    recommended: int
    """推荐数: on a filed, valid recommendation form or confirmed through the direct channel
    (national: every result received). Each later stage counts among the stage before it, so
    no rate passes 100 %."""
    formal_passed: int
    formal_rejected: int
    graded: int
    grades: list[GradeCount]
    """By level, in the tenant's grade order."""
    forwarded: int
    """推荐全国 and not withdrawn."""
    national_passed: int
    national_rejected: int
    national_graded: int
    national_grades: dict[str, int]
    """National grade name → results holding it."""
    national_not_graded: int
    rates: dict[str, Decimal | None]
    """recommendation_rate (推荐率), formal_pass_rate (形式审查通过率), grading_rate (获评率),
    forwarding_rate (推荐全国率), national_grading_rate (全国获评率), in %, from the counts."""

    @classmethod
    def of(cls, figures: Figures, grade_names: Mapping[str, str]) -> FiguresOut:
        ordered = [g for g in grade_names if g in figures.grades]
        ordered += sorted(g for g in figures.grades if g not in grade_names)
        return cls(
            registrations=figures.registrations,
            submissions=figures.submissions,
            withdrawn=figures.withdrawn,
            recommended=figures.recommended,
            formal_passed=figures.formal_passed,
            formal_rejected=figures.formal_rejected,
            graded=figures.graded,
            grades=[
                GradeCount(grade=g, name=grade_names.get(g, g), count=figures.grades[g])
                for g in ordered
            ],
            forwarded=figures.forwarded,
            national_passed=figures.national_passed,
            national_rejected=figures.national_rejected,
            national_graded=figures.national_graded,
            national_grades=dict(sorted(figures.national_grades.items())),
            national_not_graded=figures.national_not_graded,
            rates=figures.rates(),
        )


class GroupOut(Response, kw_only=True, frozen=True):
    key: str | None
    """The dimension's value (null: not given); null for the totals."""
    label: str | None
    """The value as users read it (the unit's name, 问题解决型, …)."""
    figures: FiguresOut
    previous_year: FiguresOut | None
    """The same group in the programme's campaign a year earlier, when there is one."""
    change: dict[str, Decimal | None]
    """Year over year per stage, in %."""

    @classmethod
    def of(
        cls, group: Group, grade_names: Mapping[str, str], label: Callable[[str | None], str | None]
    ) -> GroupOut:
        return cls(
            key=group.key,
            label=label(group.key),
            figures=FiguresOut.of(group.figures, grade_names),
            previous_year=FiguresOut.of(group.previous, grade_names) if group.previous else None,
            change=group.changes(),
        )


class CampaignStatisticsOut(Response, kw_only=True, frozen=True):
    campaign_id: str
    programme: str
    year: int
    title: str
    published: bool
    previous_campaign_id: str | None
    by: str | None
    totals: GroupOut
    groups: list[GroupOut]

    @classmethod
    def of(
        cls,
        found: CampaignFigures,
        grade_names: Mapping[str, str],
        label: Callable[[str | None], str | None],
    ) -> CampaignStatisticsOut:
        return cls(
            campaign_id=found.campaign_id,
            programme=found.programme,
            year=found.year,
            title=found.title,
            published=found.published,
            previous_campaign_id=found.previous_campaign_id,
            by=found.by,
            totals=GroupOut.of(found.totals, grade_names, lambda _: None),
            groups=[GroupOut.of(g, grade_names, label) for g in found.groups],
        )


def topic_label(key: str | None) -> str | None:
    return TOPIC_TYPE_NAMES_ZH.get(TopicType(key)) if key in set(TopicType) else key


class UnitLineOut(Response, kw_only=True, frozen=True):
    unit: str
    unit_name: str
    kind: str
    enterprises: int
    figures: dict[str, Number]
    rates: dict[str, Decimal | None]
    deducted: int


class DeductionOut(Response, kw_only=True, frozen=True):
    credit_code: str
    name: str
    unit: str
    """The provincial association it was deducted from."""
    direct_under: list[str]
    """The industry association(s) it reports through."""
    figures: dict[str, Number] | None
    """What was deducted besides the enterprise; null when nobody itemised its figures."""
    source: str | None
    """association (its own itemised figures) or industry (the industry's)."""
    note: str


class OverlapOut(Response, kw_only=True, frozen=True):
    credit_code: str
    units: list[str]


class RollUpOut(Response, kw_only=True, frozen=True):
    campaign_id: str
    programme: str
    national: bool
    units_reported: list[str]
    units_missing: list[str]
    """Recommending units that have not filed (or forwarded) a table."""
    enterprises: int
    """Distinct enterprises by credit code."""
    figures: dict[str, Number]
    figures_in_10k: dict[str, Decimal]
    """National QC roll-up: the group counts in 万个, as the national form has them."""
    rates: dict[str, Decimal | None]
    meetings_held: int
    meeting: dict[str, int]
    units: list[UnitLineOut]
    deductions: list[DeductionOut]
    overlaps: list[OverlapOut]

    @classmethod
    def of(
        cls,
        campaign_id: str,
        programme: str,
        national: bool,
        rollup: RollUp,
        missing: list[str],
    ) -> RollUpOut:
        in_groups = national and rollup.programme_is_qc
        return cls(
            campaign_id=campaign_id,
            programme=programme,
            national=national,
            units_reported=[line.unit for line in rollup.units],
            units_missing=missing,
            enterprises=rollup.enterprises,
            figures=rollup.figures,
            figures_in_10k={n: in_10k(rollup.figures[n]) for n in GROUP_COUNTS if in_groups},
            rates=rollup.rates,
            meetings_held=rollup.meetings_held,
            meeting=rollup.meeting,
            units=[
                UnitLineOut(
                    unit=u.unit,
                    unit_name=u.unit_name,
                    kind=u.kind,
                    enterprises=u.enterprises,
                    figures=u.figures,
                    rates=u.rates,
                    deducted=u.deducted,
                )
                for u in rollup.units
            ],
            deductions=[
                DeductionOut(
                    credit_code=d.credit_code,
                    name=d.name,
                    unit=d.unit,
                    direct_under=d.direct_under,
                    figures=d.figures,
                    source=d.source,
                    note="扣除行业直属企业数据"
                    if d.figures
                    else "该企业未分项填报数据，仅扣除企业数，请向推荐单位核实",
                )
                for d in rollup.deductions
            ],
            overlaps=[
                OverlapOut(credit_code=o.credit_code, units=o.units) for o in rollup.overlaps
            ],
        )
