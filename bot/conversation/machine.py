"""`transition`: the pure conversation engine.

`transition(state, event, today=...)` returns the next state and the replies, as data. The
next question is always the first fact the rules still need (`Finding.missing`); nothing else
is asked. Every answer button carries the turn it was shown at, so a press on an old message
is recognised and answered with the current question, never applied to the wrong one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date

from bot.conversation.branches import branching_reply, branching_share, branching_why
from bot.conversation.codec import answer_data, type_country_data
from bot.conversation.countries import ISO_CODES, STATELESS, match_country
from bot.conversation.deeplink import parse_payload
from bot.conversation.events import (
    Answer,
    Back,
    Edit,
    Event,
    Forget,
    Info,
    Nav,
    Restart,
    Restore,
    SetLanguage,
    SetMode,
    ShowNotice,
    Start,
    StopNotices,
    Text,
    TypeCountry,
)
from bot.conversation.notice import (
    NoticeRequest,
    declined_reply,
    kept_for_notices,
    offer_reply,
    stopped_reply,
    subscribed_reply,
)
from bot.conversation.questions import BY_FIELD, DONT_KNOW, UNKNOWN, Question, question_for
from bot.conversation.replies import N_, Bullets, Button, Country, Msg, Reply
from bot.conversation.result import result_reply, share_replies, why_reply
from bot.conversation.screens import (
    INFO,
    introduction,
    language_picker,
    mode_picker,
    nav_row,
    review,
)
from bot.conversation.state import LANGUAGES, Mode, State, Step
from bot.conversation.texts import DOCUMENT_TEXT
from rules import Document, Facts, Finding
from rules.possibilities import MAX_UNKNOWN, Possibilities, possibilities

__all__ = [
    "REVIEW_FROM",
    "Transition",
    "facts_of",
    "negotiate",
    "screen",
    "transition",
    "unknown_of",
]

#: With this many answers or more, the answers are shown for checking before the result.
REVIEW_FROM = 3


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of one event: the state to keep (None: keep nothing) and the replies."""

    state: State | None
    replies: tuple[Reply, ...]
    #: Delete the conversation's messages from the chat too (/forget).
    wipe: bool = False
    #: The person agreed to be told if this answer changes: keep this much.
    subscribe: NoticeRequest | None = None
    #: Stop the notices and delete what was kept for them.
    unsubscribe: bool = False


def negotiate(language_code: str | None) -> str | None:
    """One of our languages for a Telegram `language_code` such as "uz" or "ru-RU"."""
    if not language_code:
        return None
    primary = language_code.replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def facts_of(state: State) -> Facts:
    """The facts for the rules, from the stored answers ("I don't know" leaves a fact out)."""
    answers = {
        field: BY_FIELD[field].stored(value)
        if field in BY_FIELD and isinstance(value, str)
        else value
        for field, value in state.answers.items()
        if value != UNKNOWN
    }
    return Facts.model_validate(answers)


def unknown_of(state: State) -> frozenset[str]:
    """The fields answered "I don't know"."""
    return frozenset(field for field, value in state.answers.items() if value == UNKNOWN)


@functools.lru_cache(maxsize=4096)
def _judge(facts: Facts, unknown: frozenset[str], today: date) -> Possibilities:
    """`decide` for each possible answer to the unknown fields (just `decide` without any),
    remembered: it is pure, and people give the same few answers (it was most of a
    transition's cost)."""
    return possibilities(facts, unknown, on=today)


def _judged(state: State, today: date) -> Possibilities:
    """The rules' answer for the state's answers; ValueError if they cannot be read."""
    return _judge(facts_of(state), unknown_of(state), today)


def answer_for(answers: dict[str, str | list[str]], day: date) -> Finding:
    """The finding the result screen shows for these answers on `day` (the overall one when
    some answer is "I don't know"): what a notice compares against."""
    finding: Finding = _judged(State.fresh(answers=answers), day).finding
    return finding


def _offers_unknown(state: State, question: Question) -> bool:
    """Whether "I don't know" is an answer to `question` here."""
    mode = state.mode or Mode.SELF
    return mode in question.unknown_in and len(unknown_of(state) - {question.field}) < MAX_UNKNOWN


def transition(
    state: State | None, event: Event, *, today: date, hint: str | None = None
) -> Transition:
    """The next state and the replies for `event`."""
    if isinstance(event, Forget):
        return Transition(None, (Reply((Msg(_FORGOTTEN),)),), wipe=True)
    if isinstance(event, Info):
        told = (
            (INFO[event.topic], kept_for_notices())
            if event.topic == "privacy"
            else (INFO[event.topic],)
        )
        return Transition(state, (Reply(told),))
    if isinstance(event, Start):
        return _start(state, event, today=today)
    if isinstance(event, StopNotices):
        return Transition(state, (stopped_reply(),), unsubscribe=True)
    if isinstance(event, Restore):
        return _restore(event, today)
    if isinstance(event, ShowNotice):  # the adapter found no subscription to restore
        return _start(state, Start(hint=hint), today=today)
    if state is None:
        return _without_state(event, today=today, hint=hint)
    try:
        _judged(state, today)
    except ValueError:  # pydantic's ValidationError too: stored answers that no longer fit
        return _start(None, Start(hint=hint or state.lang), today=today, notice=_LOST)
    return _dispatch(state, event, today)


_FORGOTTEN = N_("Everything about this conversation has been deleted. To start again, send /start.")
_LOST = N_(
    "The earlier answers are no longer stored: they are deleted after some time without"
    " messages, to protect privacy. Let us start again."
)
_STALE = N_("This question has changed. Here is the current one.")
_USE_BUTTONS = N_("Please answer with the buttons below the question.")
_UNKNOWN_COUNTRY = N_(
    "I could not find this country. Please write its name again, for example «Армения» or"
    " «Qozogʻiston», or choose a button."
)
_TYPE_COUNTRY = N_("Please write the name of the country.")
_RECOGNISED = N_("Citizenship: {country}. If this is wrong, press «← Back».")


def _restore(event: Restore, today: date) -> Transition:
    """The answer for a subscription's answers, as a new conversation at its result."""
    mode = event.mode if event.mode in Mode.__members__.values() else Mode.SELF
    lang = event.lang if event.lang in LANGUAGES else None
    try:
        state = State.fresh(lang=lang, mode=mode, answers=event.answers, step=Step.REVIEW)
        _judged(state, today)
    except ValueError:  # pydantic's ValidationError too: kept answers that no longer fit
        return _start(None, Start(hint=lang), today=today, notice=_LOST)
    moved, replies = _advance(state, today, edit=False)
    return Transition(moved, replies)


def _without_state(event: Event, *, today: date, hint: str | None) -> Transition:
    """Nothing is stored: a first message, or a press after the answers were deleted."""
    if isinstance(event, SetLanguage) and event.lang is not None:
        return _start(None, Start(payload=event.lang), today=today)
    if isinstance(event, SetMode):
        return _start(None, Start(hint=hint), today=today)
    if isinstance(event, Text):
        return _start(None, Start(hint=hint), today=today)
    return _start(None, Start(hint=hint), today=today, notice=_LOST)


def _start(
    old: State | None, event: Start, *, today: date, notice: str | None = None
) -> Transition:
    preset = parse_payload(event.payload)
    lang = preset.lang or negotiate(event.hint) or (old.lang if old else None)
    mode = preset.mode or (old.mode if old else None)
    state = State.fresh(
        lang=lang,
        mode=mode,
        org=preset.org or (old.org if old else None),
        # A new conversation starts at the language picker, or at the mode picker.
        step=Step.LANGUAGE if lang is None or mode is not None else Step.MODE,
        turn=(old.turn + 1) if old else 1,
        first_message=old.first_message if old else None,
    )
    head = (Reply((Msg(notice),)),) if notice else ()
    if state.lang is None:
        return Transition(state, (*head, language_picker()))
    if state.mode is None:
        return Transition(state, (*head, introduction(), mode_picker()))
    moved, replies = _advance(state, today, edit=False)
    return Transition(moved, (*head, introduction(state.mode), *replies))


def _advance(state: State, today: date, *, edit: bool) -> tuple[State, tuple[Reply, ...]]:
    """Ask the first missing fact; with none missing, review the answers or show the result."""
    judged = _judged(state, today)
    if judged.finding.missing:
        return _ask(state, judged.finding.missing[0], today, edit=edit)
    if len(state.answers) >= REVIEW_FROM and state.step is not Step.REVIEW:
        moved = state.at(Step.REVIEW)
        return moved, (replace(review(moved), edit=edit),)
    return _result(state, judged, edit=edit)


def _result(state: State, judged: Possibilities, *, edit: bool) -> tuple[State, tuple[Reply, ...]]:
    moved = state.at(Step.RESULT)
    return moved, (replace(_result_reply(judged, moved), edit=edit),)


def _result_reply(judged: Possibilities, state: State) -> Reply:
    """The result: one finding, or the branches when some answers are unknown."""
    if judged.unknown:
        return branching_reply(judged, state)
    return result_reply(judged.finding, state)


def _ask(state: State, fact: str, today: date, *, edit: bool) -> tuple[State, tuple[Reply, ...]]:
    moved = state.at(Step.QUESTION, asking=fact)
    return moved, (_question(moved, today, edit=edit),)


def _question(state: State, today: date, *, edit: bool) -> Reply:
    question = question_for(state.asking or "sex")
    mode = state.mode or Mode.SELF
    parts = [Msg(question.text[mode])]
    options = question.options
    if question.fact == "documents":
        # Offer only what counts for this application, each with its official name, and the
        # two answers that are always possible: papers from another army, and none.
        accepted = [d.value for d in _judged(state, today).finding.accepted_documents]
        always = {Document.FOREIGN_MILITARY_DOCUMENT.value, "none"}
        options = tuple(o for o in options if o.value in accepted or o.value in always)
        # The list in the buttons' order: a reader matches them by position (R2-15).
        names = Bullets(tuple(Msg(DOCUMENT_TEXT[o.value]) for o in options if o.value in accepted))
        parts = [Msg.of(question.text[mode], documents=names)]
    if question.hint:
        parts.append(Msg(question.hint))
    buttons = [Button(o.label, answer_data(question, state.turn, o.value)) for o in options]
    if question.fact == "citizenship":
        buttons.append(Button(Msg(N_("Another country")), type_country_data(question, state.turn)))
    if _offers_unknown(state, question):
        buttons.append(Button(Msg(DONT_KNOW), answer_data(question, state.turn, UNKNOWN)))
    rows = tuple(
        tuple(buttons[i : i + question.per_row]) for i in range(0, len(buttons), question.per_row)
    )
    return Reply(tuple(parts), (*rows, nav_row()), edit=edit)


def _render(state: State, today: date, *, edit: bool) -> Reply:
    """The current step again (after a language change, a stale press or stray text)."""
    if state.step is Step.LANGUAGE:
        return replace(language_picker(), edit=edit)
    if state.step is Step.MODE:
        return replace(mode_picker(), edit=edit)
    if state.step is Step.QUESTION:
        return _question(state, today, edit=edit)
    if state.step is Step.COUNTRY_TEXT:
        return Reply((Msg(_TYPE_COUNTRY),), (nav_row(),), edit=edit)
    if state.step is Step.REVIEW:
        return replace(review(state), edit=edit)
    return replace(_result_reply(_judged(state, today), state), edit=edit)


def screen(state: State, today: date) -> Reply | None:
    """The current step as an edit of the pressed message, or None if the state is unusable.

    For a press delivered again whose first reply may never have been sent: in place of the
    pressed message it shows what that reply showed, and changes nothing if it did arrive.
    """
    try:
        _judged(state, today)
    except ValueError:
        return None
    return _render(state, today, edit=True)


def _stale(state: State, today: date) -> Transition:
    return Transition(state, (Reply((Msg(_STALE),)), _render(state, today, edit=False)))


def _on_answer(state: State, event: Answer, today: date) -> Transition:
    value = BY_FIELD[event.field].stored(event.value)
    asking = state.asking and question_for(state.asking)
    current = (
        state.step in {Step.QUESTION, Step.COUNTRY_TEXT}
        and event.turn == state.turn
        and asking
        and asking.field == event.field
    )
    if not current:
        if state.answers.get(event.field) == value:
            # The answer already taken, pressed again. Right after it was taken, its screen
            # may never have arrived (the store failed after the write): show it in place of
            # the pressed message; if it did arrive, the edit changes nothing.
            again = screen(state, today) if event.turn + 1 == state.turn else None
            return Transition(state, () if again is None else (again,))
        return _stale(state, today)
    if event.value == UNKNOWN and not (asking and _offers_unknown(state, asking)):
        return _stale(state, today)  # not offered here: a forged press
    return _apply(state, event.field, value, today)


def _apply(state: State, field: str, value: str | list[str], today: date) -> Transition:
    if field == "citizenship" and value != STATELESS and value not in ISO_CODES:
        return _stale(state, today)  # a forged code ("XX"): only real countries are stored
    answers = {**state.answers, field: value}
    fact = state.asking or field
    candidate = state.answered(answers, (*[f for f in state.path if f != fact], fact))
    try:
        _judged(candidate, today)
    except ValueError:
        return _stale(state, today)  # a forged value: ask the current question again
    moved, replies = _advance(candidate, today, edit=True)
    return Transition(moved, replies)


def _on_text(state: State, event: Text, today: date) -> Transition:
    asking_country = state.asking == "citizenship" and state.step in {
        Step.QUESTION,
        Step.COUNTRY_TEXT,
    }
    if asking_country:
        code = match_country(event.text)
        if code is not None:
            applied = _apply(state, "citizenship", code, today)
            # Say what was understood: a typed "no" is also Norway's ISO code.
            heard = Reply((Msg.of(_RECOGNISED, country=Country(code)),))
            return Transition(applied.state, (heard, *applied.replies))
        return Transition(
            state, (Reply((Msg(_UNKNOWN_COUNTRY),)), _render(state, today, edit=False))
        )
    return Transition(state, (Reply((Msg(_USE_BUTTONS),)), _render(state, today, edit=False)))


def _on_type_country(state: State, event: TypeCountry, today: date) -> Transition:
    if state.step is not Step.QUESTION or state.asking != "citizenship" or event.turn != state.turn:
        return _stale(state, today)
    moved = state.at(Step.COUNTRY_TEXT, asking=state.asking)
    return Transition(moved, (_render(moved, today, edit=True),))


def _on_back(state: State, today: date) -> Transition:
    if state.step is Step.RESULT and len(state.answers) >= REVIEW_FROM:
        moved = state.at(Step.REVIEW)
        return Transition(moved, (review(moved),))
    if state.path:
        previous = state.path[-1]
        field = question_for(previous).field
        answers = {k: v for k, v in state.answers.items() if k != field}
        moved = state.answered(answers, state.path[:-1])
        moved, replies = _ask(moved, previous, today, edit=True)
        return Transition(moved, replies)
    if state.step in {Step.QUESTION, Step.COUNTRY_TEXT}:
        moved = state.at(Step.MODE)
        return Transition(moved, (_render(moved, today, edit=True),))
    if state.step is Step.MODE:
        moved = state.at(Step.LANGUAGE)
        return Transition(moved, (_render(moved, today, edit=True),))
    return Transition(state, (_render(state, today, edit=False),))


def _on_restart(state: State, today: date) -> Transition:
    fresh = State.fresh(
        lang=state.lang,
        mode=state.mode,
        org=state.org,
        turn=state.turn,
        first_message=state.first_message,
    )
    if fresh.lang is None or fresh.mode is None:
        return _start(state, Start(), today=today)
    moved, replies = _advance(fresh, today, edit=False)
    return Transition(moved, replies)


def _on_language(state: State, event: SetLanguage, today: date) -> Transition:
    if event.lang is None:
        return Transition(state, (language_picker(),))
    moved = state.speaking(event.lang)
    if state.step is not Step.LANGUAGE:
        return Transition(moved, (_render(moved, today, edit=True),))
    intro = replace(introduction(moved.mode), edit=True)  # the welcome takes the picker's place
    if moved.mode is None:
        moved = moved.at(Step.MODE)
        return Transition(moved, (intro, mode_picker()))
    advanced, replies = _advance(moved, today, edit=False)
    return Transition(advanced, (intro, *replies))


def _on_mode(state: State, event: SetMode, today: date) -> Transition:
    moved = state.asked_for(Mode(event.mode))
    if state.step in {Step.LANGUAGE, Step.MODE}:
        advanced, replies = _advance(moved, today, edit=True)
        return Transition(advanced, replies)
    return Transition(moved, (_render(moved, today, edit=True),))


def _on_edit(state: State, event: Edit, today: date) -> Transition:
    if state.step not in {Step.REVIEW, Step.RESULT} or event.turn != state.turn:
        return _stale(state, today)
    fact = BY_FIELD[event.field].fact
    if event.field not in state.answers:
        return _stale(state, today)
    answers = {k: v for k, v in state.answers.items() if k != event.field}
    moved = state.answered(answers, tuple(f for f in state.path if f != fact))
    moved, replies = _ask(moved, fact, today, edit=True)
    return Transition(moved, replies)


def _on_nav(state: State, event: Nav, today: date) -> Transition:
    judged = _judged(state, today)
    finding = judged.finding
    if event.to == "review" and state.step is Step.RESULT:
        moved = state.at(Step.REVIEW)
        return Transition(moved, (review(moved),))
    if event.to == "result" and state.step is Step.REVIEW and not finding.missing:
        moved, replies = _result(state, judged, edit=True)
        return Transition(moved, replies)
    if event.to == "why" and state.step is Step.RESULT:
        why = branching_why(judged, state) if judged.unknown else why_reply(finding, state)
        return Transition(state, (why,))
    if event.to == "share" and state.step is Step.RESULT:
        if judged.unknown:
            return Transition(state, branching_share(judged, state))
        return Transition(state, share_replies(finding, state.answers.get("application")))
    if event.to == "notify" and state.step is Step.RESULT:
        return Transition(state, (offer_reply(),))
    if event.to == "notify_yes" and state.step is Step.RESULT:
        request = NoticeRequest.of(state, finding)
        return Transition(state, (subscribed_reply(),), subscribe=request)
    if event.to == "notify_no" and state.step is Step.RESULT:
        return Transition(state, (declined_reply(),))
    return _stale(state, today)


def _dispatch(state: State, event: Event, today: date) -> Transition:
    match event:
        case Answer():
            return _on_answer(state, event, today)
        case Text():
            return _on_text(state, event, today)
        case TypeCountry():
            return _on_type_country(state, event, today)
        case Back():
            return _on_back(state, today)
        case Restart():
            return _on_restart(state, today)
        case SetLanguage():
            return _on_language(state, event, today)
        case SetMode():
            return _on_mode(state, event, today)
        case Edit():
            return _on_edit(state, event, today)
        case Nav():
            return _on_nav(state, event, today)
    return _stale(state, today)  # Start, Forget and Info are handled before dispatch
