"""Runs the real bot (PTB, our handlers, Redis) against the fake Bot API on localhost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.adapters.telegram.run import serve_polling, serve_webhook
from bot.compose import Parts, build_parts
from bot.config import Settings
from fakebotapi import FakeBotApi, FakeUser, StoredMessage, free_port

__all__ = ["KEY_SECRET", "WORKER_PATH", "RunningBot", "converse", "press", "running_bot"]

KEY_SECRET = b"e2e-key-secret-e2e-key-secret-e2e-key"
#: The presses of a Tajik worker with no document, from the first question to his result.
WORKER_PATH = (
    "sex=male",
    "age_band=18_to_65",
    "citizenship=TJ",
    "application=residence_permit",
    "grounds=long_residence",
    "documents=none",
    "nav:result",
)
WEBHOOK_SECRET = "e2e-webhook-secret-e2e-webhook-secret"


@dataclass
class RunningBot:
    """The fake API, the bot's parts and the way it was started."""

    api: FakeBotApi
    parts: Parts
    mode: str
    listen_port: int | None = None


def settings_for(api: FakeBotApi, mode: str, redis_url: str, port: int, **extra: Any) -> Settings:
    """Settings pointing the bot at the fake API (no environment involved); `extra` adds
    settings (a legal-help file, a metrics address)."""
    return Settings(
        token=SecretStr(api.token),
        api_base_url=api.bot_base_url,
        redis_url=redis_url,
        key_secret=SecretStr(KEY_SECRET.decode()),
        session_ttl=1800,
        webhook_url=f"http://127.0.0.1:{port}/telegram" if mode == "webhook" else None,
        webhook_secret=SecretStr(WEBHOOK_SECRET) if mode == "webhook" else None,
        listen=f"127.0.0.1:{port}",
        _env_file=None,
        **extra,
    )


@contextlib.asynccontextmanager
async def running_bot(mode: str, redis_url: str, **extra: Any) -> AsyncIterator[RunningBot]:
    """Start the bot in `mode` against a fresh fake API; stop it cleanly afterwards."""
    async with FakeBotApi() as api:
        port = free_port()
        parts = build_parts(settings_for(api, mode, redis_url, port, **extra))
        stop = asyncio.Event()
        serve = serve_polling if mode == "polling" else serve_webhook
        task = asyncio.create_task(serve(parts, key_secret=KEY_SECRET, stop=stop))
        ready: Callable[[], bool] = (
            (lambda: api.webhook is not None)
            if mode == "webhook"
            else (lambda: bool(api.calls_for("getUpdates")))
        )
        try:
            await api.wait_for(lambda: task.done() or ready(), 10)
            if task.done():
                task.result()
            yield RunningBot(api, parts, mode, port)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


async def press(user: FakeUser, suffix: str) -> list[StoredMessage]:
    """Press the button whose callback data ends with `suffix`, and wait for the reply."""
    await user.press(lambda b: (b.callback_data or "").endswith(suffix))
    return await user.wait_reply()


async def converse(
    bot: RunningBot, lang: str, user_id: int, path: Iterable[str] = WORKER_PATH
) -> str:
    """One person starts in `lang`, presses `path` and reads the last message."""
    user = bot.api.user(user_id=user_id, language_code=lang.split("_", maxsplit=1)[0])
    await user.send_command("/start", payload=f"{lang}-self")
    await user.wait_reply()
    for suffix in path:
        await press(user, suffix)
    last = user.chat.last_bot_message
    assert last is not None
    return last.text
