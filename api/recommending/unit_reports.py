"""A recommending unit's statistics table (统计表) and work summary (工作总结), with their exports."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from aggregates.actor import Actor
from aggregates.campaign import Campaign
from aggregates.statistics_table import StatisticsTable
from aggregates.work_summary import WorkSummary, counted_characters
from api.platform.access import access
from api.platform.exports import XLSX, download, to_csv, to_xlsx
from api.platform.records import Records
from api.recommending.routes import READERS, UNIT
from api.recommending.schemas import StatisticsIn, StatisticsOut, SummaryIn, SummaryOut
from api.statistics.exports import statistics_rows
from tenants.runtime import TenantRuntime


def summary_out(campaign_id: UUID, unit: str, summary: WorkSummary) -> SummaryOut:
    characters = counted_characters(summary.text)
    return SummaryOut(
        campaign_id=str(campaign_id),
        unit=unit,
        text=summary.text,
        characters=characters,
        version=summary.version,
    )


def statistics_of(
    runtime: TenantRuntime, records: Records, campaign_id: UUID, unit: str
) -> tuple[str, Campaign, StatisticsTable]:
    """What an export of the statistics table needs: the unit's name, the campaign, the table."""
    name = records.unit_name(runtime, unit, own=False)
    return (
        name,
        runtime.ledger.get_campaign(campaign_id),
        runtime.ledger.get_statistics(campaign_id, unit),
    )


class UnitReportController(Controller):
    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}/units/{unit:str}"
    tags = ["recommendations 推荐"]

    @put("/statistics", operation_id="recordStatistics", sync_to_thread=True, opt=access(UNIT))
    def record_statistics(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[StatisticsIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> StatisticsOut:
        records.unit_name(runtime, unit, own=True)
        return StatisticsOut.of(
            runtime.ledger.record_statistics(campaign_id, unit, data.to_form(), actor)
        )

    @get("/statistics", operation_id="showStatistics", sync_to_thread=True, opt=access(READERS))
    def show_statistics(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> StatisticsOut:
        records.unit_name(runtime, unit, own=False)
        return StatisticsOut.of(runtime.ledger.get_statistics(campaign_id, unit))

    @get(
        "/statistics.xlsx",
        operation_id="exportStatisticsXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def statistics_xlsx(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        name, campaign, table = statistics_of(runtime, records, campaign_id, unit)
        enterprises: list[list[object]] = [["序号", "统一社会信用代码"]]
        enterprises += [[i, code] for i, code in enumerate(table.form.enterprises, 1)]
        content = to_xlsx(
            "统计表", statistics_rows(campaign, name, table), {"企业清单": enterprises}
        )
        return download(content, XLSX, f"{name}-统计表.xlsx")

    @get(
        "/statistics.csv",
        operation_id="exportStatisticsCsv",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def statistics_csv(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        name, campaign, table = statistics_of(runtime, records, campaign_id, unit)
        return download(
            to_csv(statistics_rows(campaign, name, table)),
            "text/csv; charset=utf-8",
            f"{name}-统计表.csv",
        )

    @put("/work-summary", operation_id="writeWorkSummary", sync_to_thread=True, opt=access(UNIT))
    def write_summary(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[SummaryIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> SummaryOut:
        records.unit_name(runtime, unit, own=True)
        return summary_out(
            campaign_id, unit, runtime.ledger.write_summary(campaign_id, unit, data.text, actor)
        )

    @get("/work-summary", operation_id="showWorkSummary", sync_to_thread=True, opt=access(READERS))
    def show_summary(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> SummaryOut:
        records.unit_name(runtime, unit, own=False)
        return summary_out(campaign_id, unit, runtime.ledger.get_summary(campaign_id, unit))
