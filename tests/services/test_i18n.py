"""Texts in the reader's language: every code and every error text has its words in both
catalogs, times read in Beijing time, and Accept-Language picks the language."""

from __future__ import annotations

import ast
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.errors import ErrorCode, ServiceError, not_found
from services.i18n import en, render, zh_cn
from services.i18n.languages import negotiate
from services.i18n.render import Term
from tests.beijing import beijing

ROOT = Path(__file__).resolve().parents[2]
# Calls whose argument at this position is an English error text.
TEXT_ARGUMENT = {"ServiceError": 1, "filled": 3, "RowError": 3, "permission_denied": 0}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def raised_texts() -> dict[str, str]:
    """Every literal error text in services/, schema/ and api/, with where it is."""
    found: dict[str, str] = {}
    for package in ("services", "schema", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "i18n" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else ""
                )
                position = TEXT_ARGUMENT.get(name)
                if position is None or len(node.args) <= position:
                    continue
                text = node.args[position]
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                assert not isinstance(text, ast.JoinedStr), (
                    f"{where}: give a template and params, not an f-string"
                )
                if isinstance(text, ast.Constant) and isinstance(text.value, str) and text.value:
                    found.setdefault(text.value, where)
    return found


def test_every_error_code_has_a_chinese_and_an_english_message() -> None:
    for catalog in (zh_cn, en):
        missing = [code.value for code in ErrorCode if not catalog.ERRORS.get(code, "").strip()]
        assert missing == [], f"{catalog.__name__}.ERRORS lacks {missing}"
        assert set(catalog.ERRORS) == set(ErrorCode)


def test_the_codes_that_are_not_error_codes_have_both_messages_too() -> None:
    assert set(zh_cn.CODES) == set(en.CODES) == {"UNAUTHENTICATED", "SUBSCRIBER_TOO_SLOW"}


def test_the_chinese_messages_are_chinese() -> None:
    for code, text in zh_cn.ERRORS.items():
        assert any("\u4e00" <= c <= "\u9fff" for c in text), code


def test_every_english_error_text_raised_has_a_chinese_translation() -> None:
    untranslated = {text: where for text, where in raised_texts().items() if text not in zh_cn.MESSAGES}
    assert untranslated == {}, "add these to services/i18n/zh_cn.py MESSAGES"


def test_a_translation_fills_in_what_its_english_text_fills_in() -> None:
    for source, translation in zh_cn.MESSAGES.items():
        assert placeholders(translation) == placeholders(source), source


def test_inbox_texts_exist_in_both_languages_with_the_same_parameters() -> None:
    assert set(zh_cn.TEXTS) == set(en.TEXTS)
    for key, text in zh_cn.TEXTS.items():
        assert placeholders(text) == placeholders(en.TEXTS[key]), key


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("fr-FR,en;q=0.5,zh;q=0.4", "en"),
        ("zh;q=0.2,en;q=0.7", "en"),
        ("en;q=0", "zh-CN"),
        ("de, *", "zh-CN"),
        ("en;q=banana", "zh-CN"),
    ],
)
def test_accept_language_picks_the_best_supported_language(header: str | None, language: str) -> None:
    assert negotiate(header, "zh-CN") == language


def test_without_a_supported_language_the_configured_default_answers() -> None:
    assert negotiate("fr", "en") == "en" and negotiate(None, "en") == "en"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 7, 3, 1, 45, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 30, tzinfo=UTC),  # already 1 January in Beijing
        datetime(2027, 6, 30, 15, 59, 59, tzinfo=UTC),
    ],
)
def test_times_read_in_beijing_time(moment: datetime) -> None:
    assert render.when(moment, "zh-CN") == beijing(moment)


def test_the_issues_example_reads_as_it_should() -> None:
    moment = datetime.fromisoformat("2026-12-07T03:01:45+00:00")
    assert render.when(moment, "zh-CN") == "2026年12月7日 11:01（北京时间）"
    assert render.when(moment, "en") == "7 Dec 2026 11:01 (Beijing time)"


def test_another_time_zone_shows_its_offset() -> None:
    try:
        render.configure("zh-CN", "Asia/Tokyo")
        assert (
            render.when(datetime(2026, 12, 7, 3, 1, tzinfo=UTC), "zh-CN")
            == "2026年12月7日 12:01（UTC+09:00）"
        )
    finally:
        render.configure("zh-CN", "Asia/Shanghai")


def test_an_error_reads_in_the_readers_language_with_its_parameters() -> None:
    error = ServiceError(
        ErrorCode.SHORTFALL_OVERRIDE_REQUIRED,
        "the application is short by {balance} t; approving needs an override reason",
        "reason",
        params={"balance": 200},
    )
    assert error.message == "the application is short by 200 t; approving needs an override reason"
    assert error.in_language("en") == error.message
    assert error.in_language("zh-CN") == "该申请缺口 200 吨；批准须填写理由"


def test_what_was_not_found_is_named_in_the_readers_language() -> None:
    error = not_found("Notice", "noticeId")
    assert (error.message, error.in_language("zh-CN")) == ("Notice not found", "未找到履约通知书")


def test_a_deadline_in_an_error_reads_in_beijing_time() -> None:
    deadline = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    error = ServiceError(
        ErrorCode.DEADLINE_PASSED, "the deadline {deadline} has passed", params={"deadline": deadline}
    )
    assert error.in_language("zh-CN") == f"截止时间 {beijing(deadline)} 已过"
    assert error.in_language("en") == "the deadline 31 Dec 2026 23:59 (Beijing time) has passed"


def test_a_text_without_a_translation_falls_back_to_its_codes_message() -> None:
    error = ServiceError(ErrorCode.INVALID_PERIOD, "a text written after this test")
    assert (error.message, error.in_language("zh-CN")) == ("a text written after this test", "期间无效")


def test_a_code_raised_without_a_text_reads_its_catalog_message() -> None:
    error = ServiceError(ErrorCode.ALARM_ALREADY_RESOLVED)
    assert (error.message, error.in_language("zh-CN")) == (
        "The alarm has already been resolved",
        "该报警已处理",
    )


def test_stored_parameters_keep_times_and_terms_for_later_readers() -> None:
    deadline = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
    stored = render.encode({"deadline": deadline, "what": Term("Notice"), "year": 2026})
    assert stored == {
        "deadline": {"$time": "2026-12-31T15:59:59+00:00"},
        "what": {"$term": "Notice"},
        "year": 2026,
    }
    assert render.fill("{what} {year} {deadline}", stored, "zh-CN") == f"履约通知书 2026 {beijing(deadline)}"


def test_a_parameter_cannot_inject_a_placeholder() -> None:
    assert render.text("rejected.body", {"reason": "{year} {0} {reason}"}, "zh-CN") == "{year} {0} {reason}"


def test_a_template_at_odds_with_its_parameters_is_shown_unfilled_rather_than_failing() -> None:
    assert render.fill("{size:g} MB, {0}", {"size": "big"}, "en") == "{size:g} MB, {0}"
