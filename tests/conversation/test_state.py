"""The state changes only through typed methods; a step change always starts a new turn."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.conversation.state import Mode, State, Step

BOT = Path(__file__).resolve().parents[2] / "bot"


def test_at_sets_the_step_and_question_and_bumps_the_turn() -> None:
    """`at` moves to a step, asks there, and starts a new turn."""
    state = State.fresh(lang="ru", mode=Mode.SELF, turn=4, asking="sex", step=Step.QUESTION)
    moved = state.at(Step.QUESTION, asking="age")
    assert (moved.step, moved.asking, moved.turn) == (Step.QUESTION, "age", 5)
    review = moved.at(Step.REVIEW)
    assert (review.step, review.asking, review.turn) == (Step.REVIEW, None, 6)


def test_a_misspelt_field_cannot_pass() -> None:
    """A typo in a change is an error, not a silently ignored key (as `model_copy` would do)."""
    state = State.fresh(lang="ru")
    with pytest.raises(TypeError):
        state.at(Step.QUESTION, askng="age")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        State.fresh(lang="ru", answerz={})


def test_other_changes_keep_the_step_and_turn() -> None:
    """Answers, language and mode change without moving the conversation."""
    state = State.fresh(lang="ru", step=Step.QUESTION, asking="sex", turn=3)
    changed = state.answered({"sex": "male"}, ("sex",)).speaking("tg").asked_for(Mode.NGO)
    assert (changed.step, changed.turn, changed.asking) == (Step.QUESTION, 3, "sex")
    assert (changed.answers, changed.path, changed.lang, changed.mode) == (
        {"sex": "male"},
        ("sex",),
        "tg",
        Mode.NGO,
    )


def test_nothing_outside_the_state_copies_it_with_updates() -> None:
    """Every change goes through `State`'s methods: no `model_copy(update=...)` elsewhere."""
    found = []
    for path in BOT.rglob("*.py"):
        if path.name == "state.py" and path.parent.name == "conversation":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_copy = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "model_copy"
            if is_copy and any(k.arg == "update" for k in node.keywords):  # type: ignore[attr-defined]
                found.append(f"{path.relative_to(BOT)}:{node.lineno}")
    assert found == []
