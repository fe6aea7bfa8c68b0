"""`notify`: after the rules change, tell each subscriber whose answer changed, once.

Each subscription is claimed before its notice is sent (the claim is written with a
compare-and-set), so a second run, or a run resumed after a crash, never sends the same
notice twice: a claim left by a run that died is taken as sent. The price is that a run
killed between the claim and the send loses that one notice; a duplicate would be worse for
a person who reads every message from this bot as news about his status.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from bot.conversation.machine import answer_for
from bot.notices.seal import ChatSeal, SealBrokenError
from bot.notices.store import SubscriptionStore
from bot.notices.subscription import Subscription, Told
from rules import Finding

__all__ = ["Courier", "NoticeReport", "Outcome", "current_finding", "notify"]


class Outcome(enum.Enum):
    """What became of one notice."""

    SENT = "sent"
    #: The person blocked the bot or deleted the chat: the subscription is deleted.
    GONE = "gone"
    #: Telegram or the network failed: the subscription is left to the next run.
    FAILED = "failed"


#: Sends the notice for `finding` to the chat; spends the fleet's bulk budget.
Send = Callable[[int, Subscription, Finding], Awaitable[Outcome]]
#: The finding for a subscription's answers on a day (the current rules, or a test build).
FindingFor = Callable[[Subscription, date], Finding]


def label(told: Told) -> str:
    """A short name for an answer, for the operator's table (no person in it)."""
    met = {True: "met", False: "not met", None: "fit unsure"}[told.requirement_met]
    kind = f"affected, {met}" if told.outcome.value == "affected" else told.outcome.value
    return f"{kind} ({told.certainty.value})"


@dataclass
class NoticeReport:
    """Counts only: how many were checked and told, by old → new answer."""

    checked: int = 0
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    sent: int = 0
    gone: int = 0
    failed: int = 0
    #: Claims left by an earlier run that died, taken as sent.
    resumed: int = 0
    #: Taken by another run between our read and our claim.
    skipped: int = 0
    unreadable: int = 0

    def table(self) -> str:
        lines = [f"{'old answer':<34} {'new answer':<34} {'people':>7}"]
        for (old, new), count in sorted(self.changes.items()):
            lines.append(f"{old:<34} {new:<34} {count:>7}")
        total = sum(self.changes.values())
        lines.append(f"{'changed':<69} {total:>7}")
        lines.append(
            f"checked {self.checked}, sent {self.sent}, gone {self.gone}, failed {self.failed},"
            f" resumed {self.resumed}, skipped {self.skipped}, unreadable {self.unreadable}"
        )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Courier:
    """How notices reach people: the seal that opens their chat ids, and the sender."""

    seal: ChatSeal
    send: Send


def current_finding(subscription: Subscription, day: date) -> Finding:
    """The finding for a subscription's answers under the rules this build carries."""
    return answer_for(subscription.answers, day)


async def notify(
    store: SubscriptionStore,
    courier: Courier | None,
    *,
    today: date,
    finding_for: FindingFor = current_finding,
) -> NoticeReport:
    """Tell every subscriber whose answer changed; with no courier (a dry run), only count."""
    run = _Run(store, courier)
    async for key in store.scan():
        subscription = await store.get(key)
        if subscription is None:
            continue
        run.report.checked += 1
        if subscription.sending is not None and courier is not None:
            subscription = await run.resume(key, subscription)
            if subscription is None:
                continue
        finding = finding_for(subscription, today)
        now = Told.of(finding)
        if now.same_answer(subscription.told):
            continue
        run.report.changes[(label(subscription.told), label(now))] += 1
        if courier is not None:
            await run.tell(key, subscription, finding, courier)
    return run.report


@dataclass
class _Run:
    store: SubscriptionStore
    courier: Courier | None
    report: NoticeReport = field(default_factory=NoticeReport)

    async def resume(self, key: str, subscription: Subscription) -> Subscription | None:
        """Take a claim left by a run that died as sent."""
        assert subscription.sending is not None
        done = subscription.settled()
        if not await self.store.replace(key, subscription, done):
            self.report.skipped += 1
            return None
        self.report.resumed += 1
        return done

    async def tell(
        self, key: str, subscription: Subscription, finding: Finding, courier: Courier
    ) -> None:
        """Claim, send, then record; a blocked chat's subscription goes."""
        try:
            chat_id = courier.seal.open(subscription.chat, bound_to=key)
        except SealBrokenError:
            self.report.unreadable += 1
            await self.store.delete(key)  # sealed with another secret: it can never be delivered
            return
        told = Told.of(finding)
        claimed = subscription.claiming(told)
        if not await self.store.replace(key, subscription, claimed):
            self.report.skipped += 1
            return
        outcome = await courier.send(chat_id, subscription, finding)
        if outcome is Outcome.GONE:
            self.report.gone += 1
            await self.store.delete(key)
        elif outcome is Outcome.FAILED:
            self.report.failed += 1
            await self.store.replace(key, claimed, subscription)  # the next run tries again
        else:
            self.report.sent += 1
            await self.store.replace(key, claimed, claimed.settled())
