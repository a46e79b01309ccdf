"""The portal's words: every message in both languages, the domain's labels followed, the
templates free of what the CSP forbids, the vendored files as pinned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from aggregates.actor import ROLE_NAMES_ZH
from aggregates.campaign import PHASE_NAMES_ZH, PROGRAMME_NAMES_ZH
from api.portal import labels, vendor
from api.portal.i18n import CATALOGS, LOCALE_DIR

PORTAL = Path(labels.__file__).parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "NP_": ((1, "c"), 2),
    "pgettext": ((1, "c"), 2),
}


def extracted() -> set[tuple[str | None, str]]:
    """Every message of the portal's Python and templates, as `make messages` extracts them:
    its context (None for most) and msgid."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _, _, message, _, context in extract_from_dir(
        str(PORTAL), method_map, options, keywords=KEYWORDS
    ):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_message_has_its_translation(language: str) -> None:
    path = LOCALE_DIR / CATALOGS[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[message.context, key] = all(strings) and not message.fuzzy
    needed = extracted()
    assert needed, "no messages extracted: the extraction itself is broken"
    assert ("page", "审计") in needed, "a message in a context is not extracted"
    missing = sorted(m for m in needed if not translated.get(m))
    assert not missing, f"{language} lacks a translation of: {missing}"
    assert not list(catalog.check()), f"{language}: placeholders differ from the msgid"


def test_the_labels_follow_the_domain() -> None:
    assert labels.PHASES == PHASE_NAMES_ZH
    assert labels.ROLES == ROLE_NAMES_ZH
    assert labels.PROGRAMMES == PROGRAMME_NAMES_ZH


def test_the_templates_need_no_unsafe_inline() -> None:
    """The CSP allows scripts and styles from 'self' only: no inline script, style or handler."""
    for template in (PORTAL / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\sstyle\s*=", text), f"{template}: a style attribute"
        assert not re.search(r"<style", text), f"{template}: a <style> element"
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), f"{template}: an inline script"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template}: an inline event handler"
        title = re.search(r"{% block title %}(.*?){% endblock %}", text, re.S)
        assert not (title and "<" in title.group(1)), f"{template}: markup in <title>"


def test_the_vendored_files_are_the_pinned_ones() -> None:
    assert vendor.check() == []
