"""Golden transcripts: every persona in every language renders exactly as checked in.

After a deliberate change of wording or flow, rewrite them with
`.venv/bin/python -m tests.conversation.golden` and read the diff before committing.
"""

from __future__ import annotations

import pytest

from bot.conversation import LANGUAGES, decode, facts_of, unknown_of
from bot.i18n import Renderer
from rules.possibilities import possibilities
from tests.conftest import TODAY
from tests.conversation.golden import golden_path, run_persona
from tests.conversation.personas import PERSONAS, Persona


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
async def test_transcript_matches_golden(persona: Persona, lang: str, renderer: Renderer) -> None:
    """The conversation reads exactly as the reviewed transcript."""
    chat = await run_persona(persona, lang, renderer)
    expected = golden_path(lang, persona).read_text(encoding="utf-8")
    assert chat.text() + "\n" == expected


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
async def test_persona_reaches_its_outcome(persona: Persona, renderer: Renderer) -> None:
    """Each persona ends on the outcome it was written for (checked against the rules)."""
    chat = await run_persona(persona, "en", renderer)
    snapshot = await chat.store.get(chat.key)
    state, lost = decode(snapshot.data)
    assert state is not None
    assert not lost
    found = possibilities(facts_of(state), unknown_of(state), on=TODAY)
    assert found.finding.outcome.value == persona.outcome
    assert state.step.value == "result"


def test_personas_cover_every_outcome_and_mode() -> None:
    """Together the personas reach all four outcomes and use all three modes."""
    assert {p.outcome for p in PERSONAS} == {
        "affected",
        "not_affected",
        "separate_rules",
        "unclear",
    }
    payloads = " ".join(str(step) for p in PERSONAS for step in p.steps)
    for mode in ("self", "relative", "ngo"):
        assert mode in payloads
    assert len(PERSONAS) >= 8
