"""The rebuild benchmark's paperwork: Chinese prose of realistic lengths, the QC-result and team
application forms, attachments, statistics tables and work summaries, as units fill them in."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from decimal import Decimal
from functools import cache

from aggregates.campaign import Programme
from aggregates.statistics_table import (
    REVIEW_FORMS,
    Meeting,
    QcFigures,
    StatisticsForm,
    TeamFiguresTable,
)
from aggregates.submission import Attachment, AttachmentKind
from aggregates.submission_forms import QcResultForm, TeamFigures, TeamForm, TopicType
from api.demo.season_world import Applicant, mobile, person, words

DEPARTMENTS = words(
    "装配 机加工 焊接 铸造 质检 涂装 冲压 热处理 调试 仓储 运维 检修 计量 客服 物流 工艺 设备 营业 护理 药剂"
)
PRODUCTS = words(
    "转向节 齿轮箱 电机定子 变压器绕组 焊缝 铸件 管道接口 电缆接头 包装袋 注塑件 轴承座 仪表盘 控制柜 输液器 钢构件 阀门"
)
DEFECTS = words("气孔 漏焊 尺寸超差 划伤 变形 渗漏 装配错误 标识错误 返修 毛刺")
PROCESSES = words("换型 调试 巡检 装配 发货 检测 配料 交接班 报修响应 开票")
DEVICES = words(
    "自动定位工装 在线检测装置 智能扭矩扳手 快速换模装置 防错料架 便携式检漏仪 数字化点检系统 机器人焊接夹具"
)
SENTENCES = (
    "小组成立于{y}年，现有成员{n}人，平均年龄{a}岁，其中高级职称{h}人、技师{t}人。",
    "小组围绕“{topic}”开展活动，严格按照PDCA循环逐步推进，各阶段均有记录可查。",
    "通过现状调查，小组收集了连续{m}个月的生产数据，发现{defect}是影响质量的主要问题，占比达{p}%。",
    "小组运用鱼骨图从人、机、料、法、环、测六个方面分析原因，共找出末端因素{k}条。",
    "经现场测量和试验验证，确定主要原因{k2}条，并按照5W1H原则逐条制定对策。",
    "对策实施后，{product}的一次合格率由{v1}%提高到{v2}%，超过了小组设定的目标值。",
    "活动期间累计创造直接经济效益{money}万元，形成作业指导书{d}份、专利申请{pt}项。",
    "小组成员在活动中熟练掌握了排列图、直方图、控制图和散布图等统计工具的应用。",
    "为巩固活动成果，小组将有效措施纳入企业标准，并对相关岗位人员进行了培训。",
    "活动过程中，小组每周召开一次例会，共召开会议{w}次，成员出勤率保持在{r}%以上。",
    "小组对{process}流程进行了梳理，识别出{k}个非增值环节，并提出了优化方案。",
    "通过对比试验，小组验证了新方法的有效性，{process}时间平均缩短了{p}%。",
    "在公司领导的支持下，小组获得了技术部门和设备部门的协助，确保了对策顺利实施。",
    "下一步，小组将以“{next}”为新课题，继续开展质量改进活动。",
    "小组注重培养成员的问题意识和改进能力，两名成员在活动后取得了QC小组活动推进者资格。",
)


def sha256_of(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


@cache
def _sentences(seed: int = 0) -> tuple[str, ...]:
    """A few thousand filled-in sentences, formatted once (formatting per text is slow)."""
    rng = random.Random(seed)
    return tuple(
        rng.choice(SENTENCES).format(
            y=rng.randrange(2008, 2022),
            n=rng.randrange(5, 11),
            a=rng.randrange(28, 45),
            h=rng.randrange(1, 4),
            t=rng.randrange(1, 5),
            topic=topic_name(rng, rng.choice(list(TopicType))),
            m=rng.randrange(3, 13),
            defect=rng.choice(DEFECTS),
            p=rng.randrange(20, 75),
            k=rng.randrange(8, 21),
            k2=rng.randrange(2, 6),
            product=rng.choice(PRODUCTS),
            v1=rng.randrange(80, 93),
            v2=rng.randrange(94, 100),
            money=rng.randrange(5, 500),
            d=rng.randrange(1, 6),
            pt=rng.randrange(0, 4),
            w=rng.randrange(20, 60),
            r=rng.randrange(85, 99),
            process=rng.choice(PROCESSES),
            next=f"降低{rng.choice(PRODUCTS)}{rng.choice(DEFECTS)}率",
        )
        for _ in range(4000)
    )


def text(rng: random.Random, low: int, high: int) -> str:
    """Chinese prose of between `low` and `high` characters, from the sentences above."""
    pool = _sentences()
    target = rng.randrange(low, high)
    parts: list[str] = []
    length = 0
    while length < target:
        sentence = pool[int(rng.random() * len(pool))]
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[:high]


def topic_name(rng: random.Random, topic_type: TopicType) -> str:
    if topic_type is TopicType.INNOVATIVE:
        return f"研制{rng.choice(PRODUCTS)}{rng.choice(DEVICES)}"
    return rng.choice(
        (
            f"降低{rng.choice(PRODUCTS)}{rng.choice(DEFECTS)}率",
            f"提高{rng.choice(PRODUCTS)}一次合格率",
            f"缩短{rng.choice(PROCESSES)}时间",
        )
    )


def qc_form(applicant: Applicant, topic_type: TopicType, rng: random.Random) -> QcResultForm:
    topic = topic_name(rng, topic_type)
    size = rng.randrange(4, 11)
    return QcResultForm(
        group_name=f"{applicant.name[:6]}{rng.choice(DEPARTMENTS)}QC小组",
        group_size=size,
        topic_name=topic,
        industry=applicant.industries[0],
        topic_type=topic_type,
        members=tuple(person(rng) for _ in range(min(size, 10))),
        intro=text(rng, 850, 1180),
        commitments=(True, True, True, True),
    )


def team_form(applicant: Applicant, rng: random.Random) -> TeamForm:
    quality = Decimal(rng.randrange(9800, 10000)) / 100
    return TeamForm(
        team_name=f"{applicant.name[:6]}{rng.choice(DEPARTMENTS)}{rng.choice('一二三四')}班",
        team_size=rng.randrange(6, 40),
        leader=person(rng),
        figures=TeamFigures(
            work_completion_pct=Decimal(100),
            quality_pass_pct=quality,
            nonconformity_pct=Decimal(100) - quality,
            first_pass_yield_pct=quality - Decimal("0.5"),
            accidents=0,
            complaints=rng.randrange(0, 3),
            training_people=rng.randrange(6, 40),
            training_hours=rng.randrange(100, 900),
            participation_pct=Decimal(rng.randrange(85, 101)),
            quality_cost_10k=Decimal(rng.randrange(50, 5000)) / 10,
            creation_coverage_pct=Decimal(rng.randrange(40, 101)),
        ),
        sections=(
            text(rng, 300, 700),
            text(rng, 300, 700),
            text(rng, 300, 700),
            text(rng, 300, 700),
            text(rng, 300, 700),
            text(rng, 200, 500),
        ),
        no_accident_three_years=True,
        basic_formal_unit=True,
    )


def attachment(kind: AttachmentKind, key: object, rng: random.Random) -> Attachment:
    content_type = "video/mp4" if kind is AttachmentKind.VIDEO else "application/pdf"
    megabytes = {AttachmentKind.VIDEO: 300, AttachmentKind.SLIDES: 20}.get(kind, 5)
    extension = "mp4" if kind is AttachmentKind.VIDEO else "pdf"
    return Attachment(
        kind,
        f"{kind.value}.{extension}",
        content_type,
        rng.randrange(100_000, megabytes * 1_000_000),
        sha256_of(key, kind, rng.random()),
    )


def work_summary(unit_name: str, year: int, rng: random.Random) -> str:
    return (
        f"{unit_name}{year}年度质量管理小组活动工作总结\n一、基本情况\n{text(rng, 1100, 1300)}\n"
        f"二、推进经验和做法\n{text(rng, 1200, 1400)}\n三、存在问题及改进方向\n{text(rng, 900, 1100)}"
    )


def statistics_form(
    programme: Programme, year: int, enterprises: list[str], contact: str, rng: random.Random
) -> StatisticsForm:
    count = len(enterprises)
    if programme is Programme.TEAM:
        this_year = count * rng.randrange(3, 9)
        figures: QcFigures | TeamFiguresTable = TeamFiguresTable(
            teams_this_year=this_year,
            teams_all_years=this_year * rng.randrange(3, 9),
            participating_staff=this_year * rng.randrange(8, 25),
            teams_recommended=max(1, this_year // 4),
            spending_10k=Decimal(rng.randrange(10, 900)),
            rewards_10k=Decimal(rng.randrange(5, 300)),
        )
    else:
        registered = count * rng.randrange(8, 40)
        employees = count * rng.randrange(500, 8000)
        benefit = Decimal(rng.randrange(100, 90000)) / 10
        figures = QcFigures(
            employees=employees,
            registered_all_years=registered * rng.randrange(4, 12),
            registered_this_year=registered,
            participants=min(employees, registered * rng.randrange(5, 10)),
            active_groups=registered * rng.randrange(70, 100) // 100,
            groups_with_results=registered * rng.randrange(30, 70) // 100,
            benefit_all_years_10k=benefit * rng.randrange(5, 15),
            benefit_this_year_10k=benefit,
            spending_10k=Decimal(rng.randrange(10, 900)),
            rewards_10k=Decimal(rng.randrange(5, 300)),
            certified_reviewers=rng.randrange(0, 30),
        )
    entered = rng.randrange(max(count, 5), max(count, 5) * 3)
    return StatisticsForm(
        enterprises=enterprises,
        figures=figures,
        review_forms=rng.sample(REVIEW_FORMS[:3], k=rng.randrange(1, 4)),
        meeting=Meeting(True, date(year, 5, 20), "会议中心", entered, entered // 2, entered * 3),
        contact={"person": contact, "phone": mobile(rng)},
    )
