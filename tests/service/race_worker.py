"""A worker process for the cross-process concurrency test: presses answers on one conversation.

Usage: python -m tests.service.race_worker REDIS_URL KEY WORKER_ID TASKS
Each task reads the current question and presses its answer, until the answers are complete.
Prints one JSON line per reply: the (turn, field) of every answer button it carried.
"""

from __future__ import annotations

import asyncio
import json
import sys

from bot.conversation import Answer, Step, decode, decode_button
from bot.conversation.questions import question_for
from bot.service import ChatService, Delivery
from bot.storage import random_first_version
from tests.conftest import TODAY
from tests.redis_server import store_on

ANSWERS = {
    "sex": "male",
    "age_band": "18_to_65",
    "citizenship": "TJ",
    "application": "residence_permit",
    "grounds": "family",
    "documents": "none",
}


async def main(url: str, key: str, worker: int, tasks: int) -> None:
    store = store_on(url, ttl_seconds=600, first_version=random_first_version)
    service = ChatService(store=store, ttl_seconds=600)
    out: list[dict[str, object]] = []

    async def one(i: int) -> None:
        for attempt in range(12):
            state, _ = decode((await store.get(key)).data)
            if state is None or state.step is not Step.QUESTION or state.asking is None:
                return
            field = question_for(state.asking).field
            handled = await service.handle(
                key,
                Answer(state.turn, field, ANSWERS[field]),
                Delivery(update_id=(worker * 100 + i) * 100 + attempt),
                today=TODAY,
            )
            buttons = [
                decode_button(b.data) for r in handled.replies for row in r.buttons for b in row
            ]
            pairs = [[e.turn, e.field] for e in buttons if isinstance(e, Answer)]
            out.append({"answered": [state.turn, field], "pairs": pairs})

    await asyncio.gather(*(one(i) for i in range(tasks)))
    await store.close()
    for line in out:
        print(json.dumps(line))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
