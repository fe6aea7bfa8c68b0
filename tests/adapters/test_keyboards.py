"""The keyboard cache of the output shaping: the JSON PTB would send, and a bounded, current set."""

from __future__ import annotations

import json

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.adapters.telegram import outgoing
from bot.adapters.telegram.outgoing import Shaper
from bot.conversation.replies import Button, Msg
from tests.conftest import make_renderer


def _shaper() -> Shaper:
    return Shaper(make_renderer())


def test_keyboard_json_is_what_ptb_sends() -> None:
    rows = ((("Да", "a3:x=yes"), ("Нет", "a3:x=no")), (("← Назад", "nav:back"),))
    expected = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    made = _shaper().keyboard(rows)
    assert made is not None
    assert json.loads(made) == expected.to_dict()
    assert _shaper().keyboard(()) is None


def test_the_oldest_keyboard_is_dropped_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outgoing, "_KEYBOARDS_KEPT", 2)
    shaper = _shaper()
    made = [shaper.keyboard(((("x", f"a{turn}:x=1"),),)) for turn in range(1, 4)]
    assert list(shaper._keyboards) == [((("x", "a2:x=1"),),), ((("x", "a3:x=1"),),)]
    again = shaper.keyboard(((("x", "a1:x=1"),),))  # made afresh, the same JSON
    assert again == made[0]
    assert len(shaper._keyboards) == 2


def test_the_renderer_keeps_caching_current_keyboards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_KEYBOARDS_KEPT", 2)
    renderer = make_renderer()
    rows = [((Button(Msg("← Back"), f"a{turn}:x=1"),),) for turn in range(1, 4)]
    made = [renderer.keyboard(r, "ru") for r in rows]
    assert made[2] == ((("← Назад", "a3:x=1"),),)
    assert renderer.keyboard(rows[2], "ru") is made[2]  # the newest is kept
    assert renderer.keyboard(rows[0], "ru") == made[0]  # the oldest is made again
