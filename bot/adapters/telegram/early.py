"""Answering Telegram's webhook before a reply that must wait has been sent.

Telegram keeps at most `max_connections` webhook connections to the bot (40 unless set) and
sends the next update on a connection only once the last one was answered. An update is
answered after it is handled, so that if this process dies midway Telegram delivers it again.
But in a surge, when replies wait for Telegram's limits, every connection would be held by a
reply waiting its turn: everyone else's presses and messages would wait at Telegram, their
buttons spinning, and fewer replies would be ready to go than the limits allow.

So, when the operator allows it (`DECREEBOT_WEBHOOK_EARLY_ANSWERS`), once an update's
conversation is written (what the person answered is kept) and its reply would wait more than
`EARLY_AFTER` seconds, the webhook is answered at once, and the reply goes when it may. If the
process dies during that wait, that reply is lost, not the answer: the person's next press or
message shows the screen again. It is off by default until a reply owed by a dead process is
sent by another (README, "Telegram's limits").
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["EARLY_AFTER", "TAKEN", "taken"]

#: Seconds a reply would wait, beyond which its update is answered before the reply goes.
EARLY_AFTER = 2.0

#: Set by the webhook's endpoint around one update: answers Telegram now.
TAKEN: ContextVar[Callable[[], None] | None] = ContextVar("taken", default=None)


def taken(expected_wait: Callable[[int], float], chat_id: int) -> None:
    """The update's conversation is written: the webhook answers now if the chat's reply
    would wait more than `EARLY_AFTER` seconds. The wait is asked only inside a webhook that
    answers early: nothing is done on any other update."""
    answer = TAKEN.get()
    if answer is not None and expected_wait(chat_id) > EARLY_AFTER:
        answer()
