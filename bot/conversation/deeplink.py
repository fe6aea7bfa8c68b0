"""Deep-link payloads: `t.me/<bot>?start=<payload>` preselects language, mode and organisation.

The payload is `<lang>-<mode>-<org>`, each part optional (`tg`, `tg-relative`, `uz_Cyrl--ngo1`).
Telegram allows letters, digits, `_` and `-`, up to 64 characters. A part that is not valid is
ignored, never trusted: an organisation code is 1 to 32 ASCII letters and digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.state import LANGUAGES, Mode

__all__ = ["Preset", "make_payload", "parse_payload"]

_MAX_PAYLOAD = 64
_MAX_ORG = 32


@dataclass(frozen=True, slots=True)
class Preset:
    """What a deep link preselects."""

    lang: str | None = None
    mode: Mode | None = None
    org: str | None = None


def _valid_org(text: str) -> bool:
    return 0 < len(text) <= _MAX_ORG and text.isascii() and text.isalnum()


def parse_payload(payload: str | None) -> Preset:
    """The preset in a /start payload; invalid parts are dropped."""
    if not payload or len(payload) > _MAX_PAYLOAD:
        return Preset()
    lang, _, rest = payload.partition("-")
    mode, _, org = rest.partition("-")
    return Preset(
        lang=lang if lang in LANGUAGES else None,
        mode=Mode(mode) if mode in Mode.__members__.values() else None,
        org=org if _valid_org(org) else None,
    )


def make_payload(preset: Preset) -> str:
    """The payload for a preset (the inverse of `parse_payload`)."""
    if preset.org is not None and not _valid_org(preset.org):
        msg = "an organisation code is 1 to 32 letters and digits"
        raise ValueError(msg)
    parts = [preset.lang or "", preset.mode.value if preset.mode else "", preset.org or ""]
    return "-".join(parts).rstrip("-")
