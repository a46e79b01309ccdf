"""Languages of the portal: 简体中文 first, English; Babel catalogs compiled when the app starts.

Messages are written in Chinese (the source language): the zh_CN catalog keeps them as they are,
the en catalog translates them. The domain's own words (phase and role names, refusals) are
Chinese already; their English comes from the same catalog (see `labels.py`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh-CN", "en")
"""In the switch's order; the first is the default."""
CATALOGS = {"zh-CN": "zh_CN", "en": "en"}
LANGUAGE_COOKIE = "qcflow_lang"
LANGUAGE_NAMES = {"zh-CN": "简体中文", "en": "English"}


@cache
def translations(language: str) -> Translations:
    """The language's catalog, compiled in memory from its .po file (nothing to build)."""
    path = LOCALE_DIR / CATALOGS[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=CATALOGS[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of ours; else the first of Accept-Language we speak."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return LANGUAGES[0]


class Contextual(str):
    """A message said in a context (msgctxt): the same Chinese may read differently in English
    where it stands (审计 is the role "Auditor" and the navigation's "Audit"). It is the Chinese
    itself wherever a plain string goes; `Speaker.gettext` looks it up in its context."""

    context: str

    def __new__(cls, context: str, message: str) -> Contextual:
        said = super().__new__(cls, message)
        said.context = context
        return said


@dataclass(frozen=True)
class Speaker:
    """The translating callables of one language, for templates and Python."""

    language: str

    def gettext(self, message: str) -> str:
        if isinstance(message, Contextual):
            return str(translations(self.language).pgettext(message.context, str(message)))
        return str(translations(self.language).gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(translations(self.language).ngettext(singular, plural, n))

    @property
    def english(self) -> bool:
        return self.language == "en"

    def template_callables(self) -> dict[str, Callable[..., Any]]:
        """`_`, `gettext`, `ngettext` and `pgettext` as Jinja's i18n extension calls them (new
        style: variables as keywords, escaped under autoescape)."""

        @pass_context
        def gettext(context: Context, message: str, **variables: Any) -> str:
            text = self.gettext(message)
            if context.eval_ctx.autoescape:
                text = Markup(text)  # noqa: S704 (the catalog is ours; variables are escaped by %)
            return text % variables if variables else text

        @pass_context
        def ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
            text = self.ngettext(singular, plural, n)
            if context.eval_ctx.autoescape:
                text = Markup(text)  # noqa: S704 (the catalog is ours; variables are escaped by %)
            return text % {"num": n, **variables}

        @pass_context
        def pgettext(context: Context, msgctxt: str, message: str, **variables: Any) -> str:
            return gettext(context, Contextual(msgctxt, message), **variables)

        return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}
