"""The surge benchmark's figures on hand-made records: pairing replies with updates,
utilisation, the ideal first-come-first-served wait, and the counts of 429s and violations."""

from __future__ import annotations

import pytest

from fakebotapi import SEND_METHODS, Call
from surge.metrics import figures, ideal_waits, pair, scripts, utilisation


def _call(method: str, chat: int, t: float, status: int = 200, **extra: object) -> Call:
    call = Call(method, {"chat_id": chat}, chat, t, status=status)
    for name, value in extra.items():
        setattr(call, name, value)
    return call


def test_replies_belong_to_the_chats_latest_update() -> None:
    updates = [(1, 0.0), (2, 0.1), (1, 2.0)]
    calls = [
        _call("answerCallbackQuery", 1, 0.05),  # shows nothing: not a reply
        _call("sendMessage", 1, 0.3),
        _call("sendMessage", 2, 0.4, status=429),  # refused: not a reply
        _call("editMessageText", 2, 1.4),
        _call("editMessageText", 1, 2.2),
        _call("sendMessage", 1, 3.2),
    ]
    first, second, third = pair(updates, calls, SEND_METHODS)
    assert (first.chat, first.wait, first.first_limited, first.limited) == (1, 0.3, True, [0.3])
    assert (second.wait, second.first_method, second.limited) == (
        pytest.approx(1.3),
        "editMessageText",
        [],
    )
    assert (third.wait, third.first_limited, third.limited) == (pytest.approx(0.2), False, [3.2])
    assert scripts([first, second, third]) == {1: ("send", "edit"), 2: ("edit",)}


def test_utilisation_counts_seconds_with_room_that_were_not_used() -> None:
    # Three chats wait from 0.1 s; the bot sends one a second although X = 10 allowed all.
    updates = [(1, 0.1), (2, 0.1), (3, 0.1)]
    calls = [_call("sendMessage", c, t) for c, t in ((1, 0.5), (2, 1.5), (3, 2.5))]
    actions = pair(updates, calls, SEND_METHODS)
    # Second 0: chat 1 came and went (1 of 1); second 1: chats 2 and 3 waited at its start
    # (1 of 2); second 2: chat 3 (1 of 1). 3 of 4.
    assert utilisation(actions, 10, 0.0) == pytest.approx(3 / 4)
    # With X = 1 there was never room for more.
    assert utilisation(actions, 1, 0.0) == pytest.approx(1.0)
    assert (
        utilisation(pair([(1, 0.0)], [_call("editMessageText", 1, 0.1)], SEND_METHODS), 10, 0.0)
        is None
    )


def test_a_quick_reply_costs_no_utilisation() -> None:
    updates = [(c, 0.99) for c in range(5)]
    calls = [_call("sendMessage", c, 1.02) for c in range(5)]  # across a second's border
    assert utilisation(pair(updates, calls, SEND_METHODS), 30, 0.0) == pytest.approx(1.0)


def test_ideal_waits_are_fifo_at_x_with_one_a_second_per_chat() -> None:
    # Four people at once, X = 2, base 0.1: one send in each half second, the first at 0.1.
    updates = [(c, 0.0) for c in range(4)] + [(0, 0.2)]
    calls = [_call("sendMessage", 0, 0.15)] + [_call("sendMessage", c, 5.0 + c) for c in (1, 2, 3)]
    calls.append(_call("sendMessage", 0, 9.0))
    actions = pair(updates, calls, SEND_METHODS)
    waits = ideal_waits(actions, 2, 0.1)
    # The fifth (chat 0 again, at 0.2) may go a second after its chat's first (1.1), and the
    # next free half second after that starts at 2.0.
    assert waits == pytest.approx([0.1, 0.5, 1.0, 1.5, 1.8])
    assert ideal_waits(actions, None, 0.1)[:4] == pytest.approx([0.1] * 4)


def test_figures_count_429s_violations_and_pace_violations() -> None:
    updates = [(1, 0.0), (2, 0.0)]
    calls = [
        _call("sendMessage", 1, 0.1),
        _call("sendMessage", 2, 0.1, status=429, retry_after=1, limit="overall"),
        _call("sendMessage", 2, 0.5, status=429, retry_after=1, limit="flood", in_flood=True),
        _call("sendMessage", 1, 0.6, status=429, retry_after=1, limit="chat"),
        _call("sendMessage", 2, 1.2),
    ]
    f = figures(updates, calls, x=30, limited=SEND_METHODS)
    assert (f.requests, f.accepted, f.http_429, f.violations, f.pace_violations) == (5, 2, 3, 1, 1)
    assert f.http_429_share == pytest.approx(0.6)
    assert (f.people, f.actions, f.unanswered) == (2, 2, 0)
    assert f.max_wait == pytest.approx(1.2)
    assert f.series.sends[:2] == [1, 1]
    assert f.series.refused[0] == 3
