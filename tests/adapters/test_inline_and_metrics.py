"""Inline mode and operator metrics, end to end against the fake Bot API."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bot.adapters.telegram.inline import CHECK_OWN_CASE, INLINE_LANGUAGES, order_for
from bot.conversation.screens import INFO, LANGUAGE_NAMES
from bot.i18n import Renderer
from fakebotapi import free_port
from tests.adapters.telegram_harness import press, running_bot
from tests.privacy import mentions

pytestmark = pytest.mark.redis


def test_order_puts_the_persons_language_first() -> None:
    assert order_for("tg") == ("tg", "ru", "uz", "uz_Cyrl", "az")
    assert order_for("az-AZ") == ("az", "ru", "tg", "uz", "uz_Cyrl")
    assert order_for("en") == INLINE_LANGUAGES
    assert order_for(None) == INLINE_LANGUAGES


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_inline_query_offers_five_summaries_with_working_deep_links(
    mode: str, redis_url: str, renderer: Renderer
) -> None:
    """`@bot` typed in a chat: five results, the Uzbek first; each result's button is a
    deep link that opens the bot in that result's language."""
    async with running_bot(mode, redis_url) as bot:
        relative = bot.api.user(user_id=8801, language_code="uz")
        query_id = await relative.inline_query("farmon", chat_type="group")
        answer = await bot.api.wait_inline_answer(query_id)
        results = answer["results"]
        assert [r["id"] for r in results] == ["uz", "ru", "tg", "uz_Cyrl", "az"]
        assert answer["is_personal"] is True
        username = bot.api.bot_user["username"]
        for result in results:
            lang = result["id"]
            assert result["title"] == LANGUAGE_NAMES[lang]
            text = result["input_message_content"]["message_text"]
            assert text.startswith(renderer.text(INFO["decree"], lang))
            ((button,),) = result["reply_markup"]["inline_keyboard"]
            assert button["text"] == renderer.gettext(CHECK_OWN_CASE, lang)
            link = urlparse(button["url"])
            assert (link.netloc, link.path) == ("t.me", f"/{username}")
            assert parse_qs(link.query)["start"] == [lang]
        # Someone in the family group presses the Tajik result's button: the bot opens
        # in Tajik, whatever their own app's language.
        tajik = next(r for r in results if r["id"] == "tg")
        payload = parse_qs(urlparse(tajik["reply_markup"]["inline_keyboard"][0][0]["url"]).query)
        father = bot.api.user(user_id=8802, language_code="ru")
        await father.send_command("/start", payload=payload["start"][0])
        replies = await father.wait_reply()
        welcome = renderer.gettext("Who are you checking for?", "tg")
        assert any(welcome in (m.text or "") for m in replies)
    # Nothing about the person who typed the query was stored.
    assert not any(str(relative.id) in key for key in _keys(redis_url))


def _keys(redis_url: str) -> list[str]:
    from tests.redis_server import all_keys_with_ttl  # noqa: PLC0415

    return list(all_keys_with_ttl(redis_url, counts=True))


def _sample(text: str, name: str, labels: str = "") -> float:
    """A sample's value in Prometheus' text format (0 when absent)."""
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_metrics_counters_move(redis_url: str) -> None:
    """With DECREEBOT_METRICS_LISTEN, /metrics is served on that address, apart from the
    webhook; a conversation moves the counters, and only by language and organisation."""
    port = free_port()
    metrics = f"127.0.0.1:{port}"
    async with (
        running_bot("webhook", redis_url, metrics_listen=metrics) as bot,
        httpx.AsyncClient() as client,
    ):
        before = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        user = bot.api.user(user_id=8803, language_code="tg")
        # Telegram answers the first message with 429: the bot waits and sends it again.
        bot.api.fail_next("sendMessage", status=429, retry_after=1, chat_id=user.id)
        await user.send_command("/start", payload="tg-self-ngo1")
        await user.wait_reply(5)
        await press(user, "sex=female")
        query_id = await user.inline_query()
        await bot.api.wait_inline_answer(query_id)
        after = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert bot.listen_port is not None
        webhook = await client.get(f"http://127.0.0.1:{bot.listen_port}/metrics")
    assert webhook.status_code != 200  # not on the webhook's address
    moved = {
        name: _sample(after, name, labels) - _sample(before, name, labels)
        for name, labels in [
            ("decreebot_updates_total", '{kind="message"}'),
            ("decreebot_updates_total", '{kind="callback_query"}'),
            ("decreebot_updates_total", '{kind="inline_query"}'),
            ("decreebot_replies_total", '{method="sendMessage"}'),
            ("decreebot_replies_total", '{method="answerInlineQuery"}'),
            ("decreebot_budget_wait_seconds_count", ""),
            ("decreebot_rate_limited_total", ""),
            ("decreebot_conversations_started_total", '{org="unknown"}'),
            ("decreebot_results_total", '{lang="tg",org="unknown",outcome="not_affected"}'),
        ]
    }
    assert all(value >= 1 for value in moved.values()), moved
    assert _sample(after, "decreebot_conversations_in_progress") == 1
    assert "decreebot_redis_errors_total" in after
    # Labels are kinds, methods, outcomes, languages and organisation codes: nothing finer.
    labels = set(re.findall(r"(\w+)=\"", after))
    assert labels <= {"kind", "method", "where", "org", "lang", "outcome", "le"}, labels
    assert not mentions(after, user.id)


async def test_metrics_are_off_by_default(redis_url: str) -> None:
    async with running_bot("webhook", redis_url) as bot:
        assert bot.parts.metrics is None
