"""Time as the portal writes it: Beijing time, the countdown to the next deadline."""

from __future__ import annotations

from aggregates.campaign import Phase, Window
from api.portal.clock import countdown, span, written
from api.portal.i18n import Speaker, choose_language
from tests.support import BEIJING, beijing

ZH, EN = Speaker("zh-CN"), Speaker("en")
TIMELINE = {
    Phase.REGISTRATION: Window(beijing(2024, 2, 1), beijing(2024, 5, 1)),
    Phase.SUBMISSION: Window(beijing(2024, 2, 1), beijing(2024, 5, 1)),
    Phase.RECOMMENDATION: Window(beijing(2024, 3, 1), beijing(2024, 6, 1)),
    Phase.MATERIAL_REVIEW: Window(beijing(2024, 6, 1), beijing(2024, 8, 1)),
}


def test_a_moment_is_written_as_people_write_it() -> None:
    moment = beijing(2024, 7, 25, 22, 0)
    assert written(moment, BEIJING, ZH) == "2024年7月25日 22:00"
    assert written(moment, BEIJING, EN) == "25 July 2024 22:00"


def test_the_countdown_names_the_deadline_of_the_submission() -> None:
    now = beijing(2024, 4, 28, 20, 57)
    due = countdown(TIMELINE, now)
    assert due is not None
    assert due.text(now, ZH) == "距成果申报截止还有 2 天 3 小时"
    assert due.text(now, EN) == "2 days 3 hours until the Submission deadline"


def test_before_any_window_opens_the_countdown_is_to_the_opening() -> None:
    now = beijing(2024, 1, 31, 23, 30)
    due = countdown(TIMELINE, now)
    assert due is not None and due.text(now, ZH) == "距报名开始还有 30 分钟"
    assert countdown(TIMELINE, beijing(2024, 8, 1)) is None


def test_a_span_under_a_day_has_hours_and_minutes() -> None:
    assert span(beijing(2024, 1, 1, 5, 7) - beijing(2024, 1, 1), ZH) == "5 小时 7 分钟"
    assert span(beijing(2024, 1, 2, 1, 0) - beijing(2024, 1, 1), EN) == "1 day 1 hour"


def test_the_language_is_the_cookies_then_accept_language_then_chinese() -> None:
    assert choose_language("en", "zh-CN,zh;q=0.9") == "en"
    assert choose_language(None, "en-GB,en;q=0.8") == "en"
    assert choose_language("fr", "zh-TW") == "zh-CN"
    assert choose_language(None, None) == "zh-CN"
