"""The portal's main navigation: its links, grouped the way each role thinks of its work, and
what of it a reader sees.

`NAVIGATION` is data: one `NavItem` per page a menu leads to, in the order shown, each with the
roles that use it and, where it belongs with others, its `NavGroup`. A reader sees the items of
their roles (and everyone's); a group's items show together at the group's first item, as a
dropdown, unless the reader sees only one of them: then that one shows as a plain link. The
secretariat's seventeen links are nine entries, an applicant's or a reviewer's a short row of
plain links. The page being read is marked in its link and in its group.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from aggregates.actor import Role
from api.portal.i18n import Speaker
from api.portal.labels import N_, NP_
from tenants.registry import Level, Tenant


@dataclass(frozen=True, kw_only=True)
class NavGroup:
    """Links that belong to one kind of work (活动, 评审, 账号), shown under its label."""

    label: str


@dataclass(frozen=True, kw_only=True)
class NavItem:
    """A link of the navigation.

    Shown to everyone when `roles` is None, else to the signed-in holders of one of `roles`; an
    `href` naming `{tenant}` is shown only on a tenant's pages. It is the current page on its own
    path and the paths below it (only on its own with `exact`, for a home page) and on the paths
    of `also` (fnmatch patterns, which may name `{tenant}`); the longest match wins.
    `national_label` replaces `label` on the national association's pages (its 推荐全国 is
    全国接收)."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    group: NavGroup | None = None
    exact: bool = False
    also: tuple[str, ...] = ()
    national_label: str | None = None


@dataclass(frozen=True)
class NavEntry:
    """One entry of a reader's navigation: a link (`href`), or a group of links (`links`).
    `current`: the page being read is this link, or one of this group's."""

    label: str
    href: str = ""
    links: tuple[NavEntry, ...] = ()
    current: bool = False


CAMPAIGNS = NavGroup(label=N_("活动"))
REVIEW = NavGroup(label=N_("评审"))
ACCOUNTS = NavGroup(label=N_("账号"))

SECRETARIAT = frozenset({Role.SECRETARIAT})
READERS = frozenset({Role.SECRETARIAT, Role.AUDITOR})
"""The secretariat runs these pages; auditors read them."""

NAVIGATION: list[NavItem] = [
    NavItem(label=N_("协会首页"), href="/{tenant}/", exact=True),
    # An applicant unit's, a recommending unit's and a reviewer's own work, first.
    NavItem(
        label=N_("我的申报"), href="/{tenant}/applicant/", roles=frozenset({Role.APPLICANT_UNIT})
    ),
    NavItem(
        label=N_("推荐通道"),
        href="/{tenant}/recommending/",
        roles=frozenset({Role.RECOMMENDING_UNIT}),
    ),
    NavItem(
        label=N_("统计表与工作总结"),
        href="/{tenant}/unit-reports",
        roles=frozenset({Role.RECOMMENDING_UNIT}),
        also=("/{tenant}/units/*",),
    ),
    NavItem(label=N_("我的评审"), href="/{tenant}/reviewer/", roles=frozenset({Role.REVIEWER})),
    # The secretariat's year, in the order it runs: the campaign, then its review.
    NavItem(
        label=N_("活动工作台"),
        href="/{tenant}/secretariat/campaigns",
        roles=READERS,
        group=CAMPAIGNS,
    ),
    NavItem(
        label=N_("开设活动"),
        href="/{tenant}/secretariat/campaigns/new",
        roles=SECRETARIAT,
        group=CAMPAIGNS,
    ),
    NavItem(label=N_("推荐决定"), href="/{tenant}/decisions/", roles=SECRETARIAT, group=CAMPAIGNS),
    NavItem(
        label=N_("形式审查与评审方案"), href="/{tenant}/review/", roles=SECRETARIAT, group=REVIEW
    ),
    NavItem(label=N_("评审轮次"), href="/{tenant}/rounds/", roles=READERS, group=REVIEW),
    NavItem(
        label=N_("发表赛"),
        href="/{tenant}/contest/",
        roles=frozenset({Role.SECRETARIAT, Role.REVIEWER}),
        group=REVIEW,
    ),
    NavItem(label=N_("等级认定与发布"), href="/{tenant}/grading/", roles=READERS, group=REVIEW),
    NavItem(
        label=N_("评审专家库"), href="/{tenant}/review/experts", roles=SECRETARIAT, group=REVIEW
    ),
    NavItem(
        label=N_("推荐全国"),
        href="/{tenant}/national/",
        roles=frozenset({Role.SECRETARIAT, Role.AUDITOR, Role.NATIONAL_STAFF}),
        also=("/{tenant}/secretariat/campaigns/*/national-forwarding",),
        national_label=N_("全国接收"),
    ),
    NavItem(
        label=N_("统计"),
        href="/{tenant}/statistics/",
        roles=frozenset({Role.SECRETARIAT, Role.AUDITOR, Role.RECOMMENDING_UNIT}),
    ),
    # The pages' name, not the role's (the same Chinese; in English "Audit", not "Auditor").
    NavItem(label=NP_("page", "审计"), href="/{tenant}/audit", roles=READERS),
    NavItem(
        label=N_("账号与邀请"), href="/{tenant}/staff/accounts/", roles=SECRETARIAT, group=ACCOUNTS
    ),
    NavItem(
        label=N_("单位身份核验"),
        href="/{tenant}/enterprise-claims",
        roles=frozenset({Role.SECRETARIAT, Role.RECOMMENDING_UNIT, Role.AUDITOR}),
        group=ACCOUNTS,
    ),
    NavItem(label=N_("我的账号"), href="/{tenant}/account", roles=frozenset(Role), group=ACCOUNTS),
    # Everyone's, last: a signed-in person rarely needs them.
    NavItem(label=N_("全部协会"), href="/", exact=True),
    NavItem(label=N_("证书查验"), href="/verify"),
]
"""The channels add their pages here, each with the roles that use it (and its group)."""


def navigation(
    roles: set[Role], tenant: Tenant | None, speaker: Speaker, path: str = ""
) -> list[NavEntry]:
    """What a holder of `roles` (none: not signed in) sees on `path`, a page of `tenant` (or of
    no tenant), in `speaker`'s language."""
    code = tenant.code if tenant else ""
    shown = [
        item
        for item in NAVIGATION
        if (item.roles is None or roles & item.roles)
        and (tenant is not None or "{tenant}" not in item.href)
    ]
    current = _current(shown, code, path)
    national = tenant is not None and tenant.level is Level.NATIONAL

    def link(item: NavItem) -> NavEntry:
        label = item.national_label if national and item.national_label else item.label
        return NavEntry(
            label=speaker.gettext(label),
            href=item.href.format(tenant=code),
            current=item is current,
        )

    entries: list[NavEntry] = []
    placed: set[NavGroup] = set()
    for item in shown:
        if item.group is None:
            entries.append(link(item))
        elif item.group not in placed:
            placed.add(item.group)
            links = tuple(link(i) for i in shown if i.group == item.group)
            if len(links) == 1:
                entries.append(links[0])
            else:
                group_label = speaker.gettext(item.group.label)
                current_here = any(one.current for one in links)
                entries.append(NavEntry(label=group_label, links=links, current=current_here))
    return entries


def _current(items: list[NavItem], tenant: str, path: str) -> NavItem | None:
    """The item whose path (or pattern) matches `path` longest; a trailing slash does not count
    (the router serves `/saq/rounds/` as `/saq/rounds`)."""
    here = path.rstrip("/")
    best: tuple[int, NavItem] | None = None
    for item in items:
        own = item.href.format(tenant=tenant).rstrip("/")
        lengths = [len(own)] if here == own else []
        if not item.exact and here.startswith(own + "/"):
            lengths.append(len(own))
        lengths += [
            len(pattern)
            for pattern in (p.format(tenant=tenant) for p in item.also)
            if fnmatchcase(here, pattern)
        ]
        if lengths and (best is None or max(lengths) > best[0]):
            best = (max(lengths), item)
    return best[1] if best else None
