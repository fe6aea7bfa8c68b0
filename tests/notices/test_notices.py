"""Notices: the sealed chat id, the subscription stores' shared contract (memory and a real
private Redis), and the notice run against a test build of the rules."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest
from redis.asyncio import Redis

from bot.conversation.state import Mode
from bot.notices import (
    ChatSeal,
    Courier,
    MemorySubscriptions,
    Outcome,
    RedisSubscriptions,
    Subscription,
    SubscriptionStore,
    Told,
    current_finding,
    notify,
)
from bot.notices.seal import SealBrokenError
from bot.notices.store import NOTICE_PREFIX
from bot.storage.keys import KeyMaker
from rules import Certainty, Finding
from rules import Outcome as RuleOutcome
from tests.privacy import mentions

SECRET = secrets.token_bytes(32)
TODAY = date(2026, 12, 2)
KEYS = KeyMaker(SECRET, 42, NOTICE_PREFIX)
WORKER = {
    "sex": "male",
    "age_band": "18_to_65",
    "citizenship": "TJ",
    "application": "residence_permit",
    "grounds": "long_residence",
    "documents": [],
}


def current_rules(subscription: Subscription, day: date) -> Finding:
    return current_finding(subscription, day)


def changed_rules(subscription: Subscription, day: date) -> Finding:
    """A test build of the rules in which this case became unclear, at low certainty."""
    finding = current_rules(subscription, day)
    return finding.model_copy(
        update={
            "outcome": RuleOutcome.UNCLEAR,
            "requirement_met": None,
            "certainty": Certainty.LOW,
            "rules_version": "test-build-2",
        }
    )


def subscribe(seal: ChatSeal, chat_id: int, answers: dict[str, str | list[str]]) -> Subscription:
    key = KEYS.for_chat(chat_id)
    told = Told.of(current_rules(Subscription.model_construct(answers=answers), TODAY))
    return Subscription(
        chat=seal.seal(chat_id, bound_to=key),
        answers=answers,
        lang="tg",
        mode=Mode.RELATIVE,
        told=told,
        expires=Subscription.expiry(TODAY),
    )


# -- the seal ----------------------------------------------------------------------------------


def test_a_sealed_chat_id_opens_only_under_its_own_key_and_secret() -> None:
    seal = ChatSeal(SECRET)
    sealed = seal.seal(123456789, bound_to="dcb:n:a")
    assert "123456789" not in sealed
    assert seal.open(sealed, bound_to="dcb:n:a") == 123456789
    assert sealed != seal.seal(123456789, bound_to="dcb:n:a"), "a fresh nonce each time"
    with pytest.raises(SealBrokenError):
        seal.open(sealed, bound_to="dcb:n:b")
    with pytest.raises(SealBrokenError):
        ChatSeal(secrets.token_bytes(32)).open(sealed, bound_to="dcb:n:a")
    with pytest.raises(ValueError, match="empty"):
        ChatSeal(b"")


# -- the stores' contract ----------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SubscriptionStore]:
    if request.param == "memory":
        yield MemorySubscriptions()
        return
    url = request.getfixturevalue("redis_url")
    client = Redis.from_url(url)
    try:
        yield RedisSubscriptions(client)
    finally:
        await client.aclose()


async def test_put_get_replace_delete(store: SubscriptionStore) -> None:
    seal = ChatSeal(SECRET)
    key = KEYS.for_chat(7)
    first = subscribe(seal, 7, WORKER)
    assert await store.get(key) is None
    await store.put(key, first, ttl_seconds=600)
    assert await store.get(key) == first
    second = first.model_copy(update={"lang": "uz"})
    assert await store.replace(key, first, second)
    assert not await store.replace(key, first, second), "only from what is still stored"
    assert await store.get(key) == second
    assert [k async for k in store.scan()] == [key]
    await store.delete(key)
    assert await store.get(key) is None
    assert not await store.replace(key, second, first), "a deleted one is not brought back"


@pytest.mark.redis
async def test_redis_keeps_no_raw_chat_id_and_sets_the_ttl(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        store = RedisSubscriptions(client)
        chat_id = 987654321012
        key = KEYS.for_chat(chat_id)
        await store.put(key, subscribe(ChatSeal(SECRET), chat_id, WORKER), ttl_seconds=180 * 86400)
        assert 0 < await client.ttl(key) <= 180 * 86400
        for stored in await client.keys("*"):
            assert not mentions(stored, chat_id)
            assert not mentions(await client.get(stored), chat_id)
        first = await store.get(key)
        assert first is not None
        await store.replace(key, first, first.model_copy(update={"lang": "az"}))
        assert await client.ttl(key) > 179 * 86400, "a replace keeps the TTL"
    finally:
        await client.aclose()


# -- the notice run ----------------------------------------------------------------------------


class Phone:
    """Records the notices sent; answers as Telegram would for each chat."""

    def __init__(self, answer: Callable[[int], Outcome] = lambda _chat: Outcome.SENT) -> None:
        self.answer = answer
        self.sent: list[tuple[int, str, RuleOutcome]] = []

    async def __call__(self, chat_id: int, sub: Subscription, finding: Finding) -> Outcome:
        outcome = self.answer(chat_id)
        if outcome is Outcome.SENT:
            self.sent.append((chat_id, sub.lang, finding.outcome))
        return outcome


async def _two_subscribers(store: SubscriptionStore, seal: ChatSeal) -> None:
    for chat_id in (11, 12):
        sub = subscribe(seal, chat_id, WORKER)
        await store.put(KEYS.for_chat(chat_id), sub, ttl_seconds=600)


async def test_unchanged_rules_tell_nobody(store: SubscriptionStore) -> None:
    seal = ChatSeal(SECRET)
    await _two_subscribers(store, seal)
    phone = Phone()
    report = await notify(store, Courier(seal, phone), today=TODAY, finding_for=current_rules)
    assert (report.checked, phone.sent) == (2, [])


async def test_changed_rules_tell_each_once_and_a_second_run_nobody(
    store: SubscriptionStore,
) -> None:
    seal = ChatSeal(SECRET)
    await _two_subscribers(store, seal)
    dry = await notify(store, None, today=TODAY, finding_for=changed_rules)
    assert dry.changes == {("affected, not met (medium)", "unclear (low)"): 2}
    assert dry.sent == 0
    phone = Phone()
    report = await notify(store, Courier(seal, phone), today=TODAY, finding_for=changed_rules)
    assert sorted(phone.sent) == [(11, "tg", RuleOutcome.UNCLEAR), (12, "tg", RuleOutcome.UNCLEAR)]
    assert report.sent == 2
    again = Phone()
    await notify(store, Courier(seal, again), today=TODAY, finding_for=changed_rules)
    assert again.sent == []
    stored = await store.get(KEYS.for_chat(11))
    assert stored is not None
    assert stored.told.rules_version == "test-build-2"
    assert "changed" in report.table()


async def test_a_blocked_chat_loses_its_subscription_and_a_failure_is_retried(
    store: SubscriptionStore,
) -> None:
    seal = ChatSeal(SECRET)
    await _two_subscribers(store, seal)
    phone = Phone(lambda chat: Outcome.GONE if chat == 11 else Outcome.FAILED)
    report = await notify(store, Courier(seal, phone), today=TODAY, finding_for=changed_rules)
    assert (report.gone, report.failed) == (1, 1)
    assert await store.get(KEYS.for_chat(11)) is None
    retry = Phone()
    await notify(store, Courier(seal, retry), today=TODAY, finding_for=changed_rules)
    assert retry.sent == [(12, "tg", RuleOutcome.UNCLEAR)]


async def test_a_killed_run_resumes_without_sending_twice(store: SubscriptionStore) -> None:
    seal = ChatSeal(SECRET)
    await _two_subscribers(store, seal)
    delivered: list[int] = []

    async def dies_after_first(chat_id: int, sub: Subscription, finding: Finding) -> Outcome:
        delivered.append(chat_id)
        if len(delivered) == 1:
            raise KeyboardInterrupt  # the process is killed right after Telegram took it
        return Outcome.SENT

    with pytest.raises(KeyboardInterrupt):
        await notify(store, Courier(seal, dies_after_first), today=TODAY, finding_for=changed_rules)
    phone = Phone()
    report = await notify(store, Courier(seal, phone), today=TODAY, finding_for=changed_rules)
    assert report.resumed == 1
    assert [chat for chat, _, _ in phone.sent] == [c for c in (11, 12) if c not in delivered]


async def test_forgotten_before_the_run_means_no_notice(store: SubscriptionStore) -> None:
    seal = ChatSeal(SECRET)
    await _two_subscribers(store, seal)
    await store.delete(KEYS.for_chat(11))  # what /forget does
    phone = Phone()
    await notify(store, Courier(seal, phone), today=TODAY, finding_for=changed_rules)
    assert [chat for chat, _, _ in phone.sent] == [12]
