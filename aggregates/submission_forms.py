"""The two application forms (申报表): a QC group's result and a quality-trustworthy team.

A form may be incomplete while drafted; `problems()` names what breaks a rule now, and
`missing()` what must still be filled before it can be submitted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

from aggregates.campaign import CampaignRules, Programme
from aggregates.problems import Problem


class TopicType(StrEnum):
    PROBLEM_SOLVING = "problem_solving"
    INNOVATIVE = "innovative"


TOPIC_TYPE_NAMES_ZH = {TopicType.PROBLEM_SOLVING: "问题解决型", TopicType.INNOVATIVE: "创新型"}

COMMITMENTS = (
    "自愿参加本年度质量管理小组活动",
    "推行《质量管理小组活动准则》(T/CAQ10201-2020)",
    "提交所有材料均真实、合法、有效，不存在剽窃他人活动成果、侵犯他人知识产权、伪造材料等不端及失信行为",
    "申报课题内容不含《中华人民共和国保守国家秘密法》所规定的涉密内容",
)
"""组织承诺: the four commitments of the QC application form, each to be accepted."""

TEAM_SECTIONS = (
    "班组成员组成，班组职责，主要工作内容、班组文化和愿景",
    "班组基础管理情况",
    "班组成员专业知识、技能培训、工具方法应用能力",
    "班组质量改进和创新能力",
    "班组管理特色、业绩及评价结果",
    "近三年取得荣誉情况，包括班组集体和个人荣誉等",
)
"""The six narrative sections of the team form (质量信得过班组简介及活动结果)."""


def _text(field: str, value: str, limit: int) -> list[Problem]:
    return [Problem(field, "max_length", f"不得超过 {limit} 字")] if len(value) > limit else []


@dataclass(frozen=True)
class QcResultForm:
    """质量管理小组活动申报表"""

    group_name: str = ""
    group_size: int = 0
    topic_name: str = ""
    industry: str = ""
    """所属行业"""
    topic_type: TopicType | None = None
    members: tuple[str, ...] = ()
    intro: str = ""
    """QC 小组简介及主要活动过程与效果"""
    commitments: tuple[bool, bool, bool, bool] = (False, False, False, False)

    def problems(self, rules: CampaignRules) -> list[Problem]:
        found = _text("group_name", self.group_name, 100) + _text(
            "topic_name", self.topic_name, 200
        )
        found += _text("industry", self.industry, 100)
        if len(self.members) > rules.members_max:
            found.append(
                Problem("members", "max_members", f"小组成员名单至多 {rules.members_max} 人")
            )
        found += [
            Problem(f"members[{i}]", "required", "成员姓名不能为空")
            for i, name in enumerate(self.members)
            if not name.strip()
        ]
        if self.group_size < 0 or self.group_size > 1000:
            found.append(Problem("group_size", "range", "小组人数应在 1 至 1000 之间"))
        if len(self.intro) > rules.intro_max_chars:
            found.append(Problem("intro", "max_length", f"简介不得超过 {rules.intro_max_chars} 字"))
        return found

    def missing(self, rules: CampaignRules) -> list[Problem]:
        found = [
            Problem(name, "required", "提交前须填写")
            for name in ("group_name", "topic_name", "industry")
            if not getattr(self, name).strip()
        ]
        if self.group_size < 1:
            found.append(Problem("group_size", "required", "提交前须填写小组人数"))
        if self.topic_type is None:
            found.append(Problem("topic_type", "required", "请选择课题类型"))
        if not self.members:
            found.append(Problem("members", "required", "请填写小组成员名单"))
        elif self.group_size and len(self.members) > self.group_size:
            found.append(Problem("members", "more_than_group_size", "成员名单人数多于小组人数"))
        if len(self.intro) < rules.intro_min_chars:
            found.append(
                Problem("intro", "min_length", f"简介约 1000 字，至少 {rules.intro_min_chars} 字")
            )
        found += [
            Problem(f"commitments[{i}]", "must_accept", f"须接受承诺：{text}")
            for i, (text, accepted) in enumerate(zip(COMMITMENTS, self.commitments, strict=True))
            if not accepted
        ]
        return found


PERCENT_FIELDS = (
    "work_completion_pct",
    "quality_pass_pct",
    "nonconformity_pct",
    "first_pass_yield_pct",
    "participation_pct",
    "creation_coverage_pct",
)
COUNT_FIELDS = ("accidents", "complaints", "training_people", "training_hours")


@dataclass(frozen=True)
class TeamFigures:
    """The team's figures of the form, each with its range."""

    work_completion_pct: Decimal | None = None
    """班组工作完成率%"""
    quality_pass_pct: Decimal | None = None
    """质量考核合格率%"""
    nonconformity_pct: Decimal | None = None
    """产品/服务不合格率%"""
    first_pass_yield_pct: Decimal | None = None
    """产品/服务一次合格率"""
    accidents: int | None = None
    """年质量、安全事故数"""
    complaints: int | None = None
    """年顾客投诉数"""
    training_people: int | None = None
    training_hours: int | None = None
    """年培训人数/时数"""
    participation_pct: Decimal | None = None
    """成员参与改进活动率%"""
    quality_cost_10k: Decimal | None = None
    """质量成本（万元/年）"""
    creation_coverage_pct: Decimal | None = None
    """质量信得过班组创建普及率"""

    def problems(self) -> list[Problem]:
        found = []
        for name in PERCENT_FIELDS:
            value = getattr(self, name)
            if value is not None and not Decimal(0) <= value <= Decimal(100):
                found.append(
                    Problem(f"figures.{name}", "percent_range", "百分比应在 0 至 100 之间")
                )
        for name in COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None and value < 0:
                found.append(Problem(f"figures.{name}", "non_negative", "不能为负数"))
        if self.quality_cost_10k is not None and self.quality_cost_10k < 0:
            found.append(Problem("figures.quality_cost_10k", "non_negative", "不能为负数"))
        pair = (self.quality_pass_pct, self.nonconformity_pct)
        if (
            None not in pair
            and pair[0] is not None
            and pair[1] is not None
            and pair[0] + pair[1] > 100
        ):
            found.append(
                Problem(
                    "figures.nonconformity_pct", "coherent", "合格率与不合格率之和不能超过 100%"
                )
            )
        return found

    def missing(self) -> list[Problem]:
        return [
            Problem(f"figures.{f.name}", "required", "提交前须填写")
            for f in fields(self)
            if getattr(self, f.name) is None
        ]


@dataclass(frozen=True)
class TeamForm:
    """质量信得过班组申报表"""

    team_name: str = ""
    team_size: int = 0
    leader: str = ""
    figures: TeamFigures = TeamFigures()
    sections: tuple[str, str, str, str, str, str] = ("", "", "", "", "", "")
    no_accident_three_years: bool = False
    """班组近三年无质量、安全、环保事故"""
    basic_formal_unit: bool = False
    """班组是企业最基础的正式组织单元（不是车间，也不是自定名称）"""

    def problems(self, rules: CampaignRules) -> list[Problem]:
        found = _text("team_name", self.team_name, 100) + _text("leader", self.leader, 50)
        if self.team_size < 0 or self.team_size > 500:
            found.append(Problem("team_size", "range", "班组人数应在 1 至 500 之间"))
        found += self.figures.problems()
        total = sum(len(s) for s in self.sections)
        if total > rules.team_report_max_chars:
            found.append(
                Problem(
                    "sections", "max_length", f"六部分合计不得超过 {rules.team_report_max_chars} 字"
                )
            )
        if "车间" in self.team_name:
            found.append(
                Problem(
                    "team_name", "basic_unit", "班组名称应为最基础的正式组织单元，不应以车间命名"
                )
            )
        return found

    def missing(self, rules: CampaignRules) -> list[Problem]:
        found = [
            Problem(name, "required", "提交前须填写")
            for name in ("team_name", "leader")
            if not getattr(self, name).strip()
        ]
        if self.team_size < 1:
            found.append(Problem("team_size", "required", "提交前须填写班组人数"))
        found += self.figures.missing()
        found += [
            Problem(f"sections[{i}]", "required", f"请填写：{title}")
            for i, (title, text) in enumerate(zip(TEAM_SECTIONS, self.sections, strict=True))
            if not text.strip()
        ]
        if not self.no_accident_three_years:
            found.append(
                Problem(
                    "no_accident_three_years",
                    "must_confirm",
                    f"须确认班组近 {rules.accident_free_years} 年无质量、安全、环保事故",
                )
            )
        elif self.figures.accidents:
            found.append(
                Problem("figures.accidents", "coherent", "已确认近三年无事故，年事故数应为 0")
            )
        if not self.basic_formal_unit:
            found.append(
                Problem("basic_formal_unit", "must_confirm", "须确认班组是企业最基础的正式组织单元")
            )
        return found


Form = QcResultForm | TeamForm


def form_to_state(form: Form) -> dict[str, Any]:
    return asdict(form)


def form_from_state(programme: Programme, state: dict[str, Any]) -> Form:
    if programme is Programme.TEAM:
        values = dict(state)
        values["figures"] = TeamFigures(**values["figures"])
        values["sections"] = tuple(values["sections"])
        return TeamForm(**values)
    values = dict(state)
    values["topic_type"] = TopicType(values["topic_type"]) if values["topic_type"] else None
    values["members"] = tuple(values["members"])
    values["commitments"] = tuple(values["commitments"])
    return QcResultForm(**values)
