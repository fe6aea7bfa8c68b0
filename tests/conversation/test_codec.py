"""The codec: every button's data is written by `codec.py` and reads back as what it meant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.conversation.codec import (
    MAX_DATA,
    NAV_BACK,
    NAV_RESTART,
    NAV_RESULT,
    NAV_REVIEW,
    NAV_SHARE,
    NAV_WHY,
    answer_data,
    decode_button,
    edit_data,
    language_data,
    mode_data,
    type_country_data,
)
from bot.conversation.events import (
    Answer,
    Back,
    Edit,
    Nav,
    Restart,
    SetLanguage,
    SetMode,
    TypeCountry,
)
from bot.conversation.questions import QUESTIONS, UNKNOWN
from bot.conversation.state import LANGUAGES, Mode

BOT = Path(__file__).resolve().parents[2] / "bot"
turns = st.integers(min_value=0, max_value=999_999_999)
answers = st.sampled_from(
    [(q, o.value) for q in QUESTIONS.values() for o in q.options]
    + [(q, UNKNOWN) for q in QUESTIONS.values() if q.unknown_in]
)


@given(answers, turns)
def test_every_answer_decodes_back(answer: tuple, turn: int) -> None:  # type: ignore[type-arg]
    """An answer button's data means that answer to that question at that turn; "I don't
    know" ends with `field=unknown` like the other answers."""
    question, value = answer
    data = answer_data(question, turn, value)
    assert data.endswith(f":{question.field}={value}")
    assert len(data.encode()) <= MAX_DATA
    assert decode_button(data) == Answer(turn, question.field, value)


@given(st.sampled_from([q.field for q in QUESTIONS.values()]), turns)
def test_every_edit_decodes_back(field: str, turn: int) -> None:
    """A "change" button's data means changing that answer."""
    assert decode_button(edit_data(turn, field)) == Edit(turn, field)


@given(turns)
def test_type_country_decodes_back(turn: int) -> None:
    """The "another country" button means typing the country."""
    assert decode_button(type_country_data(QUESTIONS["citizenship"], turn)) == TypeCountry(turn)


def test_choices_and_navigation_decode_back() -> None:
    """Languages, modes and navigation read back as what they choose."""
    for lang in LANGUAGES:
        assert decode_button(language_data(lang)) == SetLanguage(lang)
    for mode in Mode:
        assert decode_button(mode_data(mode)) == SetMode(mode.value)
    assert decode_button(NAV_BACK) == Back()
    assert decode_button(NAV_RESTART) == Restart()
    for data, to in [(NAV_REVIEW, "review"), (NAV_RESULT, "result"), (NAV_WHY, "why")]:
        assert decode_button(data) == Nav(to)
    assert decode_button(NAV_SHARE) == Nav("share")


@pytest.mark.parametrize(
    "data",
    ["", "nav:", "nav:home", "lang=xx", "mode=boss", "s1:age_band=18_to_65", "x1:sex=male",
     "e1:age", "s1:sex=", "d1:type=citizenship", "s:sex=male", "e:sex", "s1:sex=male" + "x" * 64],
)  # fmt: skip
def test_foreign_data_is_ignored(data: str) -> None:
    """Data the codec did not write means nothing."""
    assert decode_button(data) is None


def _formatted_buttons(path: Path) -> list[int]:
    """Lines where a `Button` gets data written out in place (a literal or an f-string)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name not in {"Button", "InlineKeyboardButton"}:
            continue
        data = [
            *node.args[1:2],
            *(k.value for k in node.keywords if k.arg in {"data", "callback_data"}),
        ]
        if any(isinstance(d, ast.Constant | ast.JoinedStr | ast.BinOp) for d in data):
            lines.append(node.lineno)
    return lines


def test_no_button_data_is_formatted_outside_the_codec() -> None:
    """Screens, results and adapters ask the codec for a button's data; none writes its own."""
    found = {
        str(path.relative_to(BOT)): lines
        for path in BOT.rglob("*.py")
        if path.name != "codec.py" and (lines := _formatted_buttons(path))
    }
    assert found == {}


def test_the_checker_sees_formatted_data(tmp_path: Path) -> None:
    """The check above would catch a screen that formats its own data."""
    sample = tmp_path / "screen.py"
    sample.write_text(
        'Button(label, f"e{turn}:{field}")\nButton(label, "nav:why")\nButton(label, data=NAV_WHY)\n'
    )
    assert _formatted_buttons(sample) == [1, 2]
