"""Rendering a text from its catalog: a key or an English source text, parameters, a language.

Parameters may be datetimes (shown as `2026年12月7日 11:01（北京时间）` in the configured time
zone) and `Term`s (a word the catalog translates, such as the name of what was not found).
Stored parameters keep both as JSON (`encode`), so a message written today renders in the
language of whoever reads it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from services.i18n import en, zh_cn
from services.i18n.languages import EN, ZH, Language

if TYPE_CHECKING:
    from services.errors import ErrorCode  # the catalogs import it; at run time it is there already

_CATALOGS: dict[Language, ModuleType] = {ZH: zh_cn, EN: en}
TIME = "$time"
TERM = "$term"


@dataclass(frozen=True)
class Term:
    """A word of the catalogs' TERMS (`Term("Notice")` is 履约通知书 in Chinese)."""

    key: str


@dataclass(frozen=True)
class Phrase:
    """An error's own text inside another text ("line 3: <why>"), rendered in the same language."""

    code: ErrorCode
    source: str
    params: Mapping[str, object]


SHANGHAI = ZoneInfo("Asia/Shanghai")
# Not strftime's %b, which follows the process's locale.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class _Config:
    language: Language = ZH
    zone: ZoneInfo = SHANGHAI


_config = _Config()


def configure(language: Language, timezone: str) -> None:
    """Set the process's default language and time zone (from CCMS_LANGUAGE, CCMS_TIMEZONE)."""
    global _config
    _config = _Config(language, ZoneInfo(timezone))


def default_language() -> Language:
    return _config.language


def zone() -> ZoneInfo:
    return _config.zone


def when(moment: datetime, language: Language) -> str:
    """A time for people, in the configured zone: 2026年12月7日 11:01（北京时间） / 7 Dec 2026 11:01 (Beijing time)."""
    local = moment.astimezone(_config.zone)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    label = (
        _CATALOGS[language].ZONES.get(_config.zone.key)
        or f"UTC{sign}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"
    )
    if language == ZH:
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{label}）"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M} ({label})"


def encode(params: Mapping[str, object]) -> dict[str, object]:
    """Parameters as JSON for storage: datetimes and terms tagged, so they render per reader."""
    stored: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            stored[name] = {TIME: value.isoformat()}
        elif isinstance(value, Term):
            stored[name] = {TERM: value.key}
        elif isinstance(value, int | str | float | bool) or value is None:
            stored[name] = value
        else:  # Decimal and the like: their text is what people read
            stored[name] = str(value)
    return stored


def _shown(value: object, language: Language) -> object:
    if isinstance(value, dict) and TIME in value:
        value = datetime.fromisoformat(str(value[TIME]))
    elif isinstance(value, dict) and TERM in value:
        value = Term(str(value[TERM]))
    if isinstance(value, datetime):
        return when(value, language)
    if isinstance(value, Term):
        terms: dict[str, str] = _CATALOGS[language].TERMS
        return terms.get(value.key, value.key)
    if isinstance(value, Phrase):
        return error_text(value.code, value.source, value.params, language)
    return value


class _Params(dict[str, object]):
    def __missing__(self, name: str) -> str:  # a template naming an absent parameter shows it unfilled
        return "{" + name + "}"


def fill(template: str, params: Mapping[str, object], language: Language) -> str:
    if not params:
        return template
    try:
        return template.format_map(_Params({name: _shown(v, language) for name, v in params.items()}))
    except (ValueError, IndexError, TypeError):
        # A template at odds with its parameters (a format spec for another type, a stray
        # brace) must not turn an expected error into a failed request: show it unfilled.
        return template


def text(key: str, params: Mapping[str, object], language: Language) -> str:
    """A catalog text (an inbox message's title or body) by its key."""
    texts: dict[str, str] = _CATALOGS[language].TEXTS
    return fill(texts[key], params, language)


def code_text(code: str, language: Language) -> str | None:
    """The catalog message of a code, also of the few that are not ErrorCodes (UNAUTHENTICATED)."""
    catalog = _CATALOGS[language]
    for known, message in catalog.ERRORS.items():
        if known.value == code:
            return str(message)
    extra: dict[str, str] = catalog.CODES
    return extra.get(code)


def error_text(code: ErrorCode, source: str, params: Mapping[str, object], language: Language) -> str:
    """An error's message. `source` is the English text the code was raised with (a template
    when `params` are given); Chinese readers get its translation, or the code's own message
    when the text has none yet. A code raised without a text reads its catalog message."""
    if language == EN:
        return fill(source or en.ERRORS[code], params, EN)
    translated = zh_cn.MESSAGES.get(source) if source else None
    return fill(translated or zh_cn.ERRORS[code], params, ZH)
