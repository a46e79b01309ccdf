"""What each recorded event means, in the words users read: Chinese first, English available."""

from __future__ import annotations

from aggregates.actor import ROLE_NAMES_ZH, Role

EVENT_WORDS: dict[str, tuple[str, str]] = {
    "Account.Registered": ("登记账户", "Account registered"),
    "Account.Activated": ("账户启用", "Account activated"),
    "Account.Disabled": ("停用账户", "Account disabled"),
    "Account.Locked": ("账户锁定（多次登录失败）", "Account locked (failed sign-ins)"),
    "Account.Unlocked": ("解除锁定", "Account unlocked"),
    "Account.PasswordChanged": ("更改密码", "Password changed"),
    "Account.RoleGranted": ("授予角色", "Role granted"),
    "Account.RoleRevoked": ("撤销角色", "Role revoked"),
    "Account.EnterpriseClaimed": (
        "申请代表单位（提交营业执照与授权委托书）",
        "Claimed to speak for an enterprise (business licence and authorisation letter)",
    ),
    "Account.EnterpriseVerified": ("单位身份核验通过", "Enterprise identity verified"),
    "Account.EnterpriseClaimRefused": ("单位身份核验未通过", "Enterprise claim refused"),
    "Campaign.Opened": ("开启活动", "Campaign opened"),
    "Campaign.PhaseRescheduled": ("调整阶段时间", "Phase rescheduled"),
    "Campaign.DeadlineExtended": ("延长截止时间", "Deadline extended"),
    "Campaign.RulesAmended": ("修改活动规则", "Rules amended"),
    "Campaign.ReviewPlanned": ("确定评审方案", "Review planned"),
    "Campaign.ResultsPublished": ("发布结果", "Results published"),
    "Campaign.Archived": ("活动归档", "Campaign archived"),
    "Campaign.PhaseClosedNow": ("立即截止阶段", "Phase closed now"),
    "Campaign.PhaseOpenedNow": ("立即开始阶段", "Phase opened now"),
    "Campaign.PhaseReopened": ("重新开放已截止的阶段", "Closed phase reopened"),
    "Campaign.RehearsalOpened": ("开启演练活动", "Rehearsal campaign opened"),
    "Campaign.RehearsalDeleted": ("删除演练活动", "Rehearsal campaign deleted"),
    "Registration.Registered": ("报名", "Registered"),
    "Registration.Changed": ("修改报名信息", "Registration changed"),
    "Submission.Drafted": ("起草申报", "Drafted"),
    "Submission.Received": ("接收推荐全国的成果", "Received from a member association"),
    "Submission.Edited": ("修改申报内容", "Edited"),
    "Submission.AttachmentAdded": ("上传附件", "Attachment added"),
    "Submission.AttachmentRemoved": ("删除附件", "Attachment removed"),
    "Submission.Submitted": ("提交申报", "Submitted"),
    "Submission.Withdrawn": ("撤回申报", "Withdrawn"),
    "Submission.ReturnedForCorrection": ("退回修改", "Returned for correction"),
    "Submission.Resubmitted": ("修改后重新提交", "Resubmitted"),
    "Submission.Endorsed": ("单位推荐意见", "Endorsed by the unit"),
    "Submission.DirectChannelConfirmed": ("确认直接申报", "Direct channel confirmed"),
    "Submission.FormalReviewPassed": ("形式审查通过", "Passed formal review"),
    "Submission.Rejected": ("形式审查不通过", "Rejected at formal review"),
    "Submission.WithdrawalDeclined": ("撤回请求未被接受", "Withdrawal declined"),
    "Submission.OutcomeSent": ("向推荐单位发送结果", "Outcome sent back"),
    "Submission.ForwardedToNational": ("推荐全国", "Forwarded to the national campaign"),
    "Submission.NationalForwardWithdrawn": ("撤回推荐全国", "National forward withdrawn"),
    "Submission.NationalOutcomeRecorded": ("记录全国评审结果", "National outcome recorded"),
    "Recommendation.Started": ("开始填写推荐表", "Recommendation form started"),
    "Recommendation.EntryAdded": ("推荐成果", "Entry recommended"),
    "Recommendation.EntryRemoved": ("取消推荐", "Entry removed"),
    "Recommendation.Reordered": ("调整推荐排序", "Entries reordered"),
    "Recommendation.ReviewerAdded": ("增加评委", "Reviewer added"),
    "Recommendation.ReviewerRemoved": ("删除评委", "Reviewer removed"),
    "Recommendation.NotRecommended": ("不予推荐", "Not recommended"),
    "Recommendation.DeclarationAccepted": ("确认推荐声明", "Declaration accepted"),
    "Recommendation.Filed": ("报送推荐表", "Recommendation form filed"),
    "Recommendation.Returned": ("退回推荐表", "Recommendation form returned"),
    "Recommendation.QuotaGranted": ("增加推荐名额", "Extra quota granted"),
    "Recommendation.Invalidated": ("推荐无效", "Recommendations declared invalid"),
    "ReviewRound.Opened": ("开启评审轮次", "Review round opened"),
    "ReviewRound.ReviewerAssigned": ("分配评委", "Reviewer assigned"),
    "ReviewRound.ReviewerReleased": ("解除评委分配", "Reviewer released"),
    "ReviewRound.SheetFiled": ("提交评分表", "Score sheet filed"),
    "ReviewRound.ScoresAggregated": ("汇总评分", "Scores aggregated"),
    "ReviewRound.Closed": ("结束评审轮次", "Review round closed"),
    "ReviewRound.PresenterCalled": ("发表赛：请上台发表", "Contest: presenter called"),
    "ReviewRound.ScoresReleased": ("发表赛：公布得分", "Contest: scores released"),
    "Grading.Graded": ("认定等级", "Graded"),
    "Grading.Regraded": ("重新认定等级", "Regraded"),
    "Grading.GradeOverridden": ("调整等级", "Grade overridden"),
    "Grading.NoticeOpened": ("开始公示", "Public notice opened"),
    "Grading.ObjectionFiled": ("提出异议", "Objection filed"),
    "Grading.PublicObjectionFiled": ("公众提出异议", "Objection filed by the public"),
    "Grading.ObjectionResolved": ("处理异议", "Objection resolved"),
    "Grading.NoticeClosed": ("结束公示", "Public notice closed"),
    "Grading.CertificatesIssued": ("颁发证书", "Certificates issued"),
    "AuditTrail.Started": ("开始当日审计查阅记录", "Audit trail of the day started"),
    "AuditTrail.Read": ("审计查阅", "Audit read"),
}


def role_name(role: str | None, lang: str = "zh") -> str | None:
    """A recorded role in words: its Chinese name (as recorded for `lang=en`, or when unknown)."""
    if role is None or lang == "en" or role not in set(Role):
        return role
    return ROLE_NAMES_ZH[Role(role)]


def event_words(event: str, lang: str) -> str:
    """The event in words (`lang` zh or en); an event without words reads as its name."""
    zh, en = EVENT_WORDS.get(event, (event, event))
    return en if lang == "en" else zh
