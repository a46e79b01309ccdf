"""Statistics (统计) in the browser: a tenant's campaigns year over year, a campaign's figures by
recommending unit, key domain, key industry or topic type (tables with rates beside the counts,
and charts drawn as server-rendered SVG, ADR 42), the roll-up of the units' statistics tables,
and the exports.

The same reads as the JSON API (`api/statistics/routes.py`): the figures are the API's own response
types built from the same read models, so the page shows what the API answers; a recommending
unit reads its own unit's figures (`Records.statistics_filters`, a 404 page otherwise). The
filters are a GET form, so a view is a URL that can be shared."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar import Response as HttpResponse
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from markupsafe import Markup, escape

from aggregates.campaign import Programme
from aggregates.submission_forms import TOPIC_TYPE_NAMES_ZH
from api.platform.access import access
from api.platform.exports import download
from api.platform.records import Records
from api.portal.labels import N_
from api.portal.rendering import Page
from api.statistics.exports import FIGURE_LABELS
from api.statistics.routes import (
    READERS,
    UNIT_READERS,
    campaign_workbook,
    figures_of,
    label_of,
    rollup_of,
    rollup_workbook,
)
from api.statistics.schemas import CampaignStatisticsOut, Dimension, RollUpOut
from projections.campaign_figures import tenant_figures
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

DIMENSION_NAMES = {
    Dimension.RECOMMENDING_UNIT: N_("推荐单位"),
    Dimension.KEY_DOMAIN: N_("重点领域"),
    Dimension.INDUSTRY: N_("重点产业"),
    Dimension.TOPIC_TYPE: N_("课题类型"),
}
STAGE_NAMES = {
    "registrations": N_("报名数"),
    "submissions": N_("申报数"),
    "recommended": N_("推荐数"),
    "formal_passed": N_("形式审查通过数"),
    "graded": N_("获评数"),
    "forwarded": N_("推荐全国数"),
    "national_graded": N_("全国获评数"),
}
"""The funnel's stages, in order (`projections.campaign_figures.STAGES`)."""
RATE_NAMES = {
    "recommendation_rate": N_("推荐率"),
    "formal_pass_rate": N_("形式审查通过率"),
    "grading_rate": N_("获评率"),
    "forwarding_rate": N_("推荐全国率"),
    "national_grading_rate": N_("全国获评率"),
}
TABLE_RATE_NAMES = {
    "coverage": N_("普及率"),
    "result_rate": N_("成果率"),
    "activity_rate": N_("活动率"),
}
SOURCE_NAMES = {
    "association": N_("该协会分项填报的数据"),
    "industry": N_("行业协会填报的数据"),
}
PROGRAMME_NAMES = {
    Programme.QC_GROUP: N_("QC小组"),
    Programme.TEAM: N_("质量信得过班组"),
}
FILTERS = ("recommending_unit", "key_domain", "industry", "topic_type")
WIDTH = 400
"""The charts' viewBox width; they scale to the page (CSS), so a phone reads them too."""
ROW = 34
"""One bar's height in the viewBox, its label above it."""


def percent(value: Decimal | str | None) -> str:
    return "—" if value is None else f"{value}%"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    previous: int | None = None
    previous_x: float | None = None


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: one mark (`rect.mark`) per group, its value written at its end;
    the table beside it is its text alternative."""

    key: str
    title: str
    bars: list[Bar]
    height: int
    legend: str = ""
    width: int = WIDTH


def chart(
    key: str,
    title: str,
    items: Iterable[tuple[str, int, int | None]],
    legend: str = "",
) -> Chart:
    """Bars of (label, value, the value a year earlier or None), scaled to the largest."""
    rows = list(items)
    top = max([1, *(v for _, v, _ in rows), *(p for _, _, p in rows if p is not None)])
    span = WIDTH - 60
    bars = [
        Bar(
            label=label,
            value=value,
            y=i * ROW,
            width=round(span * value / top, 1),
            previous=previous,
            previous_x=None if previous is None else round(span * previous / top, 1),
        )
        for i, (label, value, previous) in enumerate(rows)
    ]
    return Chart(key, title, bars, max(ROW, len(bars) * ROW), legend)


def _filters(
    dimension: str | None, values: Mapping[str, str | None]
) -> tuple[Dimension | None, dict[str, str | None]]:
    by = Dimension(dimension) if dimension in set(Dimension) else None
    return by, {k: (values.get(k) or None) for k in FILTERS}


def _options(runtime: TenantRuntime, only_units: set[str] | None) -> dict[str, list[list[str]]]:
    """Each filter's choices, as [value, label]."""
    tenant = runtime.tenant
    units = [
        [u.code, u.name_zh]
        for u in tenant.recommending_units
        if only_units is None or u.code in only_units
    ]
    industries = [[n, n] for group in tenant.key_industries for n in group.names]
    return {
        "recommending_unit": units,
        "key_domain": [[d, d] for d in tenant.key_domains],
        "industry": industries,
        "topic_type": [[t.value, name] for t, name in TOPIC_TYPE_NAMES_ZH.items()],
    }


def _campaign_charts(page: Page, found: dict[str, Any]) -> list[Chart]:
    gettext = page.speaker.gettext
    totals = found["totals"]["figures"]
    last = found["totals"]["previous_year"]
    stages = [s for s in STAGE_NAMES if totals.get(s) is not None]
    charts = [
        chart(
            "funnel",
            gettext("各阶段数量（漏斗）"),
            ((gettext(STAGE_NAMES[s]), totals[s], None) for s in stages),
        )
    ]
    if found["groups"]:
        charts.append(
            chart(
                "graded",
                gettext("各组获评数"),
                (
                    (g["label"] or gettext("（未填）"), g["figures"]["graded"], None)
                    for g in found["groups"]
                ),
            )
        )
    if last is not None:
        charts.append(
            chart(
                "years",
                gettext("与上一年度相比"),
                ((gettext(STAGE_NAMES[s]), totals[s], last.get(s) or 0) for s in stages),
                legend=gettext("竖线为上一年度的数量"),
            )
        )
    return charts


def _stages(gettext: Callable[[str], str], figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": s, "name": gettext(n), "value": figures[s]}
        for s, n in STAGE_NAMES.items()
        if figures.get(s) is not None
    ]


GroupRow = tuple[str, str, list[tuple[str, str, str]], int, str, list[tuple[str, str, str]]]
"""One group of the tables by dimension: its key ('' when not given), its label, its cells per
stage shown (stage name, key, count or —), its withdrawn count, its grades (一等奖 3、二等奖 5, or
—) and its cells per rate (rate name, key, value)."""


def _group_rows(
    gettext: Callable[[str], str],
    groups: list[dict[str, Any]],
    stages: list[dict[str, Any]],
    rate_names: Mapping[str, str],
) -> list[GroupRow]:
    """The groups' rows as plain tuples of what each cell shows, worked out once in Python: the
    template then reads no attribute of a dict (Jinja tries getattr first, raising and catching
    an AttributeError each time), calls no function per cell and translates nothing per row.
    Translations stay unescaped Markup, as `_()` gives them in the template."""
    not_given = Markup(gettext("（未填）"))  # noqa: S704 (our catalog, as the template's _())
    comma = Markup(gettext("、"))  # noqa: S704 (our catalog, as the template's _())
    shown = [(s["name"], s["key"]) for s in stages]
    rates = list(rate_names.items())
    rows: list[GroupRow] = []
    for g in groups:
        figures = g["figures"]
        counts = [
            (name, key, "—" if figures[key] is None else str(figures[key])) for name, key in shown
        ]
        grades = comma.join(escape(f"{gr['name']} {gr['count']}") for gr in figures["grades"])
        values = [(name, key, percent(figures["rates"].get(key))) for key, name in rates]
        rows.append(
            (
                g["key"] or "",
                g["label"] or not_given,
                counts,
                figures["withdrawn"],
                grades or "—",
                values,
            )
        )
    return rows


class StatisticsPages(Controller):
    path = "/{tenant:str}/statistics"
    include_in_schema = False

    @get("/", operation_id="portalStatistics", sync_to_thread=True, opt=access(UNIT_READERS))
    def overview(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        programme: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """Every campaign of a programme, year over year (the secretariat and auditors); a
        recommending unit, the campaigns to open its own figures of."""
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        gettext = page.speaker.gettext
        chosen = Programme(programme) if programme in set(Programme) else None
        rows: list[dict[str, Any]] = []
        campaigns: list[dict[str, Any]] = []
        if records.sees_everything:
            for row in tenant_figures(
                views.db("campaign_statistics"), chosen.value if chosen else None
            ):
                out = CampaignStatisticsOut.of(
                    row, runtime.grade_names(Programme(row.programme)), label_of(runtime, None)
                )
                rows.append(msgspec.to_builtins(out))
        else:
            campaigns = [
                {"id": c.campaign_id, "title": c.title, "year": c.year}
                for c in list_campaigns(views.db("campaign_list"))
                if not c.rehearsal and (chosen is None or c.programme == chosen.value)
            ]
        charts = []
        for p in Programme:
            mine = sorted((r for r in rows if r["programme"] == p.value), key=lambda r: r["year"])
            if mine:
                charts.append(
                    chart(
                        f"years-{p.value}",
                        gettext("%(programme)s：历年申报数")
                        % {"programme": gettext(PROGRAMME_NAMES[p])},
                        (
                            (str(r["year"]), r["totals"]["figures"]["submissions"], None)
                            for r in mine
                        ),
                    )
                )
        return page.render(
            "statistics/overview.html",
            rows=rows,
            campaigns=campaigns,
            charts=charts,
            programme=chosen.value if chosen else "",
            programmes=[[p.value, gettext(n)] for p, n in PROGRAMME_NAMES.items()],
            programme_names={p.value: gettext(n) for p, n in PROGRAMME_NAMES.items()},
            rate_names={k: gettext(v) for k, v in RATE_NAMES.items()},
            percent=percent,
            base=f"/{runtime.tenant.code}/statistics",
        )

    @get(
        "/campaigns/{campaign_id:uuid}",
        operation_id="portalCampaignStatistics",
        sync_to_thread=True,
        opt=access(UNIT_READERS),
    )
    def campaign(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        campaign_id: FromPath[UUID],
        by: Annotated[str | None, QueryParameter(max_length=40)] = None,
        recommending_unit: Annotated[str | None, QueryParameter(max_length=100)] = None,
        key_domain: Annotated[str | None, QueryParameter(max_length=100)] = None,
        industry: Annotated[str | None, QueryParameter(max_length=100)] = None,
        topic_type: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Template:
        """The campaign's figures, in total and by the chosen dimension, for the entries the
        filters match, as tables and charts; a recommending unit reads its own."""
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        gettext = page.speaker.gettext
        dimension, typed = _filters(
            by,
            {
                "recommending_unit": recommending_unit,
                "key_domain": key_domain,
                "industry": industry,
                "topic_type": topic_type,
            },
        )
        filters = records.statistics_filters(**typed)
        read = figures_of(runtime, views, campaign_id, dimension, filters)
        grades = runtime.grade_names(Programme(read.programme))
        found = msgspec.to_builtins(
            CampaignStatisticsOut.of(read, grades, label_of(runtime, dimension))
        )
        everything = records.sees_everything
        base = f"/{runtime.tenant.code}/statistics/campaigns/{campaign_id}"
        export_by = (dimension or Dimension.RECOMMENDING_UNIT).value
        stages = _stages(gettext, found["totals"]["figures"])
        rate_names = {k: gettext(v) for k, v in RATE_NAMES.items()}
        return page.render(
            "statistics/campaign.html",
            found=found,
            stages=stages,
            group_rows=_group_rows(gettext, found["groups"], stages, rate_names),
            previous_stages=(
                _stages(gettext, found["totals"]["previous_year"])
                if found["totals"]["previous_year"]
                else []
            ),
            charts=_campaign_charts(page, found),
            by=dimension.value if dimension else "",
            chosen={k: v or "" for k, v in filters.items()},
            dimensions=[[d.value, gettext(n)] for d, n in DIMENSION_NAMES.items()],
            dimension_name=gettext(DIMENSION_NAMES[dimension]) if dimension else "",
            options=_options(runtime, None if everything else records.units()),
            filter_names={d.value: gettext(n) for d, n in DIMENSION_NAMES.items()},
            stage_names={k: gettext(v) for k, v in STAGE_NAMES.items()},
            rate_names=rate_names,
            percent=percent,
            everything=everything,
            base=base,
            overview=f"/{runtime.tenant.code}/statistics/",
            export=f"{base}/statistics.xlsx?by={export_by}",
            export_by=gettext(DIMENSION_NAMES[Dimension(export_by)]),
            rollup=f"{base}/roll-up",
            api=f"/api/v1/tenants/{runtime.tenant.code}/campaigns/{campaign_id}/statistics"
            + (f"?{request.url.query}" if request.url.query else ""),
        )

    @get(
        "/campaigns/{campaign_id:uuid}/statistics.xlsx",
        operation_id="portalCampaignStatisticsXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def campaign_xlsx(
        self,
        views: NamedDependency[TenantViews],
        campaign_id: FromPath[UUID],
        by: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> HttpResponse[bytes]:
        """The API's export (`exportCampaignStatisticsXlsx`), one click from the page."""
        dimension = Dimension(by) if by in set(Dimension) else Dimension.RECOMMENDING_UNIT
        return download(*campaign_workbook(views.runtime, views, campaign_id, dimension))

    @get(
        "/campaigns/{campaign_id:uuid}/roll-up",
        operation_id="portalStatisticsRollUp",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def rollup(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        campaign_id: FromPath[UUID],
    ) -> Template:
        """The units' statistics tables summed: who filed and who has not, each unit's line, the
        overlaps, and nationally the 万个 figures and each deduction with its source."""
        runtime = views.runtime
        page = Page(request, runtime.tenant)
        gettext = page.speaker.gettext
        read = rollup_of(runtime, views, campaign_id)
        found = msgspec.to_builtins(
            RollUpOut.of(
                str(campaign_id),
                read.campaign.programme.value,
                read.national,
                read.rollup,
                read.missing,
            )
        )
        names = {u.code: u.name_zh for u in runtime.tenant.recommending_units}
        figure_names = {k: gettext(v) for k, v in FIGURE_LABELS.items()}
        units = found["units"]
        charts = []
        if units:
            first = next(iter(found["figures"]), None)
            if first is not None:
                charts.append(
                    chart(
                        "units",
                        gettext("各推荐单位：%(figure)s")
                        % {"figure": figure_names.get(first, first)},
                        ((u["unit_name"], int(u["figures"].get(first) or 0), None) for u in units),
                    )
                )
        base = f"/{runtime.tenant.code}/statistics/campaigns/{campaign_id}"
        return page.render(
            "statistics/rollup.html",
            title=read.campaign.title,
            found=found,
            charts=charts,
            names=names,
            figure_names=figure_names,
            rate_names={k: gettext(v) for k, v in TABLE_RATE_NAMES.items()},
            source_names={k: gettext(v) for k, v in SOURCE_NAMES.items()},
            percent=percent,
            campaign_page=base,
            export=f"{base}/roll-up.xlsx",
        )

    @get(
        "/campaigns/{campaign_id:uuid}/roll-up.xlsx",
        operation_id="portalStatisticsRollUpXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def rollup_xlsx(
        self, views: NamedDependency[TenantViews], campaign_id: FromPath[UUID]
    ) -> HttpResponse[bytes]:
        """The API's roll-up export (`exportStatisticsRollUpXlsx`), one click from the page."""
        return download(*rollup_workbook(views.runtime, views, campaign_id))
