"""The fake Bot API's flood limits: the hidden overall limit, each chat's and each group's
pace, and the record of requests sent during a flood wait the bot had been told of.

The windows are checked on `FloodLedger` with explicit times (no sleeping, no clock); the
wiring through HTTP and PTB runs against the real fake server on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dtm
import time
from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from fakebotapi import Call, FakeBotApi, Limits
from fakebotapi._limits import FloodLedger, FloodWaitError, flood_report

TOKEN = "123456:TEST-flood-token"
GROUP = -1001234567890


def _send(ledger: FloodLedger, chat: int, at: float, method: str = "sendMessage") -> Call:
    """One request as the fake handles it: admitted and carried out, or answered 429."""
    call = Call(method, {"chat_id": chat}, chat, at)
    if not ledger.limited(method):
        call.status = 200
        return call
    try:
        ledger.admit(call, at)
    except FloodWaitError as wait:
        call.status, call.retry_after = 429, wait.retry_after
        ledger.told(call, wait, at)
    else:
        call.status = 200
        ledger.sent(call, at)
    return call


# -- the windows, with explicit times -----------------------------------------------------------


def test_off_by_default_nothing_is_refused() -> None:
    ledger = FloodLedger()
    calls = [_send(ledger, 7, 0.001 * i) for i in range(100)]
    assert all(c.ok and not c.in_flood and c.limit is None for c in calls)
    report = flood_report(calls)
    assert (report.requests, report.accepted) == (100, 100)
    assert (report.http_429, report.violations) == (0, 0)


def test_overall_limit_refuses_beyond_x_per_second_and_holds_the_whole_bot() -> None:
    ledger = FloodLedger(Limits(overall_per_second=5))
    first = [_send(ledger, 100 + i, 0.01 * i) for i in range(6)]
    assert [c.status for c in first] == [200] * 5 + [429]
    refused = first[-1]
    assert (refused.limit, refused.retry_after, refused.in_flood) == ("overall", 1, False)
    # Told to wait until 1.05: any chat's message before then is a violation.
    during = _send(ledger, 999, 0.5)
    assert during.in_flood
    # Not refused for the known wait unless asked; the window (5 in the last second) does.
    assert (during.status, during.limit) == (429, "overall")
    after = _send(ledger, 998, 1.51)  # the 429 of `during` said: wait until 1.5
    assert (after.ok, after.in_flood) == (True, False)
    report = flood_report([*first, during, after])
    assert (report.requests, report.accepted, report.http_429) == (8, 6, 2)
    assert (report.violations, report.pace_violations) == (1, 0)
    assert report.by_limit == {"overall": 2}


def test_overall_window_slides() -> None:
    ledger = FloodLedger(Limits(overall_per_second=3))
    times = [0.0, 0.4, 0.8, 1.01, 1.41, 1.5]
    calls = [_send(ledger, 10 + i, t) for i, t in enumerate(times)]
    # At 1.01 the send of 0.0 has left the window; at 1.5 the three of 0.8-1.41 are in it.
    assert [c.status for c in calls] == [200, 200, 200, 200, 200, 429]


def test_refuse_during_flood_answers_429_until_the_announced_time() -> None:
    ledger = FloodLedger(Limits(overall_per_second=2, refuse_during_flood=True))
    calls = [_send(ledger, 1, 0.0), _send(ledger, 2, 0.1), _send(ledger, 3, 0.2)]
    assert calls[-1].retry_after == 1  # known wait: until 1.2
    late = _send(ledger, 4, 1.1)  # the window alone would let it go (sends at 0.0, 0.1 left)
    assert (late.status, late.in_flood, late.limit, late.retry_after) == (429, True, "flood", 1)
    # The bot was now told "until 2.1": sending before then is a violation, but the fake
    # refuses only until the limit's own end (1.2).
    sooner = _send(ledger, 5, 1.5)
    assert (sooner.ok, sooner.in_flood) == (True, True)
    assert _send(ledger, 6, 2.2).in_flood is False


def test_requests_already_on_their_way_are_not_violations() -> None:
    ledger = FloodLedger(Limits.telegram(overall_per_second=1))
    assert _send(ledger, 1, 0.0).ok
    assert _send(ledger, 2, 0.01).limit == "overall"  # the wait is announced at 0.01
    on_its_way = _send(ledger, 3, 0.03)
    later = _send(ledger, 4, 0.2)
    assert (on_its_way.status, on_its_way.limit, on_its_way.in_flood) == (429, "flood", False)
    assert (later.status, later.limit, later.in_flood) == (429, "flood", True)


def test_overall_limit_can_hold_only_the_refused_chat() -> None:
    limits = Limits.telegram(overall_per_second=1, overall_holds="chat")
    ledger = FloodLedger(limits)
    assert _send(ledger, 1, 0.0).ok
    refused = _send(ledger, 2, 0.1)
    other = _send(ledger, 3, 0.3)  # no wait was announced for it: refused afresh
    again = _send(ledger, 2, 0.4)
    assert refused.limit == other.limit == "overall"
    assert other.in_flood is False
    assert (again.status, again.limit, again.in_flood) == (429, "flood", True)


def test_chat_pace_is_one_a_second_and_holds_only_that_chat() -> None:
    ledger = FloodLedger(Limits.telegram(overall_per_second=None))
    first = _send(ledger, 42, 0.0)
    too_soon = _send(ledger, 42, 0.6)
    other = _send(ledger, 43, 0.61)
    again = _send(ledger, 42, 0.9)  # during the chat's announced wait (until 1.6)
    later = _send(ledger, 42, 2.0)  # after the fresh wait sending `again` earned (until 1.9)
    assert first.ok
    assert (too_soon.status, too_soon.limit, too_soon.retry_after) == (429, "chat", 1)
    assert too_soon.in_flood is False  # the first offence is a pace violation
    assert (other.ok, other.in_flood) == (True, False)
    assert (again.status, again.in_flood, again.limit) == (429, True, "flood")
    assert (later.ok, later.in_flood) == (True, False)
    report = flood_report([first, too_soon, other, again, later])
    assert (report.pace_violations, report.violations, report.http_429) == (1, 1, 2)


def test_group_pace_is_twenty_a_minute() -> None:
    ledger = FloodLedger(Limits(group_per_minute=20))
    calls = [_send(ledger, GROUP, 2.0 * i) for i in range(21)]
    assert all(c.ok for c in calls[:20])
    refused = calls[20]
    # The first of the twenty (at 0 s) leaves the window at 60 s; this one came at 40 s.
    assert (refused.status, refused.limit, refused.retry_after) == (429, "group", 20)
    assert _send(ledger, GROUP, 60.5).ok
    assert _send(ledger, -5, 41.0).ok  # another group has its own twenty


def test_edits_count_only_when_asked() -> None:
    free = FloodLedger(Limits.telegram(overall_per_second=1))
    assert all(_send(free, 42, 0.1 * i, "editMessageText").ok for i in range(5))
    strict = FloodLedger(
        Limits.telegram(
            overall_per_second=100, methods=frozenset({"sendMessage", "editMessageText"})
        )
    )
    edits = [_send(strict, 42, 0.1 * i, "editMessageText") for i in range(3)]
    assert [c.status for c in edits] == [200, 429, 429]
    assert [c.limit for c in edits] == [None, "chat", "flood"]


def test_reset_forgets_waits_and_windows() -> None:
    ledger = FloodLedger(Limits.telegram(overall_per_second=1))
    _send(ledger, 1, 0.0)
    assert _send(ledger, 2, 0.1).status == 429
    ledger.reset()
    assert _send(ledger, 2, 0.2).ok


# -- through HTTP and PTB -----------------------------------------------------------------------


async def _post(http: httpx.AsyncClient, api: FakeBotApi, method: str, **params: Any) -> Any:
    return (await http.post(f"{api.bot_base_url}{TOKEN}/{method}", json=params)).json()


def _stop_clock(api: FakeBotApi) -> None:
    """Judge every request at one moment: the windows then cannot pass while a loaded machine
    is slow to send the next request."""
    now = time.monotonic()
    api.flood.clock = lambda: now
    api.flood.in_flight = 0.0  # at one moment, nothing is on its way


async def test_http_answers_429_with_retry_after_and_records_every_send() -> None:
    async with FakeBotApi(token=TOKEN, limits=Limits.telegram(overall_per_second=3)) as api:
        _stop_clock(api)
        for uid in range(1, 6):
            api.user(uid)
        async with httpx.AsyncClient(trust_env=False) as http:
            answers = [await _post(http, api, "sendMessage", chat_id=u, text="hi") for u in (1, 2)]
            answers.append(await _post(http, api, "sendMessage", chat_id=1, text="again"))
            answers += [await _post(http, api, "sendMessage", chat_id=u, text="x") for u in (3, 4)]
            answers.append(await _post(http, api, "sendMessage", chat_id=5, text="y"))
            # Not a limited method: answered whatever the waits.
            me = await _post(http, api, "getMe")
    assert [a["ok"] for a in answers] == [True, True, False, True, False, False]
    assert answers[2] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert me["ok"] is True
    sends = api.limited_calls()
    assert [c.chat_id for c in sends] == [1, 2, 1, 3, 4, 5]
    assert [c.limit for c in sends] == [None, None, "chat", None, "overall", "flood"]
    assert [c.in_flood for c in sends] == [False] * 5 + [True]
    report = api.flood_report()
    assert (report.requests, report.http_429, report.violations, report.pace_violations) == (
        6,
        3,
        1,
        1,
    )
    assert report.http_429_share == pytest.approx(0.5)


async def test_an_injected_429_announces_a_wait_too() -> None:
    async with FakeBotApi(token=TOKEN) as api:
        _stop_clock(api)
        api.user(1)
        api.user(2)
        async with httpx.AsyncClient(trust_env=False) as http:
            api.fail_next("sendMessage", status=429, retry_after=5, chat_id=1)
            await _post(http, api, "sendMessage", chat_id=1, text="a")
            other = await _post(http, api, "sendMessage", chat_id=2, text="b")
            same = await _post(http, api, "sendMessage", chat_id=1, text="c")
            api.fail_next("editMessageText", status=429, retry_after=5)  # no chat: the bot
            await _post(http, api, "editMessageText", chat_id=2, message_id=1, text="d")
            await _post(http, api, "sendMessage", chat_id=2, text="e")
    # Limits are off: the requests went through, but the ones during a known wait are marked.
    assert other["ok"]
    assert same["ok"]
    assert [c.in_flood for c in api.limited_calls()] == [False, False, True, True]
    assert [c.limit for c in api.limited_calls()] == ["fault", None, None, None]
    api.reset_calls()
    assert api.flood_report().requests == 0


async def test_ptb_sees_the_hidden_limit_as_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with FakeBotApi(token=TOKEN, limits=Limits.telegram(overall_per_second=2)) as api:
        _stop_clock(api)
        for uid in (1, 2, 3):
            api.user(uid)
        async with Bot(TOKEN, base_url=api.bot_base_url) as bot:
            await bot.send_message(1, "one")
            await bot.send_message(2, "two")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(3, "three")
    assert refused.value.retry_after == dtm.timedelta(seconds=1)
    assert api.limited_calls()[-1].limit == "overall"
