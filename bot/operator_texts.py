"""Texts the operator configures: legal-help contacts per language, the bot's link, the TTL.

Legal help lives in a TOML file the operator edits (DECREEBOT_LEGAL_HELP_FILE), one table per
language with a `text` entry, and `[org.<code>]` tables for the organisations whose links
bring people (bot/organisations.py): those see their organisation's contacts first. No
organisation's contacts are hard-coded here: contacts change, and some organisations are
designated in Russia, so the operator decides what to show.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.conversation import Preset, make_payload
from bot.conversation.screens import LANGUAGE_NAMES
from bot.organisations import Organisation

__all__ = ["OperatorTexts", "load_legal_help"]

_MAX_TEXT = 1000


def load_legal_help(path: Path | None, languages: tuple[str, ...]) -> dict[str, str]:
    """Legal-help text per language from the operator's TOML file (missing file: none)."""
    if path is None:
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    texts: dict[str, str] = {}
    for lang in languages:
        entry = data.get(lang)
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            text = entry["text"].strip()
            if len(text) > _MAX_TEXT:
                msg = f"{path}: [{lang}] text is longer than {_MAX_TEXT} characters"
                raise ValueError(msg)
            texts[lang] = text
    return texts


class OperatorTexts:
    """Resolves `Ext(name)` in a language: `bot_link`, `ttl_minutes`, `legal_help`, and
    `legal_help:<org>` (`Ext("legal_help", org)`: that organisation's contacts first)."""

    def __init__(
        self,
        *,
        bot_username: Callable[[], str | None],
        ttl_seconds: int,
        legal_help: Mapping[str, str],
        no_legal_help: Callable[[str], str],
        organisations: Mapping[str, Organisation] | None = None,
        served_in: Callable[[str], str] | None = None,
    ) -> None:
        self._username = bot_username
        self._ttl_minutes = str(max(1, ttl_seconds // 60))
        self._legal_help = dict(legal_help)
        self._no_legal_help = no_legal_help
        self._organisations = dict(organisations or {})
        #: "Languages: {languages}" in a language.
        self._served_in = served_in or (lambda _lang: "{languages}")

    def __call__(self, name: str, lang: str) -> str:
        """The text for `Ext(name)` in `lang`."""
        if name == "ttl_minutes":
            return self._ttl_minutes
        if name == "legal_help":
            return self._legal_help.get(lang) or self._no_legal_help(lang)
        if name.startswith("legal_help:"):
            return self._legal_help_of(name.partition(":")[2], lang)
        if name == "bot_link":
            username = self._username()
            if not username:
                return "t.me"
            return f"https://t.me/{username}?start={make_payload(Preset(lang=lang))}"
        msg = f"unknown operator value {name!r}"
        raise KeyError(msg)

    def _legal_help_of(self, code: str, lang: str) -> str:
        """The organisation's contacts, then the general ones (an unknown code: general)."""
        general = self._legal_help.get(lang)
        organisation = self._organisations.get(code)
        contacts = organisation.contacts_in(lang) if organisation else None
        if organisation is None or contacts is None:
            return general or self._no_legal_help(lang)
        lines = [f"• {organisation.name}", contacts]
        if organisation.languages:
            names = ", ".join(LANGUAGE_NAMES[served] for served in organisation.languages)
            lines.append(self._served_in(lang).format(languages=names))
        block = "\n".join(lines)
        return f"{block}\n\n{general}" if general else block
