"""The forms a campaign's notice attaches, blank, to download as .xlsx: the registration form
(报名表), the recommendation form (推荐表) and the statistics table (统计表), laid out like the
seeds' forms. The recommendation form and statistics table are the exporters' own layouts with
nothing filled in; the registration form is written here from the domain's form and lists."""

from __future__ import annotations

from aggregates.campaign import Campaign, Phase
from aggregates.registration import Intent, Nature
from api.platform.exports import RecommendationSheet, recommendation_rows, to_xlsx
from api.portal.labels import N_
from api.statistics.exports import blank_statistics_rows
from tenants.registry import Tenant

FORMS = {
    "registration": N_("报名表"),
    "recommendation": N_("推荐表"),
    "statistics": N_("统计表"),
}
"""Each form's code (its URL) and its name, as the seeds call them."""


def forms_of(campaign: Campaign) -> list[str]:
    """The forms of this campaign: the registration form only where it has a registration."""
    return [
        code for code in FORMS if code != "registration" or Phase.REGISTRATION in campaign.timeline
    ]


def registration_rows(campaign: Campaign, tenant: Tenant) -> list[list[object]]:
    box = "□"
    industries: list[list[object]] = [
        [group.group, "　".join(f"{box}{name}" for name in group.names)]
        for group in tenant.key_industries
    ]
    return [
        [f"{campaign.title}报名表"],
        ["单位名称（以公章为准）", ""],
        ["是否会员单位", f"{box}是　{box}否"],
        ["单位性质", "　".join(f"{box}{n.value}" for n in Nature) + "____"],
        ["重点产业", ""],
        *industries,
        ["", f"{box}其他____"],
        ["重点领域（单选）", "　".join(f"{box}{d}" for d in tenant.key_domains)],
        ["通讯地址", ""],
        ["邮编", ""],
        ["活动归口管理部门", ""],
        ["活动推进者", "姓名", "部门及职务", "手机", "邮箱"],
        ["", "", "", "", ""],
        ["申报意向", "\n".join(f"{box}{i.value}" for i in Intent)],
        [
            f"联系人：{campaign.contact.get('person', '')}　电话：{campaign.contact.get('phone', '')}"
        ],
    ]


def blank_form(code: str, campaign: Campaign, tenant: Tenant) -> bytes:
    """The form as an .xlsx workbook (KeyError for a form the campaign does not have)."""
    if code not in forms_of(campaign):
        raise KeyError(code)
    if code == "registration":
        rows = registration_rows(campaign, tenant)
    elif code == "recommendation":
        sheet = RecommendationSheet(
            campaign=campaign,
            unit_name="",
            entries=[],
            reviewers=[],
            filled_by="",
            phone="",
            filed="",
        )
        rows = recommendation_rows(sheet)
    else:
        rows = blank_statistics_rows(campaign)
    return to_xlsx(FORMS[code], rows)
