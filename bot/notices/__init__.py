"""Opt-in notices: a person who asked to be told when their answer changes, and nothing more.

A `Subscription` keeps the answers, the finding they were last told and the chat, sealed
(`ChatSeal`); `notify` recomputes every finding with the current rules and today's date and
tells those whose answer changed, once each.
"""

from bot.notices.run import Courier, NoticeReport, Outcome, current_finding, notify
from bot.notices.seal import ChatSeal
from bot.notices.store import (
    MemorySubscriptions,
    RedisSubscriptions,
    SubscriptionStore,
)
from bot.notices.subscriber import Notices
from bot.notices.subscription import NOTICE_DAYS, Subscription, Told

__all__ = [
    "NOTICE_DAYS",
    "ChatSeal",
    "Courier",
    "MemorySubscriptions",
    "NoticeReport",
    "Notices",
    "Outcome",
    "RedisSubscriptions",
    "Subscription",
    "SubscriptionStore",
    "Told",
    "current_finding",
    "notify",
]
