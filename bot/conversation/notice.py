"""The screens of "Tell me if this changes": the offer, its answers, and the notice itself.

Pure data like every other screen. What is kept, and for how long, is said before anything
is kept; the notice says what changed and offers the full answer or a way to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.codec import NAV_NOTIFY_NO, NAV_NOTIFY_YES, NOTICE_SHOW, NOTICE_STOP
from bot.conversation.replies import N_, NN_, Button, Msg, Reply
from bot.conversation.result import (
    CERTAINTY_TEXT,
    explanation,
    footer_parts,
    key_caveat,
    status_line,
)
from bot.conversation.state import Mode, State
from rules import Certainty, Finding, Outcome

__all__ = [
    "NOTICE_DAYS",
    "NoticeRequest",
    "declined_reply",
    "kept_for_notices",
    "notice_reply",
    "offer_reply",
    "stopped_reply",
    "subscribed_reply",
]

#: How long a subscription is kept (said in the offer; the store's TTL).
NOTICE_DAYS = 180

_OFFER = N_(
    "If the rules change and your answer changes with them, the bot will send you one"
    " message.\nFor this it keeps, for {period}: this chat's address, the answers you gave and"
    " your language. Nothing else.\nYou can stop at any time: send /forget, or press the"
    " button in that message."
)
_DAYS = NN_("{n} day", "{n} days")
_KEPT_FOR_NOTICES = N_(
    "If you asked to be told when your answer changes, the bot also keeps, for {period}: this"
    " chat's address (encrypted), your answers and your language. /forget deletes them too."
)
_SUBSCRIBED = N_(
    "Done. If the answer changes, you will get one message here. To stop, send /forget."
)
_DECLINED = N_("Nothing has been kept.")
_STOPPED = N_(
    "You will get no more messages about changes. Everything kept for them has been deleted."
)
_CHANGED = N_("The answer to your question has changed.")
_BEFORE = N_("Before: {answer}")
_NOW = N_("Now: {answer}")
_SAME_ANSWER = N_("The answer is the same, but how certain it is has changed.")
_LEVEL = {
    Certainty.HIGH: N_("high certainty"),
    Certainty.MEDIUM: N_("medium certainty"),
    Certainty.LOW: N_("low certainty"),
}


@dataclass(frozen=True, slots=True)
class NoticeRequest:
    """What the person agreed to have kept: the answers, the language, the mode, and the
    answer they were shown (a notice is sent only when it changes)."""

    answers: dict[str, str | list[str]]
    lang: str
    mode: Mode
    outcome: Outcome
    requirement_met: bool | None
    certainty: Certainty
    rules_version: str

    @classmethod
    def of(cls, state: State, finding: Finding) -> NoticeRequest:
        return cls(
            answers=dict(state.answers),
            lang=state.lang or "ru",
            mode=state.mode or Mode.SELF,
            outcome=finding.outcome,
            requirement_met=finding.requirement_met,
            certainty=finding.certainty,
            rules_version=finding.rules_version,
        )


def offer_reply() -> Reply:
    """What will be kept, for how long, how to stop; then yes or no."""
    return Reply(
        (Msg.of(_OFFER, period=Msg.counted(_DAYS, NOTICE_DAYS)),),
        (
            (
                Button(Msg(N_("Yes, tell me")), NAV_NOTIFY_YES),
                Button(Msg(N_("No, thank you")), NAV_NOTIFY_NO),
            ),
        ),
    )


def kept_for_notices() -> Msg:
    """What /privacy adds for those who subscribed: the notices keep more, and for longer."""
    return Msg.of(_KEPT_FOR_NOTICES, period=Msg.counted(_DAYS, NOTICE_DAYS))


def subscribed_reply() -> Reply:
    return Reply((Msg(_SUBSCRIBED),), edit=True)


def declined_reply() -> Reply:
    return Reply((Msg(_DECLINED),), edit=True)


def stopped_reply() -> Reply:
    return Reply((Msg(_STOPPED),))


def notice_reply(
    before: tuple[Outcome, bool | None, Certainty], finding: Finding, mode: Mode
) -> Reply:
    """The notice: that the answer changed, before and now, why and how sure; then the full
    answer or stop."""
    was = status_line(*before, mode)
    now = status_line(finding.outcome, finding.requirement_met, finding.certainty, mode)
    if was != now:
        parts = [
            Msg(_CHANGED),
            Msg.of(_BEFORE, answer=Msg(was)),
            Msg.of(_NOW, answer=Msg(now)),
        ]
    else:  # only the certainty moved: two equal headlines would say nothing changed
        parts = [
            Msg(now),
            Msg(_SAME_ANSWER),
            Msg.of(_BEFORE, answer=Msg(_LEVEL[before[2]])),
            Msg.of(_NOW, answer=Msg(_LEVEL[finding.certainty])),
        ]
    parts += explanation(finding)
    parts.append(Msg(CERTAINTY_TEXT[finding.certainty.value]))
    parts += key_caveat(finding)  # e.g. the sources have not been checked for a long time
    parts += footer_parts()  # the dates, "not legal advice", where to get legal help
    buttons = (
        (Button(Msg(N_("Show the full answer")), NOTICE_SHOW),),
        (Button(Msg(N_("Stop these messages")), NOTICE_STOP),),
    )
    return Reply(tuple(parts), buttons)
