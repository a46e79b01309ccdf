"""The roll-up of reported statistics tables (统计表汇总): a tenant's totals of its recommending
units' tables, and at national level the totals of the member associations' forwarded tables.

Counts are summed and the rates recomputed from the sums (never averaged). Each enterprise is
counted once, by credit code. Where an enterprise is listed both by a provincial association
and by an industry association, it reports directly through the industry (行业直属企业), so its
data is deducted from the province (扣除行业直属企业数据): its own figures as the province
itemised them, else as the industry association itemised them, else only the enterprise itself
(flagged, for the secretariat to ask for its figures). Any other enterprise listed by more than
one unit is counted once in the enterprise total and shown as an overlap; no rule says whose
figures would give way, so its figures stay where they were reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from aggregates.statistics_table import QcFigures, StatisticsForm, TeamFiguresTable, rate

Number = int | Decimal

DEDUCTED_FROM = frozenset({"association"})
"""Unit kinds whose tables exclude enterprises that report through an industry (省市质协)."""
DIRECT_UNDER = frozenset({"industry"})
"""Unit kinds through which an enterprise reports directly (行业)."""
MEETING_COUNTS = ("entered", "presented", "attendance")


@dataclass(frozen=True)
class UnitTable:
    """A recommending unit's table as the roll-up reads it."""

    unit: str
    unit_name: str
    kind: str
    form: StatisticsForm


@dataclass(frozen=True)
class Deduction:
    """An enterprise deducted from a provincial association's table."""

    credit_code: str
    name: str
    unit: str
    """The association it was deducted from."""
    direct_under: list[str]
    """The industry association(s) it reports through."""
    figures: dict[str, Number] | None
    """What was deducted besides the enterprise itself; None when nobody itemised it."""
    source: str | None
    """Whose itemised figures were deducted: the association's own, or the industry's."""


@dataclass(frozen=True)
class Overlap:
    credit_code: str
    units: list[str]


@dataclass(frozen=True)
class UnitLine:
    """One unit's counted share: its table less what was deducted from it."""

    unit: str
    unit_name: str
    kind: str
    enterprises: int
    figures: dict[str, Number]
    rates: dict[str, Decimal | None]
    deducted: int
    """Enterprises deducted from it."""


@dataclass(frozen=True)
class RollUp:
    programme_is_qc: bool
    units: list[UnitLine]
    enterprises: int
    """Distinct enterprises (by credit code) over every table."""
    figures: dict[str, Number]
    rates: dict[str, Decimal | None]
    meetings_held: int
    meeting: dict[str, int]
    deductions: list[Deduction] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)


def _rates(figures: dict[str, Number], programme_is_qc: bool) -> dict[str, Decimal | None]:
    if not programme_is_qc:
        return {}
    return {
        "coverage": rate(int(figures["participants"]), int(figures["employees"])),
        "result_rate": rate(
            int(figures["groups_with_results"]), int(figures["registered_this_year"])
        ),
        "activity_rate": rate(int(figures["active_groups"]), int(figures["registered_this_year"])),
    }


def _figures_of(table: UnitTable, credit_code: str) -> tuple[dict[str, Number], str] | None:
    for item in table.form.itemised:
        if item.credit_code == credit_code:
            return asdict(item.figures), item.name
    return None


def roll_up(tables: Sequence[UnitTable], programme_is_qc: bool) -> RollUp:
    """The totals of `tables`, each enterprise counted once (see the module's rules)."""
    listed: dict[str, list[UnitTable]] = {}
    for table in tables:
        for code in table.form.enterprises:
            listed.setdefault(code, []).append(table)
    deductions: list[Deduction] = []
    overlaps: list[Overlap] = []
    deducted_from: dict[str, list[Deduction]] = {}
    for code, under in listed.items():
        if len(under) < 2:
            continue
        industries = [t for t in under if t.kind in DIRECT_UNDER]
        provinces = [t for t in under if t.kind in DEDUCTED_FROM]
        if industries and provinces:
            for province in provinces:
                deduction = _deduction(code, province, industries)
                deductions.append(deduction)
                deducted_from.setdefault(province.unit, []).append(deduction)
        rest = [t for t in under if t.kind not in DEDUCTED_FROM] if industries else under
        if len(rest) > 1:
            overlaps.append(Overlap(code, [t.unit for t in rest]))
    lines = [_line(table, deducted_from.get(table.unit, []), programme_is_qc) for table in tables]
    kind = QcFigures if programme_is_qc else TeamFiguresTable
    figures: dict[str, Number] = dict.fromkeys(kind.__dataclass_fields__, 0)  # none filed yet
    for line in lines:
        for name, value in line.figures.items():
            figures[name] = figures.get(name, 0) + value
    meeting = {name: sum(getattr(t.form.meeting, name) for t in tables) for name in MEETING_COUNTS}
    return RollUp(
        programme_is_qc=programme_is_qc,
        units=lines,
        enterprises=len(listed),
        figures=figures,
        rates=_rates(figures, programme_is_qc),
        meetings_held=sum(t.form.meeting.held for t in tables),
        meeting=meeting,
        deductions=deductions,
        overlaps=overlaps,
    )


def _deduction(code: str, province: UnitTable, industries: list[UnitTable]) -> Deduction:
    found = _figures_of(province, code)
    source: str | None = "association" if found else None
    if found is None:
        for industry in industries:
            found = _figures_of(industry, code)
            if found is not None:
                source = "industry"
                break
    return Deduction(
        credit_code=code,
        name=found[1] if found else "",
        unit=province.unit,
        direct_under=[t.unit for t in industries],
        figures=found[0] if found else None,
        source=source,
    )


def _line(table: UnitTable, deductions: list[Deduction], programme_is_qc: bool) -> UnitLine:
    figures: dict[str, Number] = asdict(table.form.figures)
    for deduction in deductions:
        for name, value in (deduction.figures or {}).items():
            figures[name] = figures[name] - value
    return UnitLine(
        unit=table.unit,
        unit_name=table.unit_name,
        kind=table.kind,
        enterprises=len(table.form.enterprises) - len(deductions),
        figures=figures,
        rates=_rates(figures, programme_is_qc),
        deducted=len(deductions),
    )


def in_10k(count: Number) -> Decimal:
    """A count of QC groups in 万个, as the national form has it (exact to the single group)."""
    return (Decimal(count) / 10_000).quantize(Decimal("0.0001"))


GROUP_COUNTS = (
    "registered_all_years",
    "registered_this_year",
    "active_groups",
    "groups_with_results",
)
"""The QC figures that count groups: in 万个 on the national form."""
