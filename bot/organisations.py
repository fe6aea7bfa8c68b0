"""The organisations an operator lists in the legal-help file, by the code in their link.

An NGO shares `t.me/<bot>?start=<lang>-<mode>-<code>`. The operator's legal-help file
(DECREEBOT_LEGAL_HELP_FILE) names each code it knows under `[org.<code>]`: the
organisation's name, the languages it serves and its contacts per language. A person who
arrives by such a link sees that organisation's contacts first. A code the file does not
name is treated as no code at all, and counted as "unknown": anyone can type a link.
No organisation is built in.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.conversation.deeplink import Preset, make_payload

__all__ = [
    "NO_ORG",
    "UNKNOWN_ORG",
    "Organisation",
    "bucket",
    "load_organisations",
]

#: The count of people who came without an organisation's code.
NO_ORG = "none"
#: The count of people who came with a code the operator has not listed.
UNKNOWN_ORG = "unknown"
_MAX_TEXT = 1000
_MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation of the operator's file."""

    code: str
    name: str
    #: The languages it serves, in the bot's codes (ru, tg, uz, uz_Cyrl, az, en).
    languages: tuple[str, ...]
    #: Its contacts as it wrote them, per language.
    contacts: Mapping[str, str]

    def contacts_in(self, lang: str) -> str | None:
        """Its contacts in `lang`, else in the first language it serves that has them."""
        if lang in self.contacts:
            return self.contacts[lang]
        for other in (*self.languages, *self.contacts):
            if other in self.contacts:
                return self.contacts[other]
        return None


def bucket(org: str | None, known: Mapping[str, Organisation]) -> str:
    """The code counts are kept under: a listed code, `NO_ORG` or `UNKNOWN_ORG`."""
    if org is None:
        return NO_ORG
    return org if org in known else UNKNOWN_ORG


def load_organisations(path: Path | None, languages: tuple[str, ...]) -> dict[str, Organisation]:
    """The `[org.<code>]` tables of the legal-help file (no file: none)."""
    if path is None:
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    tables = data.get("org", {})
    if not isinstance(tables, dict):
        msg = f"{path}: [org] must hold one table per organisation code"
        raise ValueError(msg)
    return {code: _organisation(path, code, table, languages) for code, table in tables.items()}


def _organisation(path: Path, code: str, table: Any, languages: tuple[str, ...]) -> Organisation:
    where = f"{path}: [org.{code}]"
    try:
        make_payload(Preset(org=code))  # the same rule as a link's code
    except ValueError:
        msg = f"{where}: a code is 1 to 32 letters and digits"
        raise ValueError(msg) from None
    if not isinstance(table, dict):
        msg = f"{where} must be a table"
        raise ValueError(msg)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        msg = f"{where}: name is required, up to {_MAX_NAME} characters"
        raise ValueError(msg)
    served = table.get("languages", [])
    if not isinstance(served, list) or any(lang not in languages for lang in served):
        msg = f"{where}: languages must be a list of {', '.join(languages)}"
        raise ValueError(msg)
    contacts: dict[str, str] = {}
    for lang in languages:
        entry = table.get(lang)
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            text = entry["text"].strip()
            if len(text) > _MAX_TEXT:
                msg = f"{where}: [{lang}] text is longer than {_MAX_TEXT} characters"
                raise ValueError(msg)
            contacts[lang] = text
    if not contacts:
        msg = f"{where}: give its contacts in at least one language ([org.{code}.ru] text)"
        raise ValueError(msg)
    return Organisation(code, name.strip(), tuple(served), contacts)
