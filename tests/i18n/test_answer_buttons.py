"""Answer buttons show whole on a phone: a full-width inline button shows about 40 characters,
a button sharing its row with others about 30 (Telegram's own limit, 64, is far beyond what a
cheap phone shows). Checked in every language for the age and documents questions, where a
cut label changes the answer a man gives (issue 11)."""

from __future__ import annotations

import pytest

from bot.conversation.questions import QUESTIONS
from bot.conversation.replies import Msg
from bot.conversation.state import LANGUAGES
from bot.i18n import load_catalogs

FULL_ROW = 40
SHARED_ROW = 30
CHECKED = ("age", "documents")


CATALOGS = load_catalogs()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("fact", CHECKED)
def test_answer_buttons_fit_a_phone(lang: str, fact: str) -> None:
    """Every answer label of the question fits its row, counted as Telegram counts (UTF-16)."""
    question = QUESTIONS[fact]
    limit = FULL_ROW if question.per_row == 1 else SHARED_ROW
    too_long = []
    for option in question.options:
        assert isinstance(option.label, Msg)
        text = CATALOGS[lang].gettext(option.label.id)
        if len(text.encode("utf-16-le")) // 2 > limit:
            too_long.append(text)
    assert not too_long, f"{lang}: over {limit} characters: {too_long}"
