"""Getting updates to the bot: the getUpdates queue and webhook delivery.

Polling follows the Bot API: updates stay queued until a later getUpdates confirms them with
a higher `offset`; `timeout` long-polls and returns as soon as something arrives. With a
webhook set, each update is POSTed as JSON with the secret header, retried (bounded, with
backoff) on 5xx and connection errors; 4xx answers are recorded and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

from fakebotapi._http import LOOPBACK, Signal, wait_any
from fakebotapi._methods import int_param
from fakebotapi._model import JSON, ApiError, WebhookDelivery, bad_request

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Update kinds Telegram only sends when asked for them explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SecretDefault:
    """Sentinel type of CONFIGURED_SECRET."""


CONFIGURED_SECRET: Final = SecretDefault()
"""`deliver_raw(secret=...)` default: send the secret token given to setWebhook."""


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int


@dataclass(slots=True)
class _Pending:
    seq: int
    payload: JSON
    once: bool  # raw update without an integer update_id: handed out a single time


def _is_allowed(payload: JSON, allowed: list[str] | None) -> bool:
    kind = next((key for key in payload if key != "update_id"), None)
    if kind is None:
        return True
    return kind in allowed if allowed else kind not in _OPT_IN_UPDATES


class UpdateQueue:
    """Pending updates plus the webhook configuration and its delivery log."""

    def __init__(self, changed: Signal, *, retries: int, retry_delay: float) -> None:
        self.retries = retries
        self.retry_delay = retry_delay
        self.webhook: WebhookConfig | None = None
        self.webhook_responses: list[WebhookDelivery] = []
        self.undelivered: list[JSON] = []
        self.filtered: list[JSON] = []
        self._changed = changed
        self._arrived = Signal()
        self._pending: list[_Pending] = []
        self._poll_allowed: list[str] | None = None
        self._poll_generation = 0
        self._next_update_id = 100_000_001
        self._last_error: tuple[int, str] | None = None
        self._closing = False
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(40)
        self._flush_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # trust_env=False: no proxy from the environment may ever see webhook traffic.
        self._client = httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(5.0))
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._arrived.fire()  # open long polls answer [] right away
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
            self._flush_task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def pending(self) -> list[JSON]:
        return [item.payload for item in self._pending]

    def new_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    # -- getUpdates --------------------------------------------------------------------------

    async def get_updates(self, params: JSON, closed: asyncio.Event) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(params, "offset", 0)
        limit = min(max(int_param(params, "limit", 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if isinstance(params.get("allowed_updates"), list):
            self._poll_allowed = params["allowed_updates"]
        if offset > 0:  # confirms everything before offset
            self._pending = [p for p in self._pending if p.seq >= offset]
        elif offset < 0:  # keeps only the last -offset updates
            self._pending = self._pending[offset:]
        # A newer getUpdates ends an older one, like Telegram (two bot instances!).
        self._poll_generation += 1
        generation = self._poll_generation
        self._arrived.fire()
        deadline = time.monotonic() + timeout
        while True:
            woken = self._arrived.current()
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._take(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing or closed.is_set():
                return batch
            await wait_any(remaining, woken, closed)

    def _take(self, limit: int) -> list[JSON]:
        batch: list[_Pending] = []
        for item in list(self._pending):
            if not _is_allowed(item.payload, self._poll_allowed):
                self._pending.remove(item)
                self.filtered.append(item.payload)
            elif len(batch) < limit:
                batch.append(item)
        for item in batch:
            if item.once:
                self._pending.remove(item)
        return [item.payload for item in batch]

    # -- webhook methods ---------------------------------------------------------------------

    def set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.hostname != LOOPBACK:
                raise bad_request(f"bad webhook: the fake only delivers to {LOOPBACK}")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        allowed = params.get("allowed_updates")
        connections = min(max(int_param(params, "max_connections", 40), 1), 100)
        self.webhook = None
        if url:
            self.webhook = WebhookConfig(
                url,
                None if secret is None else str(secret),
                allowed if isinstance(allowed, list) else None,
                connections,
            )
            self._slots = asyncio.Semaphore(connections)
            if self._pending and (self._flush_task is None or self._flush_task.done()):
                self._flush_task = asyncio.get_running_loop().create_task(self._flush())
        self._arrived.fire()
        return True

    def delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    def webhook_info(self, _params: JSON) -> JSON:
        hook = self.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
        if self._last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_error
        return info

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, update: JSON, secret: str | SecretDefault | None) -> int | None:
        update_id = update.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            if update_id < 2**31:  # a forged id beyond Telegram's range leaves the counter alone
                self._next_update_id = max(self._next_update_id, update_id + 1)
            seq, once = update_id, False
        else:
            seq, once = self.new_update_id(), True
        if self.webhook is not None:
            return await self._post(update, secret)
        self._pending.append(_Pending(seq, update, once))
        self._arrived.fire()
        self._changed.fire()
        return None

    async def _flush(self) -> None:
        """Updates that waited while there was no webhook go out now, in order."""
        # PTB calls setWebhook just before its server listens: give it a moment.
        await asyncio.sleep(self.retry_delay)
        while self._pending and self.webhook is not None:
            await self._post(self._pending.pop(0).payload, CONFIGURED_SECRET)

    async def _post(self, payload: JSON, secret: str | SecretDefault | None) -> int | None:
        hook, client = self.webhook, self._client
        if hook is None or client is None:
            raise RuntimeError("no webhook set or FakeBotApi not started")
        if not _is_allowed(payload, hook.allowed_updates):
            self.filtered.append(payload)
            return None
        header = hook.secret_token if isinstance(secret, SecretDefault) else secret
        headers = {"Content-Type": "application/json"}  # PTB insists on exactly this
        if header is not None:
            headers[SECRET_HEADER] = header
        body = json.dumps(payload)
        update_id = payload.get("update_id")
        status: int | None = None
        error: str | None = None
        async with self._slots:
            for attempt in range(1, self.retries + 2):
                status, error = None, None
                try:
                    response = await client.post(hook.url, content=body, headers=headers)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                self.webhook_responses.append(
                    WebhookDelivery(
                        update_id if isinstance(update_id, int) else None,
                        attempt,
                        status,
                        error,
                        header,
                        time.monotonic(),
                    )
                )
                self._changed.fire()
                if status is not None and status < 500:
                    break  # delivered, or a 4xx the bot meant: retrying won't help
                if attempt <= self.retries:
                    await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        if status is None or not 200 <= status < 300:
            message = f"Wrong response from the webhook: {status}" if status else str(error)
            self._last_error = (int(time.time()), message)
            self.undelivered.append(payload)
        return status
