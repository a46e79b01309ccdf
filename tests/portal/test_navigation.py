"""The navigation shows each signed-in person the pages of their roles, grouped by their work, and
everyone the public ones; it marks the page being read."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from aggregates.actor import Role
from api.portal import labels
from api.portal import navigation as nav
from api.portal.i18n import Speaker
from api.portal.navigation import NavEntry, NavItem, navigation
from tenants.registry import Level

SAQ: Any = SimpleNamespace(code="saq", level=Level.PROVINCIAL)
CAQ: Any = SimpleNamespace(code="caq", level=Level.NATIONAL)
PUBLIC_FIRST = "/saq/"
PUBLIC_LAST = ["/", "/verify"]


def shown(entries: list[NavEntry]) -> list[str | tuple[str, list[str]]]:
    """A link as its href; a group as its label and its links' hrefs."""
    return [(e.label, [link.href for link in e.links]) if e.links else e.href for e in entries]


def seen(*roles: Role, tenant: Any = SAQ, path: str = "") -> list[str | tuple[str, list[str]]]:
    return shown(navigation(set(roles), tenant, Speaker("zh-CN"), path))


def test_the_secretariat_sees_its_work_in_groups() -> None:
    assert seen(Role.SECRETARIAT) == [
        PUBLIC_FIRST,
        (
            "活动",
            ["/saq/secretariat/campaigns", "/saq/secretariat/campaigns/new", "/saq/decisions/"],
        ),
        (
            "评审",
            [
                "/saq/review/",
                "/saq/rounds/",
                "/saq/contest/",
                "/saq/grading/",
                "/saq/review/experts",
            ],
        ),
        "/saq/national/",
        "/saq/statistics/",
        "/saq/audit",
        ("账号", ["/saq/staff/accounts/", "/saq/enterprise-claims", "/saq/account"]),
        *PUBLIC_LAST,
    ]


def test_other_roles_see_a_short_navigation() -> None:
    """A group of which the reader sees one link shows as that link."""
    assert seen(Role.APPLICANT_UNIT) == [
        PUBLIC_FIRST,
        "/saq/applicant/",
        "/saq/account",
        *PUBLIC_LAST,
    ]
    assert seen(Role.REVIEWER) == [
        PUBLIC_FIRST,
        "/saq/reviewer/",
        "/saq/contest/",
        "/saq/account",
        *PUBLIC_LAST,
    ]
    assert seen(Role.RECOMMENDING_UNIT) == [
        PUBLIC_FIRST,
        "/saq/recommending/",
        "/saq/unit-reports",
        "/saq/statistics/",
        ("账号", ["/saq/enterprise-claims", "/saq/account"]),
        *PUBLIC_LAST,
    ]
    assert seen(Role.AUDITOR) == [
        PUBLIC_FIRST,
        "/saq/secretariat/campaigns",
        ("评审", ["/saq/rounds/", "/saq/grading/"]),
        "/saq/national/",
        "/saq/statistics/",
        "/saq/audit",
        ("账号", ["/saq/enterprise-claims", "/saq/account"]),
        *PUBLIC_LAST,
    ]
    assert seen(Role.NATIONAL_STAFF, tenant=CAQ) == [
        "/caq/",
        "/caq/national/",
        "/caq/account",
        *PUBLIC_LAST,
    ]
    assert seen() == [PUBLIC_FIRST, *PUBLIC_LAST]
    assert seen(tenant=None) == PUBLIC_LAST


def test_a_person_of_several_roles_sees_each_link_once() -> None:
    assert seen(Role.SECRETARIAT, Role.REVIEWER)[1:3] == [
        "/saq/reviewer/",
        (
            "活动",
            ["/saq/secretariat/campaigns", "/saq/secretariat/campaigns/new", "/saq/decisions/"],
        ),
    ]
    review = seen(Role.SECRETARIAT, Role.REVIEWER)[3]
    assert review == ("评审", [*seen(Role.SECRETARIAT)[2][1]])  # type: ignore[index]


def test_a_channel_adds_a_page_to_a_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new page joins its group where the data puts it (as a channel adds its own); one the
    reader alone sees makes a group of one a plain link no more."""
    desk = NavItem(
        label="活动管理",
        href="/{tenant}/desk",
        roles=frozenset({Role.AUDITOR}),
        group=nav.CAMPAIGNS,
    )
    monkeypatch.setattr(nav, "NAVIGATION", [*nav.NAVIGATION, desk])
    assert seen(Role.AUDITOR)[1] == ("活动", ["/saq/secretariat/campaigns", "/saq/desk"])
    assert ("活动", ["/saq/desk"]) not in seen(Role.SECRETARIAT)


@pytest.mark.parametrize(
    ("path", "current", "group"),
    [
        ("/saq/", "/saq/", None),
        ("/saq/campaigns/1", None, None),  # a home is current on itself only
        ("/saq/secretariat/campaigns", "/saq/secretariat/campaigns", "活动"),
        ("/saq/secretariat/campaigns/1/phases", "/saq/secretariat/campaigns", "活动"),
        ("/saq/secretariat/campaigns/new", "/saq/secretariat/campaigns/new", "活动"),
        ("/saq/secretariat/campaigns/1/national-forwarding", "/saq/national/", None),
        ("/saq/review/1/formal", "/saq/review/", "评审"),
        ("/saq/review/experts/CAQ-1", "/saq/review/experts", "评审"),
        ("/saq/rounds/1/material", "/saq/rounds/", "评审"),
        ("/saq/rounds", "/saq/rounds/", "评审"),  # as the router hands it over
        ("/saq/audit/chain", "/saq/audit", None),
        ("/saq/staff/accounts/1", "/saq/staff/accounts/", "账号"),
        ("/saq/auditx", None, None),
        ("/verify", "/verify", None),
    ],
)
def test_the_page_being_read_is_marked_with_its_group(
    path: str, current: str | None, group: str | None
) -> None:
    entries = navigation({Role.SECRETARIAT}, SAQ, Speaker("zh-CN"), path)
    links = [link for e in entries for link in (e.links or (e,))]
    assert [link.href for link in links if link.current] == ([current] if current else [])
    assert [e.label for e in entries if e.links and e.current] == ([group] if group else [])


def test_a_unit_s_report_pages_are_under_its_reports() -> None:
    entries = navigation(
        {Role.RECOMMENDING_UNIT}, SAQ, Speaker("zh-CN"), "/saq/units/pudong/campaigns/1/statistics"
    )
    assert [e.href for e in entries if e.current] == ["/saq/unit-reports"]


def test_the_labels_are_in_the_readers_language() -> None:
    english = navigation({Role.SECRETARIAT}, SAQ, Speaker("en"))
    assert [e.label for e in english] == [
        "Association home",
        "Campaign",
        "Review",
        "National forwarding",
        "Statistics",
        "Audit",  # the pages' name: the role of the same Chinese is "Auditor"
        "Account",
        "All associations",
        "Certificate verification",
    ]
    assert [link.label for link in english[1].links] == [
        "Campaign desk",
        "Open a campaign",
        "Recommendation decisions",
    ]
    assert labels.role(Speaker("en"), Role.AUDITOR) == "Auditor"  # the role keeps its English
    assert "审计" in [e.label for e in navigation({Role.AUDITOR}, SAQ, Speaker("zh-CN"))]
    national = navigation({Role.NATIONAL_STAFF}, CAQ, Speaker("zh-CN"))
    assert national[1].label == "全国接收"


def test_every_item_is_written_alike() -> None:
    """Keywords only: a positional NavItem is refused."""
    with pytest.raises(TypeError):
        NavItem("协会首页", "/{tenant}/")  # type: ignore[misc]
