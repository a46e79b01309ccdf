"""The navigation shows each signed-in person the pages of their roles, and everyone the public
ones."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from aggregates.actor import Role
from api.portal import rendering
from api.portal.i18n import Speaker
from api.portal.rendering import NavItem, Viewer, navigation
from tenants.registry import Level


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secretariat-only page joins the navigation (as a channel adds its own)."""
    items = [
        *rendering.NAVIGATION,
        NavItem("活动管理", "/{tenant}/desk", frozenset({Role.SECRETARIAT})),
    ]
    monkeypatch.setattr(rendering, "NAVIGATION", items)


def viewer(*roles: Role) -> Viewer:
    principal: Any = SimpleNamespace(roles=set(roles))
    return Viewer(principal)


def links(shown: Viewer, tenant: Any) -> list[str]:
    return [item["href"] for item in navigation(shown, tenant, Speaker("zh-CN"))]


def test_a_role_sees_its_own_pages_and_the_public_ones(desk: None) -> None:
    saq: Any = SimpleNamespace(code="saq", level=Level.PROVINCIAL)
    public = ["/saq/", "/", "/verify"]
    assert links(viewer(Role.SECRETARIAT), saq) == [
        *public,
        "/saq/account",
        "/saq/enterprise-claims",
        "/saq/national/",
        "/saq/audit",
        "/saq/secretariat/campaigns/new",
        "/saq/review/",
        "/saq/review/experts",
        "/saq/staff/accounts/",
        "/saq/decisions/",
        "/saq/secretariat/campaigns",
        "/saq/rounds/",
        "/saq/grading/",
        "/saq/contest/",
        "/saq/statistics/",
        "/saq/desk",
    ]
    assert links(viewer(Role.REVIEWER), saq) == [
        *public,
        "/saq/account",
        "/saq/reviewer/",
        "/saq/contest/",
    ]
    assert links(viewer(Role.APPLICANT_UNIT), saq) == [*public, "/saq/applicant/", "/saq/account"]
    assert links(Viewer(), saq) == ["/saq/", "/", "/verify"]
    assert links(Viewer(), None) == ["/", "/verify"]


def test_the_national_association_reads_its_intake_where_a_province_forwards() -> None:
    def label(tenant: Any) -> str:
        shown = navigation(viewer(Role.SECRETARIAT), tenant, Speaker("zh-CN"))
        return next(i["label"] for i in shown if i["href"].endswith("/national/"))

    assert label(SimpleNamespace(code="saq", level=Level.PROVINCIAL)) == "推荐全国"
    assert label(SimpleNamespace(code="caq", level=Level.NATIONAL)) == "全国接收"


def test_the_labels_are_in_the_readers_language() -> None:
    english = [item["label"] for item in navigation(Viewer(), None, Speaker("en"))]
    assert english == ["All associations", "Certificate verification"]
