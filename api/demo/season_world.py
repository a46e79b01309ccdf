"""The rebuild benchmark's world: each tenant's applicant units (valid credit codes, its real
recommending units, key domains and key industries), its reviewers, and the calendars, rules and
review plans its campaigns are run with. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from aggregates.campaign import CampaignRules, Phase, Programme, Window
from aggregates.credit_code import ALPHABET, check_character
from aggregates.expert import Certificate, ExpertProfile
from aggregates.registration import Intent, Nature, Promoter, RegistrationForm
from aggregates.review_plan import GradeBand, ReviewPlan, RoundPlan
from tenants.registry import Tenant, UnitKind

BEIJING = ZoneInfo("Asia/Shanghai")


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Administrative division codes (positions 3-8 of a credit code) by tenant, and by the national
# tenant's member associations (its recommending units, in division-code order).
REGIONS = {
    "saq": [f"3101{n:02d}" for n in (1, 4, 5, 6, 7, 9, 10, 12, 13, 14, 15, 16, 17, 18, 20, 51)],
    "sdaq": [f"37{n:02d}00" for n in range(1, 18)],
}
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
PROVINCES += [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 66]
PLACES = {"saq": "上海", "sdaq": "山东", "cmiqa": "", "caq": ""}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌海燕鹏飞宇辉晨欣悦博浩然婷雪峰"
BRANDS = words(
    "华东 申达 宏盛 新纪元 恒力 中联 金桥 浦江 东方 远大 海天 鲁信 泰山 齐鲁 银河 长城 瑞丰 鼎盛 利华 天成 汇通 永安 富达 安泰 明珠 振华 光大 国泰 信达 宝丰"
)
TRADES = words(
    "精密机械 汽车零部件 电子科技 生物医药 化工 电力设备 建设工程 物流 信息技术 新材料 食品 纺织 船舶配套 航空部件 医疗器械 环保科技 燃气 水务 重型机械 轴承 液压 数控机床 电缆 仪器仪表"
)
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")


def beijing(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BEIJING)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def credit_code(rng: random.Random, region: str) -> str:
    """A valid unified social credit code of an enterprise (工商, 企业) registered in `region`."""
    first17 = "91" + region + "".join(rng.choices(ALPHABET[:10] * 3 + ALPHABET[10:], k=9))
    return first17 + check_character(first17)


@dataclass(frozen=True)
class Applicant:
    """An applicant unit (申报单位) and what its forms say about it."""

    credit_code: str
    name: str
    unit: str
    """Its recommending unit's code (or the direct channel)."""
    domain: str
    industries: tuple[str, ...]
    nature: Nature
    postcode: str
    account: str
    """The user id its accounts act as."""

    @property
    def block(self) -> dict[str, object]:
        """The applicant block of a draft, as the API checks and stores it."""
        return {
            "unit_name": self.name,
            "key_domain": self.domain,
            "key_industries": list(self.industries),
        }


def population(tenant: Tenant, size: int, seed: int) -> list[Applicant]:
    """`size` applicant units of a tenant, spread over its own recommending units (a national
    tenant's member associations that are tenants themselves forward instead of filing here)."""
    rng = random.Random(f"{seed}/{tenant.code}/population")
    units = [u for u in tenant.recommending_units if u.tenant is None]
    weights = [
        {UnitKind.DIRECT: 1, UnitKind.GROUP: 3, UnitKind.INDUSTRY: 3}.get(u.kind, 5) for u in units
    ]
    industries = [name for group in tenant.key_industries for name in group.names]
    found: dict[str, Applicant] = {}
    names: set[str] = set()
    while len(found) < size:
        unit = rng.choices(units, weights)[0]
        n = len(found)
        if tenant.code in REGIONS:
            region = rng.choice(REGIONS[tenant.code])
        elif tenant.code == "caq" and unit.kind is UnitKind.ASSOCIATION:
            index = [u.code for u in units].index(unit.code) % len(PROVINCES)
            region = f"{PROVINCES[index]}{rng.randrange(1, 20):02d}00"
        else:
            region = f"{rng.choice(PROVINCES)}0100"
        name = (
            f"{PLACES[tenant.code]}{rng.choice(BRANDS)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        )
        if name in names:
            name = f"{name.removesuffix('公司')}第{n}分公司"
        names.add(name)
        code = credit_code(rng, region)
        found[code] = Applicant(
            credit_code=code,
            name=name,
            unit=unit.code,
            domain=rng.choice(tenant.key_domains),
            industries=tuple(rng.sample(industries, k=rng.choice((1, 1, 2)))),
            nature=rng.choice([Nature.STATE_OWNED] * 3 + [Nature.PRIVATE] * 3 + list(Nature)[2:5]),
            postcode=f"{region[:2]}{rng.randrange(10000):04d}",
            account=f"{tenant.code}-user-{n:06d}",
        )
    return list(found.values())


def registration_form(applicant: Applicant, rng: random.Random) -> RegistrationForm:
    name = person(rng)
    return RegistrationForm(
        unit_name=applicant.name,
        member_unit=rng.random() < 0.6,
        nature=applicant.nature,
        key_industries=list(applicant.industries),
        key_domain=applicant.domain,
        address=f"{applicant.name[:4]}路{rng.randrange(1, 999)}号",
        postcode=applicant.postcode,
        managing_department=rng.choice(("质量管理部", "质量部", "企业管理部", "技术质量部")),
        promoter=Promoter(
            name, "质量管理部 主管", mobile(rng), f"qc{rng.randrange(10**6)}@example.cn"
        ),
        intents=[
            rng.choice((Intent.PROBLEM_SOLVING, Intent.INNOVATIVE, Intent.CONTINUING_NO_TOPIC))
        ],
    )


def expert_profile(
    tenant: Tenant, n: int, enrolled: int, rng: random.Random, employers: list[Applicant]
) -> ExpertProfile:
    """The n-th reviewer of a tenant's pool; some work for an applicant unit (a conflict)."""
    employer = rng.choice(employers) if employers and rng.random() < 0.25 else None
    kind = {"caq": "中国质协QC小组活动诊断师", "cmiqa": "机械工业QC小组诊断师"}.get(
        tenant.code, f"{tenant.short_name_zh}QC小组评审员"
    )
    return ExpertProfile(
        name=person(rng),
        work_unit=employer.name if employer else f"{tenant.short_name_zh}质量研究所第{n % 9 + 1}室",
        work_unit_credit_code=employer.credit_code if employer else None,
        mobile=mobile(rng),
        certificate=Certificate(
            kind=kind,
            number=f"{tenant.code.upper()}-QC-{enrolled}-{n:04d}",
            issuing_body=tenant.name_zh,
            level=rng.choice(("评审员", "评审员", "高级评审员", "评审组长")),
            valid_until=date(enrolled + 4, 12, 31),
        ),
    )


# Campaign calendars (Beijing time): member associations review in spring and summer and forward
# in the autumn; the national tenant takes forwards until 20 October and reviews until December.
MEMBER_CALENDAR = {
    Phase.REGISTRATION: ((2, 1), (5, 1)),
    Phase.SUBMISSION: ((2, 1), (5, 1)),
    Phase.RECOMMENDATION: ((3, 1), (6, 1)),
    Phase.FORMAL_REVIEW: ((6, 1), (6, 15)),
    Phase.MATERIAL_REVIEW: ((6, 15), (8, 1)),
    Phase.PRESENTATION: ((8, 1), (8, 20)),
    Phase.GRADING: ((8, 20), (9, 1)),
    Phase.PUBLIC_NOTICE: ((9, 1), (9, 8)),
    Phase.PUBLICATION: ((9, 8), (10, 1)),
    Phase.NATIONAL_FORWARDING: ((9, 10), (10, 20)),
}
NATIONAL_CALENDAR = {
    Phase.REGISTRATION: ((5, 1), (8, 1)),
    Phase.SUBMISSION: ((5, 1), (8, 15)),
    Phase.RECOMMENDATION: ((6, 1), (10, 20)),
    Phase.FORMAL_REVIEW: ((10, 21), (11, 5)),
    Phase.MATERIAL_REVIEW: ((11, 5), (12, 1)),
    Phase.PUBLIC_NOTICE: ((12, 1), (12, 8)),
    Phase.PUBLICATION: ((12, 8), (12, 31)),
}


def timeline(year: int, national: bool) -> dict[Phase, Window]:
    calendar = NATIONAL_CALENDAR if national else MEMBER_CALENDAR
    return {
        phase: Window(beijing(year, *opens), beijing(year, *closes))
        for phase, (opens, closes) in calendar.items()
    }


def rules(tenant: Tenant, programme: Programme) -> CampaignRules:
    base = CampaignRules.defaults_for(programme)
    if tenant.code == "caq":
        return CampaignRules(
            results_per_applicant_min=1,
            results_per_applicant_max=2,
            distinct_topic_types=False,
            recommendations_per_applicant_max=2,
            recommending_unit_quota=15,
        )
    if tenant.code == "sdaq" and programme is Programme.QC_GROUP:
        return CampaignRules(results_per_applicant_max=4, recommendations_per_applicant_max=4)
    return base


def review_plan(tenant: Tenant, programme: Programme) -> ReviewPlan:
    grades = [g.code for g in tenant.programmes[programme].grades]
    contest = programme is Programme.QC_GROUP and tenant.code != "caq"
    rounds = [
        RoundPlan("initial", "初评", reviewers_per_submission=3, aggregation="mean"),
        RoundPlan("final", "复评", reviewers_per_submission=5, aggregation="trimmed_mean"),
    ]
    if contest:
        rounds.append(RoundPlan("contest", "发表赛", "presentation", 5, "trimmed_mean"))
    lines = (Decimal(85), Decimal(76), Decimal(62))
    bands = tuple(
        GradeBand(
            grade=code,
            min_score=lines[i] if len(grades) > 1 else Decimal(80),
            quota=None if i else 25,
            requires_presentation=contest and i == 0,
            requires_video=contest and i == 0,
        )
        for i, code in enumerate(grades[:3])
    )
    return ReviewPlan(rounds=tuple(rounds), bands=bands)
