"""`Notices`: what the adapters call — keep a subscription the person confirmed, find it for
"show the full answer", and delete it on /forget, "stop", or a block."""

from __future__ import annotations

from datetime import date

from bot.conversation.events import Restore
from bot.conversation.notice import NOTICE_DAYS, NoticeRequest
from bot.notices.seal import ChatSeal
from bot.notices.store import SubscriptionStore
from bot.notices.subscription import Subscription, Told
from bot.storage.keys import KeyMaker

__all__ = ["Notices"]


class Notices:
    """Subscriptions by chat: the key is the chat's HMAC, the chat id inside is sealed."""

    def __init__(self, store: SubscriptionStore, seal: ChatSeal, keys: KeyMaker) -> None:
        self.store = store
        self.seal = seal
        self.keys = keys

    async def subscribe(self, chat_id: int, request: NoticeRequest, *, today: date) -> None:
        key = self.keys.for_chat(chat_id)
        subscription = Subscription(
            chat=self.seal.seal(chat_id, bound_to=key),
            answers=request.answers,
            lang=request.lang,
            mode=request.mode,
            told=Told(
                outcome=request.outcome,
                requirement_met=request.requirement_met,
                certainty=request.certainty,
                rules_version=request.rules_version,
            ),
            expires=Subscription.expiry(today),
        )
        await self.store.put(key, subscription, ttl_seconds=NOTICE_DAYS * 24 * 3600)

    async def restore(self, chat_id: int) -> Restore | None:
        """The event that shows this chat's kept answers again, if it has a subscription."""
        subscription = await self.store.get(self.keys.for_chat(chat_id))
        if subscription is None:
            return None
        return Restore(dict(subscription.answers), subscription.lang, subscription.mode)

    async def forget(self, chat_id: int) -> None:
        await self.store.delete(self.keys.for_chat(chat_id))
