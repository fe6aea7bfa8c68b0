""" "I don't know": offered where people really don't know, and answered for every case."""

from __future__ import annotations

import pytest

from bot.conversation import LANGUAGES, Answer, Nav, Start, State, Step, transition, unknown_of
from bot.conversation.branches import _DEPENDS, _SETTLE, _WHATEVER, MAX_LINES
from bot.conversation.questions import DONT_KNOW, UNKNOWN
from bot.conversation.replies import Msg, Reply
from bot.conversation.result import CERTAINTY_TEXT
from bot.conversation.texts import CAVEAT_TEXT, DOCUMENT_TEXT, REASON_TEXT
from bot.i18n import Renderer
from tests.conftest import TODAY

MAN = [("sex", "male"), ("age_band", "18_to_65")]
#: The button as issue 16 words it in each language.
BUTTON = {
    "ru": "Не знаю",
    "tg": "Намедонам",
    "uz": "Bilmayman",
    "uz_Cyrl": "Билмайман",
    "az": "Bilmirəm",
    "en": "I don't know",
}


def _play(payload: str, answers: list[tuple[str, str]]) -> tuple[State, tuple[Reply, ...]]:
    result = transition(None, Start(payload=payload), today=TODAY)
    for field, value in answers:
        assert result.state is not None
        result = transition(result.state, Answer(result.state.turn, field, value), today=TODAY)
    assert result.state is not None
    return result.state, result.replies


def _data(replies: tuple[Reply, ...]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def _answer_data(replies: tuple[Reply, ...]) -> list[str]:
    return [d for d in _data(replies) if "=" in d and not d.startswith("nav")]


@pytest.mark.parametrize("mode", ["self", "relative", "ngo"])
@pytest.mark.parametrize(
    ("before", "field"),
    [
        ([*MAN, ("citizenship", "TJ")], "application"),
        ([*MAN, ("citizenship", "TJ"), ("application", "citizenship")], "grounds"),
        (
            [*MAN, ("citizenship", "TJ"), ("application", "citizenship"), ("grounds", "family")],
            "documents",
        ),
    ],
)
def test_offered_last_for_application_grounds_and_documents(
    mode: str, before: list[tuple[str, str]], field: str
) -> None:
    """In every mode, the last answer button of these questions is "I don't know"."""
    state, replies = _play(f"en-{mode}", before)
    assert state.asking == field
    assert _answer_data(replies)[-1].endswith(f":{field}=unknown")


@pytest.mark.parametrize(("mode", "offered"), [("self", False), ("relative", True), ("ngo", True)])
def test_age_is_unknown_only_for_someone_else(mode: str, offered: bool) -> None:
    """A person knows their own age; a relative or a volunteer may not."""
    state, replies = _play(f"en-{mode}", [("sex", "male")])
    assert state.asking == "age"
    assert _answer_data(replies)[-1].endswith(":age_band=unknown") is offered


def test_never_for_sex_or_citizenship() -> None:
    """Sex and citizenship are always known to whoever asks."""
    _, sex = _play("en-relative", [])
    _, citizenship = _play("en-relative", MAN)
    assert not any(d.endswith("=unknown") for d in _data(sex) + _data(citizenship))


def test_a_forged_unknown_is_not_taken() -> None:
    """ "I don't know" pressed where it is not offered is answered with the current question."""
    state, _ = _play("en-self", [("sex", "male")])
    after = transition(state, Answer(state.turn, "age_band", UNKNOWN), today=TODAY)
    assert after.state == state


def test_at_most_three_fields_are_unknown() -> None:
    """After three "I don't know" answers, the fourth question has no such button."""
    state, replies = _play(
        "en-relative",
        [("sex", "male"), ("age_band", UNKNOWN), ("citizenship", "TJ"), ("application", UNKNOWN)],
    )
    assert _answer_data(replies)[-1].endswith(":grounds=unknown")
    state, replies = _play(
        "en-relative",
        [("sex", "male"), ("age_band", UNKNOWN), ("citizenship", "TJ"), ("application", UNKNOWN),
         ("grounds", UNKNOWN)],
    )  # fmt: skip
    assert state.asking == "documents"
    assert not any(d.endswith("=unknown") for d in _data(replies))
    assert unknown_of(state) == {"age_band", "application", "grounds"}


def _result(payload: str, answers: list[tuple[str, str]]) -> tuple[State, Reply]:
    state, _ = _play(payload, answers)
    if state.step is Step.REVIEW:
        done = transition(state, Nav("result"), today=TODAY)
        assert done.state is not None
        state, replies = done.state, done.replies
    else:
        replies = ()
    assert state.step is Step.RESULT
    return state, replies[-1]


def _ids(reply: Reply) -> list[str]:
    return [p.id for p in reply.parts if isinstance(p, Msg)]


def _ids_deep(part: object) -> list[str]:
    if isinstance(part, Msg):
        return [part.id, *(i for _, v in part.params for i in _ids_deep(v))]
    return []


def test_documents_unknown_separates_holding_one_from_none() -> None:
    """The father learns what follows if his son holds one of the documents, and if none."""
    _, reply = _result(
        "en-relative",
        [*MAN, ("citizenship", "UZ"), ("application", "citizenship"), ("grounds", "family"),
         ("documents", UNKNOWN)],
    )  # fmt: skip
    first = reply.parts[0]
    assert isinstance(first, Msg)
    assert dict(first.params)["mark"] == "🟡"
    cases = [p for p in reply.parts if isinstance(p, Msg) and p.id.startswith("If {condition}")]
    results = [dict(c.params)["result"] for c in cases]
    # A Russian document meets it; earlier service or home-army papers leave it open; none not.
    assert [r.id[0] for r in results if isinstance(r, Msg)] == ["🟢", "🟡", "🔴"]
    assert "None of these" in _ids_deep(cases[-1])
    assert "None of these" not in _ids_deep(cases[0])


def test_when_every_case_agrees_it_says_so() -> None:
    """Application unknown, no document: the decree applies either way, and the screen says so."""
    _, reply = _result(
        "en-relative",
        [*MAN, ("citizenship", "TJ"), ("application", UNKNOWN), ("grounds", "long_residence"),
         ("documents", "none")],
    )  # fmt: skip
    ids = _ids(reply)
    assert ids[0].startswith("🔴")
    assert any(i.startswith("This holds for every possible answer") for i in ids)
    assert not any(i.startswith("If {condition}") for i in ids)


def test_too_many_cases_name_the_question_that_settles_most() -> None:
    """Beyond the line limit, the screen names one question instead of listing every case."""
    _, reply = _result(
        "en-relative",
        [("sex", "male"), ("age_band", UNKNOWN), ("citizenship", "TJ"), ("application", UNKNOWN),
         ("grounds", UNKNOWN), ("documents", "none")],
    )  # fmt: skip
    ids = _ids(reply)
    cases = [i for i in ids if i.startswith("If {condition}")]
    assert len(cases) <= MAX_LINES
    settle = [
        p for p in reply.parts if isinstance(p, Msg) and p.id.startswith("The answer depends")
    ]
    assert settle
    assert "🟡" in str(reply.parts[0])


def test_why_says_only_what_holds_in_every_case() -> None:
    """ "Why" explains the branching and never claims what was not said ("you named a document")."""
    state, _ = _result(
        "en-relative",
        [*MAN, ("citizenship", "UZ"), ("application", "citizenship"), ("grounds", "family"),
         ("documents", UNKNOWN)],
    )  # fmt: skip
    why = transition(state, Nav("why"), today=TODAY).replies[-1]
    ids = [i for p in why.parts for i in _ids_deep(p)]
    assert any(i.startswith("Some answers were not known") for i in ids)
    assert REASON_TEXT["document_none"] not in ids
    assert REASON_TEXT["document_held"] not in ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_quote_the_button_as_it_reads(lang: str, renderer: Renderer) -> None:
    """Every text that names «I don't know» quotes the button's own label in that language."""
    label = renderer.gettext(DONT_KNOW, lang)
    assert label == BUTTON[lang]
    quoting = [m for m in (_DEPENDS, _WHATEVER, _SETTLE) if f"«{DONT_KNOW}»" in m]
    assert len(quoting) == 3
    for message in quoting:
        assert f"«{label}»" in renderer.gettext(message, lang)


@pytest.mark.parametrize(
    "answers",
    [
        [*MAN, ("citizenship", "UZ"), ("application", "citizenship"), ("grounds", "family"),
         ("documents", UNKNOWN)],
        [*MAN, ("citizenship", "TJ"), ("application", UNKNOWN), ("grounds", "long_residence"),
         ("documents", "unfitness_decision")],
    ],
)  # fmt: skip
def test_a_shared_result_keeps_its_certainty_caveat_and_dates(
    answers: list[tuple[str, str]],
) -> None:
    """Forwarded, a result with unknown answers ends as the ordinary share does: how certain
    it is, the caveat that holds in every case, "not legal advice" and both dates."""
    state, screen = _result("en-relative", answers)
    note, text = transition(state, Nav("share"), today=TODAY).replies
    shared = _ids(text)
    assert note.parts[0].id.startswith("Forward the next message")  # type: ignore[union-attr]
    assert sum(i in CERTAINTY_TEXT.values() for i in shared) == 1
    assert [i for i in _ids(screen) if i in CERTAINTY_TEXT.values()] == [
        i for i in shared if i in CERTAINTY_TEXT.values()
    ]
    assert any(i.startswith("Information as of {date}") for i in shared)
    assert "This is information, not legal advice." in shared
    if "unfitness_decision" in dict(answers).values():
        assert CAVEAT_TEXT["unfitness_via_selection_point"] in shared


@pytest.mark.parametrize("application", ["citizenship", "residence_permit"])
def test_the_documents_list_is_in_the_buttons_order(application: str) -> None:
    """A reader with little Russian matches the list and the buttons by position (R2-15)."""
    _, replies = _play(
        "en-relative",
        [*MAN, ("citizenship", "TJ"), ("application", application), ("grounds", "family")],
    )
    question = replies[-1]
    listed = dict(question.parts[0].params)["documents"]  # type: ignore[union-attr]
    by_text = {text: value for value, text in DOCUMENT_TEXT.items()}
    in_list = [by_text[m.id] for m in listed.items]
    pressed = [d.rsplit("=", 1)[1] for d in _answer_data((question,))]
    assert in_list == [v for v in pressed if v in in_list]
    assert len(in_list) >= 3
