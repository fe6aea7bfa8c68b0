"""The notice screens in the pure engine: the offer says what is kept before anything is,
only "yes" asks to keep it, and a notice's buttons show the answer again or stop."""

from __future__ import annotations

from bot.conversation import Nav, Start, State, Step, decode_button, transition
from bot.conversation.events import Info, Restore, ShowNotice, StopNotices
from bot.conversation.machine import facts_of
from bot.conversation.notice import NOTICE_DAYS, notice_reply
from bot.conversation.replies import Msg
from bot.conversation.state import Mode
from rules import Certainty, Outcome, decide
from tests.conftest import TODAY, WORKER


def _at_result() -> State:
    shown = transition(None, Restore(dict(WORKER), "tg", "relative"), today=TODAY)
    assert shown.state is not None
    assert shown.state.step is Step.RESULT
    return shown.state


def test_the_result_offers_notices_and_the_offer_says_what_is_kept() -> None:
    state = _at_result()
    offer = transition(state, Nav("notify"), today=TODAY)
    assert offer.subscribe is None, "pressing the offer keeps nothing"
    (reply,) = offer.replies
    (text,) = reply.parts
    assert isinstance(text, Msg)
    period = dict(text.params)["period"]
    assert isinstance(period, Msg)
    assert (period.id, period.plural, dict(period.params)) == (
        "{n} day",
        "{n} days",
        {"n": NOTICE_DAYS},
    )
    assert "this chat's address, the answers you gave and your language" in text.id
    assert [b.data for row in reply.buttons for b in row] == ["nav:notify_yes", "nav:notify_no"]


def test_nothing_is_kept_without_the_confirmation() -> None:
    state = _at_result()
    declined = transition(state, Nav("notify_no"), today=TODAY)
    assert declined.subscribe is None
    confirmed = transition(state, Nav("notify_yes"), today=TODAY)
    request = confirmed.subscribe
    assert request is not None
    assert request.answers == WORKER
    assert (request.lang, request.mode) == ("tg", Mode.RELATIVE)
    assert (request.outcome, request.requirement_met) == (Outcome.AFFECTED, False)


def test_an_old_offer_pressed_after_a_restart_keeps_nothing() -> None:
    state = _at_result()
    restarted = transition(state, Start(), today=TODAY).state
    assert restarted is not None
    assert transition(restarted, Nav("notify_yes"), today=TODAY).subscribe is None


def test_a_notices_buttons_show_the_answer_again_or_stop() -> None:
    assert decode_button("ntc:show") == ShowNotice()
    assert decode_button("ntc:stop") == StopNotices()
    assert decode_button("ntc:other") is None
    stop = transition(None, StopNotices(), today=TODAY)
    assert stop.unsubscribe
    # No subscription to show (it expired, or was stopped): the bot starts afresh.
    fresh = transition(None, ShowNotice(), today=TODAY)
    assert fresh.state is not None
    assert fresh.state.step is Step.LANGUAGE


def test_a_restore_with_forged_answers_starts_again() -> None:
    forged = transition(None, Restore({"sex": "robot"}, "tg", "self"), today=TODAY)
    assert forged.state is not None
    assert forged.state.answers == {}


def test_the_notice_says_before_and_now() -> None:
    state = _at_result()
    finding = decide(facts_of(state), on=TODAY)
    reply = notice_reply((Outcome.NOT_AFFECTED, None, Certainty.HIGH), finding, Mode.SELF)
    ids = [p.id for p in reply.parts if isinstance(p, Msg)]
    assert ids[:3] == [
        "The answer to your question has changed.",
        "Before: {answer}",
        "Now: {answer}",
    ]
    assert [b.data for row in reply.buttons for b in row] == ["ntc:show", "ntc:stop"]


def test_a_notice_where_only_the_certainty_moved_says_so() -> None:
    """Two equal headlines would read as "nothing changed": the notice names the certainty
    before and now instead."""
    finding = decide(facts_of(_at_result()), on=TODAY)
    before = next(c for c in Certainty if c is not finding.certainty)
    reply = notice_reply((finding.outcome, finding.requirement_met, before), finding, Mode.SELF)
    parts = [p for p in reply.parts if isinstance(p, Msg)]
    assert [p.id for p in parts[1:4]] == [
        "The answer is the same, but how certain it is has changed.",
        "Before: {answer}",
        "Now: {answer}",
    ]
    levels = [dict(p.params)["answer"] for p in parts[2:4]]
    assert [lv.id for lv in levels] == [f"{before} certainty", f"{finding.certainty} certainty"]  # type: ignore[union-attr]


def test_privacy_says_what_notices_keep_and_for_how_long() -> None:
    """/privacy tells a subscriber the longer keeping too: its 180 days and what /forget ends."""
    (reply,) = transition(None, Info("privacy"), today=TODAY).replies
    added = reply.parts[-1]
    assert isinstance(added, Msg)
    assert "this chat's address (encrypted), your answers and your language" in added.id
    period = dict(added.params)["period"]
    assert isinstance(period, Msg)
    assert dict(period.params) == {"n": NOTICE_DAYS}
