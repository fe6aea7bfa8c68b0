"""A man who holds only papers from his home army sees 🟡, never 🟢: in Telegram (the real PTB
application against the fake Bot API) and in the console, in every language (issue 11)."""

from __future__ import annotations

import asyncio

import pytest

from bot.conversation import LANGUAGES
from bot.i18n import Renderer
from tests.adapters.telegram_harness import converse, running_bot
from tests.adapters.test_console import _run

_UNSURE = "🟡 The decree applies to you. It is not certain that your document meets it."
_REASON = (
    "A military ID, a discharge or an unfitness paper from another country's army is not on"
    " the list. No source says whether such papers count: the migration office decides."
    " Please get legal advice before you apply."
)
_PATH = (
    "sex=male",
    "age_band=18_to_65",
    "citizenship=TJ",
    "application=residence_permit",
    "grounds=family",
    "documents=foreign_military_document",
    "nav:result",
)
# Man, 18-65, Tajikistan, residence permit, family, papers from another army, show the result.
_CONSOLE = "1\n2\n1\n1\n2\n5\n1\n"


@pytest.mark.redis
async def test_home_army_papers_are_yellow_in_telegram(redis_url: str, renderer: Renderer) -> None:
    """Six men, one per language, press the home-army answer and read 🟡 and why."""
    async with running_bot("polling", redis_url) as bot:
        texts = await asyncio.gather(
            *(converse(bot, lang, 7000 + i, _PATH) for i, lang in enumerate(LANGUAGES))
        )
    for lang, text in zip(LANGUAGES, texts, strict=True):
        assert text.startswith(renderer.gettext(_UNSURE, lang)), (lang, text[:80])
        assert renderer.gettext(_REASON, lang) in text
        assert "🟢" not in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_army_papers_are_yellow_in_the_console(lang: str, renderer: Renderer) -> None:
    """The same answers typed as numbers in the console chat end on 🟡, never 🟢."""
    done = _run("--lang", lang.replace("_", "-"), "--mode", "self", stdin=_CONSOLE)
    assert done.returncode == 0, done.stderr
    assert renderer.gettext(_UNSURE, lang) in done.stdout
    assert renderer.gettext(_REASON, lang) in done.stdout
    assert "🟢" not in done.stdout
