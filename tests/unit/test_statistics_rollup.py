"""The roll-up of statistics tables: sums, rates from the sums, each enterprise once, and
industry-direct enterprises deducted from the provincial association (扣除行业直属企业数据)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from aggregates.credit_code import check_character
from aggregates.statistics_table import EnterpriseItem, Meeting, QcFigures, StatisticsForm
from projections.statistics_rollup import UnitTable, in_10k, roll_up


def code(n: int) -> str:
    first17 = f"91310000{n:09d}"
    return first17 + check_character(first17)


def qc(**values: int | str) -> QcFigures:
    base: dict[str, int | Decimal] = {
        "employees": 1000,
        "registered_all_years": 300,
        "registered_this_year": 100,
        "participants": 400,
        "active_groups": 80,
        "groups_with_results": 50,
        "benefit_all_years_10k": Decimal("900.5"),
        "benefit_this_year_10k": Decimal("100.25"),
        "spending_10k": Decimal(20),
        "rewards_10k": Decimal(5),
        "certified_reviewers": 3,
    }
    base |= {k: Decimal(v) if isinstance(v, str) else v for k, v in values.items()}
    return QcFigures(**base)  # type: ignore[arg-type]


def table(
    unit: str, kind: str, enterprises: list[int], figures: QcFigures, **items: QcFigures
) -> UnitTable:
    form = StatisticsForm(
        enterprises=[code(n) for n in enterprises],
        figures=figures,
        meeting=Meeting(held=True, entered=10, presented=8, attendance=90),
        itemised=[
            EnterpriseItem(code(int(n.removeprefix("e"))), f, name=f"企业{n}")
            for n, f in items.items()
        ],
    )
    return UnitTable(unit, unit, kind, form)


def test_counts_are_summed_and_rates_recomputed_from_the_sums() -> None:
    a = table("huangpu", "district", [1, 2], qc(employees=1000, participants=100))
    b = table("xuhui", "district", [3], qc(employees=3000, participants=2700))
    rolled = roll_up([a, b], programme_is_qc=True)
    assert rolled.figures["employees"] == 4000 and rolled.figures["participants"] == 2800
    assert rolled.rates["coverage"] == Decimal("70.00")  # not (10% + 90%) / 2
    assert rolled.figures["benefit_this_year_10k"] == Decimal("200.50")
    assert rolled.enterprises == 3
    assert rolled.meetings_held == 2 and rolled.meeting == {
        "entered": 20,
        "presented": 16,
        "attendance": 180,
    }
    assert not rolled.deductions and not rolled.overlaps


def test_an_industry_direct_enterprise_is_deducted_from_the_province_with_its_own_figures() -> None:
    shared = qc(employees=200, registered_this_year=20, participants=50, active_groups=15)
    province = table("shanghai", "association", [1, 2, 7], qc(), e7=shared)
    industry = table(
        "machinery", "industry", [7, 8], qc(employees=600), e7=replace(shared, employees=1)
    )
    rolled = roll_up([province, industry], programme_is_qc=True)
    assert rolled.enterprises == 4  # 1, 2, 7, 8: enterprise 7 once
    [deduction] = rolled.deductions
    assert (deduction.credit_code, deduction.unit, deduction.direct_under) == (
        code(7),
        "shanghai",
        ["machinery"],
    )
    assert deduction.source == "association" and deduction.figures is not None
    assert deduction.figures["employees"] == 200  # the province's own share of it
    shanghai, machinery = rolled.units
    assert (shanghai.enterprises, shanghai.deducted) == (2, 1)
    assert shanghai.figures["employees"] == 800 and shanghai.figures["active_groups"] == 65
    assert machinery.figures == vars(industry.form.figures)
    assert rolled.figures["employees"] == 800 + 600
    assert rolled.figures["registered_this_year"] == 80 + 100
    assert rolled.rates["activity_rate"] == (Decimal(145 * 100) / 180).quantize(Decimal("0.01"))
    assert not rolled.overlaps


def test_without_the_provinces_itemisation_the_industrys_figures_are_deducted() -> None:
    province = table("shandong", "association", [1, 7], qc())
    industry = table("machinery", "industry", [7], qc(), e7=qc(employees=300, participants=30))
    [deduction] = roll_up([province, industry], programme_is_qc=True).deductions
    assert deduction.source == "industry" and deduction.figures is not None
    assert deduction.figures["employees"] == 300


def test_an_enterprise_nobody_itemised_is_deducted_as_one_enterprise_and_flagged() -> None:
    province = table("shandong", "association", [1, 7], qc())
    industry = table("machinery", "industry", [7], qc())
    rolled = roll_up([province, industry], programme_is_qc=True)
    [deduction] = rolled.deductions
    assert deduction.figures is None and deduction.source is None
    assert rolled.units[0].enterprises == 1
    assert rolled.figures["employees"] == 2000  # nothing to take its figures from


def test_other_repeats_are_counted_once_and_shown_without_moving_figures() -> None:
    district = table("huangpu", "district", [1, 2], qc())
    group = table("sinopec", "group", [2, 3], qc())
    rolled = roll_up([district, group], programme_is_qc=True)
    assert rolled.enterprises == 3
    assert [(o.credit_code, o.units) for o in rolled.overlaps] == [
        (code(2), ["huangpu", "sinopec"])
    ]
    assert rolled.figures["employees"] == 2000 and not rolled.deductions


def test_groups_are_counted_in_ten_thousands_exactly() -> None:
    assert in_10k(123_456) == Decimal("12.3456")
    assert in_10k(7) == Decimal("0.0007")


def test_before_any_table_is_filed_the_roll_up_is_zero() -> None:
    for is_qc in (True, False):
        rolled = roll_up([], programme_is_qc=is_qc)
        assert rolled.enterprises == 0 and set(rolled.figures.values()) == {0}
        assert ("employees" in rolled.figures) is is_qc
        assert all(v is None for v in rolled.rates.values())
