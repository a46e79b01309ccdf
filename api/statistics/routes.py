"""Statistics (统计): the platform's own figures per tenant and campaign, broken down by
recommending unit, key domain, key industry or topic type; and the roll-up of the units' reported
statistics tables (at national level, of the member associations' forwarded tables), with their
exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from aggregates.actor import Role
from aggregates.campaign import Campaign, CampaignConflict, Programme
from aggregates.problems import Problem
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.platform.exports import XLSX, download, to_xlsx
from api.platform.records import Records
from api.statistics.exports import (
    FIGURE_LABELS,
    deduction_rows,
    figures_rows,
    rollup_rows,
    rollup_unit_rows,
)
from api.statistics.schemas import (
    CampaignStatisticsOut,
    Dimension,
    RollUpOut,
    topic_label,
)
from projections.campaign_figures import CampaignFigures, campaign_figures, tenant_figures
from projections.reported_statistics import reported_tables
from projections.service import TenantViews
from projections.statistics_rollup import RollUp, UnitTable, roll_up
from tenants.registry import Level
from tenants.runtime import TenantRuntime

READERS = only(Role.SECRETARIAT, Role.AUDITOR)
UNIT_READERS = only(Role.RECOMMENDING_UNIT, Role.SECRETARIAT, Role.AUDITOR)


def label_of(runtime: TenantRuntime, by: Dimension | None) -> Callable[[str | None], str | None]:
    """How users read a group's key: the unit's name, 问题解决型, … (a domain or industry as is)."""

    def label(key: str | None) -> str | None:
        if key is None:
            return "（未填）"
        if by is Dimension.RECOMMENDING_UNIT:
            unit = runtime.tenant.unit(key)
            return unit.name_zh if unit else key
        if by is Dimension.TOPIC_TYPE:
            return topic_label(key)
        return key

    return label


def check_counted(campaign: Campaign) -> Campaign:
    """A rehearsal is never counted, not even on its own (ADR 36)."""
    if campaign.is_rehearsal:
        raise CampaignConflict(Problem("campaign_id", "rehearsal", "演练活动不计入统计"))
    return campaign


def figures_of(
    runtime: TenantRuntime,
    views: TenantViews,
    campaign_id: UUID,
    by: Dimension | None,
    filters: dict[str, str | None],
) -> CampaignFigures:
    check_counted(runtime.ledger.get_campaign(campaign_id))  # another tenant's: not found
    db = views.db("campaign_statistics")
    found = campaign_figures(db, str(campaign_id), by.value if by else None, filters)
    if found is None:  # opened a moment ago: let the read model catch up with the ledger
        views.wait(runtime.ledger.recorder.max_notification_id())
        found = campaign_figures(db, str(campaign_id), by.value if by else None, filters)
    if found is None:
        raise RequestProblem(503, Problem("campaign_id", "catching_up", "统计正在更新，请稍后再试"))
    return found


@dataclass(frozen=True)
class RollUpOf:
    campaign: Campaign
    rollup: RollUp
    missing: list[str]
    """Recommending units without a table."""
    national: bool


def rollup_of(runtime: TenantRuntime, views: TenantViews, campaign_id: UUID) -> RollUpOf:
    campaign = check_counted(runtime.ledger.get_campaign(campaign_id))
    tables = reported_tables(views.db("reported_statistics"), campaign.id)
    units = [u for u in runtime.tenant.recommending_units if u.code in tables]
    known = {u.code for u in units}
    read = [UnitTable(u.code, u.name_zh, u.kind.value, tables[u.code]) for u in units]
    read += [UnitTable(code, code, "", form) for code, form in tables.items() if code not in known]
    missing = [u.code for u in runtime.tenant.recommending_units if u.code not in tables]
    return RollUpOf(
        campaign,
        roll_up(read, campaign.programme is not Programme.TEAM),
        missing,
        runtime.tenant.level is Level.NATIONAL,
    )


def campaign_workbook(
    runtime: TenantRuntime, views: TenantViews, campaign_id: UUID, by: Dimension
) -> tuple[bytes, str, str]:
    """The campaign's figures by `by` as an .xlsx: content, media type, file name (the API's and
    the portal's download)."""
    found = figures_of(runtime, views, campaign_id, by, {})
    grades = runtime.grade_names(Programme(found.programme))
    rows = figures_rows(found, grades, label_of(runtime, by))
    return to_xlsx("活动统计", rows), XLSX, f"{found.title}-活动统计.xlsx"


def rollup_workbook(
    runtime: TenantRuntime, views: TenantViews, campaign_id: UUID
) -> tuple[bytes, str, str]:
    """The roll-up of the units' statistics tables as an .xlsx: content, media type, file name."""
    found = rollup_of(runtime, views, campaign_id)
    rollup = found.rollup
    names = {u.code: u.name_zh for u in runtime.tenant.recommending_units}
    reported = f"{len(rollup.units)} 个推荐单位已报，{len(found.missing)} 个未报"
    sheets = {"各推荐单位": rollup_unit_rows(rollup, FIGURE_LABELS)}
    if found.national or rollup.deductions:
        sheets["扣除行业直属企业"] = deduction_rows(rollup, names, FIGURE_LABELS)
    rows = rollup_rows(found.campaign, runtime.tenant.name_zh, rollup, found.national, reported)
    content = to_xlsx("统计表汇总", rows, sheets)
    return content, XLSX, f"{found.campaign.title}-统计表汇总.xlsx"


class StatisticsController(Controller):
    path = "/api/v1/tenants/{tenant:str}"
    tags = ["statistics 统计"]

    @get("/statistics", operation_id="tenantStatistics", sync_to_thread=True, opt=access(READERS))
    def tenant(
        self,
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        programme: FromQuery[Programme | None] = None,
    ) -> list[CampaignStatisticsOut]:
        """Every campaign of the tenant, newest first: its totals and the change on a year
        earlier."""
        rows = tenant_figures(
            views.db("campaign_statistics"), programme.value if programme else None
        )
        return [
            CampaignStatisticsOut.of(
                row, runtime.grade_names(Programme(row.programme)), label_of(runtime, None)
            )
            for row in rows
        ]

    @get(
        "/campaigns/{campaign_id:uuid}/statistics",
        operation_id="campaignStatistics",
        sync_to_thread=True,
        opt=access(UNIT_READERS),
    )
    def campaign(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        by: FromQuery[Dimension | None] = None,
        recommending_unit: FromQuery[str | None] = None,
        key_domain: FromQuery[str | None] = None,
        industry: FromQuery[str | None] = None,
        topic_type: FromQuery[str | None] = None,
    ) -> CampaignStatisticsOut:
        """The campaign's figures, in total and by `by`, for the entries the filters match; a
        recommending unit reads its own."""
        filters = records.statistics_filters(
            recommending_unit=recommending_unit,
            key_domain=key_domain,
            industry=industry,
            topic_type=topic_type,
        )
        found = figures_of(runtime, views, campaign_id, by, filters)
        grades = runtime.grade_names(Programme(found.programme))
        return CampaignStatisticsOut.of(found, grades, label_of(runtime, by))

    @get(
        "/campaigns/{campaign_id:uuid}/statistics.xlsx",
        operation_id="exportCampaignStatisticsXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def campaign_xlsx(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        by: FromQuery[Dimension] = Dimension.RECOMMENDING_UNIT,
    ) -> Response[bytes]:
        return download(*campaign_workbook(runtime, views, campaign_id, by))

    @get(
        "/campaigns/{campaign_id:uuid}/statistics/roll-up",
        operation_id="statisticsRollUp",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def rollup(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> RollUpOut:
        """The units' statistics tables summed, each enterprise counted once; at national level
        what was deducted from the provincial associations (扣除行业直属企业数据)."""
        found = rollup_of(runtime, views, campaign_id)
        return RollUpOut.of(
            str(campaign_id),
            found.campaign.programme.value,
            found.national,
            found.rollup,
            found.missing,
        )

    @get(
        "/campaigns/{campaign_id:uuid}/statistics/roll-up.xlsx",
        operation_id="exportStatisticsRollUpXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def rollup_xlsx(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        return download(*rollup_workbook(runtime, views, campaign_id))
