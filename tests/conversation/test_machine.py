"""The pure engine: questions asked, navigation, stale buttons, state versions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.conversation import (
    Answer,
    Back,
    Edit,
    Forget,
    Info,
    Mode,
    Nav,
    Preset,
    Restart,
    SetLanguage,
    SetMode,
    Start,
    State,
    Step,
    Text,
    decode,
    decode_button,
    encode,
    facts_of,
    make_payload,
    parse_payload,
    transition,
)
from bot.conversation.codec import MAX_DATA
from bot.conversation.questions import QUESTIONS
from bot.conversation.replies import Reply
from bot.conversation.state import FACT_CODES, SCHEMA
from rules import decide
from tests.conftest import TODAY


def _buttons(replies: tuple[Reply, ...]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def _started(payload: str = "en-self") -> State:
    result = transition(None, Start(payload=payload), today=TODAY)
    assert result.state is not None
    return result.state


class TestQuestions:
    """Only the facts the rules still need are asked, in their order."""

    def test_woman_gets_result_after_only_the_sex_question(self) -> None:
        """Language and mode, then one question: a woman is answered at once."""
        first = transition(None, Start(), today=TODAY)
        assert first.state is not None
        assert first.state.step is Step.LANGUAGE
        chose = transition(first.state, SetLanguage("tg"), today=TODAY)
        assert chose.state is not None
        assert chose.state.step is Step.MODE
        mode = transition(chose.state, SetMode("self"), today=TODAY)
        assert mode.state is not None
        assert mode.state.asking == "sex"
        done = transition(mode.state, Answer(mode.state.turn, "sex", "female"), today=TODAY)
        assert done.state is not None
        assert done.state.step is Step.RESULT
        assert done.state.answers == {"sex": "female"}

    def test_next_question_is_first_missing_fact(self) -> None:
        """After each answer the engine asks decide(...).missing[0]."""
        state = _started()
        for field, value in [
            ("sex", "male"),
            ("age_band", "18_to_65"),
            ("citizenship", "TJ"),
            ("application", "residence_permit"),
            ("grounds", "family"),
        ]:
            missing = decide(facts_of(state), on=TODAY).missing
            assert state.asking == missing[0]
            result = transition(state, Answer(state.turn, field, value), today=TODAY)
            assert result.state is not None
            state = result.state
        assert state.asking == "documents"

    def test_belarus_skips_application_and_grounds(self) -> None:
        """A citizen of Belarus is never asked what he applies for."""
        state = _started()
        for field, value in [("sex", "male"), ("age_band", "18_to_65"), ("citizenship", "BY")]:
            result = transition(state, Answer(state.turn, field, value), today=TODAY)
            assert result.state is not None
            state = result.state
        assert state.step is Step.REVIEW
        assert set(state.answers) == {"sex", "age_band", "citizenship"}

    def test_every_answer_button_carries_field_value_within_64_bytes(self) -> None:
        """Answer buttons end in `field=value` with the names of `decree-bot check`."""
        state = _started()
        seen = set()
        for field, value in [
            ("sex", "male"),
            ("age_band", "18_to_65"),
            ("citizenship", "UZ"),
            ("application", "citizenship"),
            ("grounds", "long_residence"),
        ]:
            result = transition(state, Answer(state.turn, field, value), today=TODAY)
            assert result.state is not None
            for data in _buttons(result.replies):
                assert len(data.encode()) <= MAX_DATA
                event = decode_button(data)
                assert event is not None, data
                if isinstance(event, Answer):
                    assert data.endswith(f"{event.field}={event.value}")
                    seen.add(event.field)
            state = result.state
        assert {"age_band", "citizenship", "application", "grounds", "documents"} <= seen

    def test_mode_changes_wording_not_rules(self) -> None:
        """The same answers give the same questions and outcome in every mode."""
        answers = [
            ("sex", "male"),
            ("age_band", "18_to_65"),
            ("citizenship", "AZ"),
            ("application", "residence_permit"),
            ("grounds", "family"),
            ("documents", "none"),
        ]
        finals = []
        texts = []
        for mode in Mode:
            state = _started(f"en-{mode.value}")
            asked = []
            for field, value in answers:
                asked.append(state.asking)
                result = transition(state, Answer(state.turn, field, value), today=TODAY)
                assert result.state is not None
                state = result.state
                texts.append(result.replies[0].parts[0])
            finals.append((tuple(asked), decide(facts_of(state), on=TODAY)))
        assert finals[0] == finals[1] == finals[2]
        assert len(set(texts)) > len(texts) // 3  # wording differs between modes


class TestNavigation:
    """Back, review, restart, language and stale buttons."""

    def _through(self, state: State, *answers: tuple[str, str]) -> State:
        for field, value in answers:
            result = transition(state, Answer(state.turn, field, value), today=TODAY)
            assert result.state is not None
            state = result.state
        return state

    def test_back_returns_to_the_question_visited_before(self) -> None:
        """Back from the citizenship question asks the age again, without its old answer."""
        state = self._through(_started(), ("sex", "male"), ("age_band", "18_to_65"))
        assert state.asking == "citizenship"
        back = transition(state, Back(), today=TODAY)
        assert back.state is not None
        assert back.state.asking == "age"
        assert "age_band" not in back.state.answers
        assert back.state.answers == {"sex": "male"}

    def test_review_change_asks_that_fact_again_then_reviews(self) -> None:
        """Changing one answer from the review keeps the others and returns to the review."""
        state = self._through(
            _started(), ("sex", "male"), ("age_band", "18_to_65"), ("citizenship", "BY")
        )
        assert state.step is Step.REVIEW
        edit = transition(state, Edit(state.turn, "citizenship"), today=TODAY)
        assert edit.state is not None
        assert edit.state.asking == "citizenship"
        again = self._through(edit.state, ("citizenship", "BY"))
        assert again.step is Step.REVIEW
        assert again.answers == {"sex": "male", "age_band": "18_to_65", "citizenship": "BY"}

    def test_restart_keeps_language_and_mode_and_invalidates_old_buttons(self) -> None:
        """After a restart, a press on an old message is recognised as stale."""
        state = self._through(_started("tg-relative"), ("sex", "male"))
        old_turn = state.turn
        restarted = transition(state, Restart(), today=TODAY)
        assert restarted.state is not None
        assert restarted.state.lang == "tg"
        assert restarted.state.mode is Mode.RELATIVE
        assert restarted.state.answers == {}
        stale = transition(restarted.state, Answer(old_turn, "age_band", "over_65"), today=TODAY)
        assert stale.state == restarted.state
        assert stale.replies[0].parts[0].id.startswith("This question has changed")  # type: ignore[union-attr]

    def test_double_press_of_the_same_answer_shows_its_screen_again(self) -> None:
        """Pressing the answer just taken again changes nothing and shows the screen that
        answer led to, in place of the pressed message (the first may never have arrived);
        an older press of a taken answer says nothing."""
        state = _started()
        first = transition(state, Answer(state.turn, "sex", "male"), today=TODAY)
        assert first.state is not None
        again = transition(first.state, Answer(state.turn, "sex", "male"), today=TODAY)
        assert again.state == first.state
        assert again.replies == (replace(first.replies[-1], edit=True),)
        second = transition(
            first.state, Answer(first.state.turn, "age_band", "18_to_65"), today=TODAY
        )
        assert second.state is not None
        older = transition(second.state, Answer(state.turn, "sex", "male"), today=TODAY)
        assert older.state == second.state
        assert older.replies == ()

    def test_language_change_keeps_answers(self) -> None:
        """/language and a new choice re-render the current question, answers intact."""
        state = self._through(_started("ru-self"), ("sex", "male"), ("age_band", "18_to_65"))
        changed = transition(state, SetLanguage("az"), today=TODAY)
        assert changed.state is not None
        assert changed.state.lang == "az"
        assert changed.state.answers == state.answers
        assert changed.state.asking == state.asking

    def test_forged_answer_value_is_not_stored(self) -> None:
        """A forged value for the current field is answered with the current question."""
        state = _started()
        forged = transition(state, Answer(state.turn, "sex", "robot"), today=TODAY)
        assert forged.state == state

    def test_typed_country_is_recognised(self) -> None:
        """A country typed in Uzbek at the citizenship question is taken as the answer."""
        state = self._through(_started("uz-self"), ("sex", "male"), ("age_band", "18_to_65"))
        typed = transition(state, Text("Qozogʻiston"), today=TODAY)
        assert typed.state is not None
        assert typed.state.answers["citizenship"] == "KZ"

    @pytest.mark.parametrize(
        ("lang", "typed", "expected"),
        [
            ("az", "Azərbaycandanam", "AZ"),
            ("az", "Gürcüstandanam", "GE"),
            ("az", "Azarbaycan", "AZ"),
            ("uz", "Oʻzbekistondanman", "UZ"),
            ("uz_Cyrl", "Ўзбекистонданман", "UZ"),
            ("tg", "аз Тоҷикистон", "TJ"),
            ("ru", "из Таджикистана", "TJ"),
            ("ru", "Tadjikistan", "TJ"),
            ("ru", "Узбекистон", "UZ"),
        ],
    )
    def test_country_typed_as_people_write(self, lang: str, typed: str, expected: str) -> None:
        """In a chat in `lang`, the country typed the way people write it is the answer."""
        state = self._through(_started(f"{lang}-self"), ("sex", "male"), ("age_band", "18_to_65"))
        answer = transition(state, Text(typed), today=TODAY)
        assert answer.state is not None
        assert answer.state.answers["citizenship"] == expected

    def test_unknown_country_says_it_was_not_found(self) -> None:
        """A name the bot cannot find is answered "I could not find", never "not recognised"."""
        state = self._through(_started("ru-self"), ("sex", "male"), ("age_band", "18_to_65"))
        answer = transition(state, Text("Нарния"), today=TODAY)
        assert answer.state is not None
        assert "citizenship" not in answer.state.answers
        first = answer.replies[0].parts[0]
        assert first.id.startswith("I could not find this country")  # type: ignore[union-attr]

    def test_nonsense_text_reasks_without_change(self) -> None:
        """Text where a button is expected is answered with a hint; nothing is stored."""
        state = _started()
        result = transition(state, Text("hello"), today=TODAY)
        assert result.state == state
        assert len(result.replies) == 2

    def test_forget_keeps_nothing_and_wipes(self) -> None:
        """/forget returns no state and asks the adapter to delete the chat."""
        result = transition(_started(), Forget(), today=TODAY)
        assert result.state is None
        assert result.wipe

    def test_info_does_not_change_state(self) -> None:
        """/privacy answers without touching the conversation."""
        state = _started()
        assert transition(state, Info("privacy"), today=TODAY).state == state

    def test_result_buttons_work_only_at_result(self) -> None:
        """ "Why" pressed before the result is treated as stale."""
        state = _started()
        assert (
            transition(state, Nav("why"), today=TODAY)
            .replies[0]
            .parts[0]
            .id.startswith(  # type: ignore[union-attr]
                "This question has changed"
            )
        )


class TestStateVersions:
    """Stored states round-trip; unreadable or old ones start afresh politely."""

    def test_round_trip(self) -> None:
        """A state survives encode and decode unchanged."""
        state = _started("uz_Cyrl-ngo-abc1")
        assert decode(encode(state)) == (state, False)
        assert state.org == "abc1"

    def test_schema_1_record_is_still_read(self) -> None:
        """A record of schema 1 (facts named in full) reads as the same conversation, and is
        stored again in the current schema (facts as their letters)."""
        raw = (
            b'{"v":1,"l":"az","m":"relative","s":"q","f":"application","a":{"sex":"male",'
            b'"age_band":"18_to_65","citizenship":"UZ"},"h":["sex","age","citizenship"],'
            b'"t":5,"i":1}'
        )
        state, lost = decode(raw)
        assert not lost
        assert state is not None
        assert state.schema_version == SCHEMA == 2
        assert (state.asking, state.path) == ("application", ("sex", "age", "citizenship"))
        assert state.answers == {"sex": "male", "age_band": "18_to_65", "citizenship": "UZ"}
        assert (state.lang, state.mode, state.step, state.turn) == ("az", "relative", "q", 5)
        assert state.first_message == 1
        assert encode(state) == (
            b'{"v":2,"l":"az","m":"relative","s":"q","f":"p","a":{"sex":"male",'
            b'"age_band":"18_to_65","citizenship":"UZ"},"h":"sac","t":5,"i":1}'
        )
        assert decode(encode(state)) == (state, False)

    def test_fact_letters_are_the_question_letters(self) -> None:
        """Each fact is stored as the letter its question has in callback data."""
        assert {fact: q.code for fact, q in QUESTIONS.items()} == FACT_CODES

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"{",
            b"[]",
            b'{"v":0}',
            b'{"v":3}',
            b'{"v":true}',
            b'{"v":1,"s":"nope"}',
            b'{"v":1,"h":["sex","nope"]}',
            b'{"v":1,"f":"nope"}',
            b'{"v":2,"h":"sx"}',
            b'{"v":2,"h":["sex"]}',
            b'{"v":2,"f":"application"}',
            b"\xff\xfe",
        ],
    )
    def test_unreadable_state_is_dropped(self, raw: bytes) -> None:
        """Garbage or an old schema decodes to nothing, flagged as lost."""
        assert decode(raw) == (None, True)

    def test_press_without_state_starts_again_with_notice(self) -> None:
        """A button pressed after the answers expired gets a polite fresh start."""
        result = transition(None, Answer(5, "sex", "male"), today=TODAY, hint="ru")
        assert result.state is not None
        assert result.state.lang == "ru"
        first = result.replies[0].parts[0]
        assert first.id.startswith("The earlier answers are no longer stored")  # type: ignore[union-attr]

    def test_state_with_invalid_answers_starts_again(self) -> None:
        """A stored state whose answers no longer validate is replaced, not trusted."""
        bad = _started().model_copy(update={"answers": {"sex": "robot"}})
        result = transition(bad, Answer(bad.turn, "sex", "male"), today=TODAY)
        assert result.state is not None
        assert result.state.answers == {}


class TestDeepLinks:
    """Deep-link payloads preselect language, mode and organisation."""

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [
            ("tg-relative-ngo1", Preset("tg", Mode.RELATIVE, "ngo1")),
            ("uz_Cyrl", Preset("uz_Cyrl", None, None)),
            ("az--org7", Preset("az", None, "org7")),
            ("xx-boss-<script>", Preset()),
            ("ru-self-" + "a" * 40, Preset("ru", Mode.SELF, None)),
            ("", Preset()),
        ],
    )
    def test_parse(self, payload: str, expected: Preset) -> None:
        """Valid parts are taken; anything else is ignored."""
        assert parse_payload(payload) == expected

    @given(st.text(max_size=80))
    def test_parse_never_raises(self, payload: str) -> None:
        """Any payload parses to some preset."""
        parse_payload(payload)

    def test_make_is_inverse(self) -> None:
        """make_payload and parse_payload agree."""
        preset = Preset("tg", Mode.NGO, "ngo1")
        assert parse_payload(make_payload(preset)) == preset


class TestCallbackCodec:
    """Callback data is parsed strictly."""

    @given(st.text(max_size=100))
    def test_decode_never_raises(self, data: str) -> None:
        """Forged data decodes to an event or None, never an exception."""
        decode_button(data)

    @pytest.mark.parametrize(
        "data",
        [
            "s1:sex",
            "z1:sex=male",
            "s:sex=male",
            "sx:sex=male",
            "s1:age_band=male=x",
            "nav:explode",
            "lang=xx",
            "e1:nope",
            "s1:" + "x" * 70,
        ],
    )
    def test_rejects(self, data: str) -> None:
        """Malformed or unknown data is not an event."""
        event = decode_button(data)
        assert event is None or isinstance(event, Answer)
        if isinstance(event, Answer):  # well-formed but wrong field: the engine rejects it
            assert event.field != "sex" or event.value != "male"

    def test_accepts(self) -> None:
        """Our own formats decode to the right events."""
        assert decode_button("c7:citizenship=TJ") == Answer(7, "citizenship", "TJ")
        assert decode_button("nav:back") == Back()
        assert decode_button("e3:grounds") == Edit(3, "grounds")
        assert decode_button("lang=uz_Cyrl") == SetLanguage("uz_Cyrl")
