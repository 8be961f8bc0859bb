"""Which language a reader gets: the first supported one their Accept-Language names, else the default."""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["zh-CN", "en"]
ZH: Final[Language] = "zh-CN"
EN: Final[Language] = "en"
SUPPORTED: Final[tuple[Language, ...]] = (ZH, EN)


def supported(tag: str | None) -> Language | None:
    """The supported language a tag means (`zh`, `zh-CN`, `zh-Hans-CN`, `en-GB`...), or None."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        return ZH
    if primary == "en":
        return EN
    return None


def negotiate(accept_language: str | None, default: Language) -> Language:
    """The reader's language from an Accept-Language value (RFC 9110 weights honoured).

    `*`, unsupported tags and a missing header leave the configured default.
    """
    ranked: list[tuple[float, int, Language]] = []
    for position, entry in enumerate((accept_language or "").split(",")):
        tag, *options = (part.strip() for part in entry.split(";"))
        weight = 1.0
        for option in options:
            if option.lower().startswith("q="):
                try:
                    weight = float(option[2:])
                except ValueError:
                    weight = 0.0
        language = supported(tag)
        if language is not None and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else default
