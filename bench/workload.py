"""The project's own conversations as raw Telegram updates.

Every simulated person plays one persona of `tests/conversation/personas.py` in one of the six
languages. Steps become the JSON Telegram would POST: `/start` with its deep link, commands,
typed text, and callback queries whose data is taken from the keyboard the bot really sent
before (read back from the fake Bot API), exactly as a phone would send them.

Updates are grouped in waves: wave k holds step k of every person that has one, so within a
wave all updates belong to different chats and may run concurrently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bench.fakeapi import BOT_USER, DATE, FakeApi
from bot.conversation import LANGUAGES
from tests.conversation.personas import PERSONAS, TYPED_ARMENIA, Persona

__all__ = ["APP_LANGUAGE", "Person", "make_people", "wave_count"]

#: The `language_code` a Telegram app in that language sends. The persona who chooses her
#: language with the picker uses an app in a language we do not offer.
APP_LANGUAGE = {"ru": "ru", "tg": "tg", "uz": "uz", "uz_Cyrl": "uz", "az": "az", "en": "en"}
_PICKER_APP_LANGUAGE = "de"
_dumps = json.dumps


@dataclass(slots=True)
class Person:
    """One person in one chat, playing `persona` in `lang`."""

    persona: Persona
    lang: str
    uid: int
    steps: list[tuple[str, ...]] = field(default_factory=list)
    user: dict[str, object] = field(default_factory=dict)
    chat: dict[str, object] = field(default_factory=dict)
    failed: str | None = None

    def __post_init__(self) -> None:
        self.steps = [
            (kind, *(a.format(lang=self.lang, armenia=TYPED_ARMENIA[self.lang]) for a in args))
            for kind, *args in self.persona.steps
        ]
        picker = any(args and args[0].startswith("lang=") for _, *args in self.steps[:2])
        self.user = {
            "id": self.uid,
            "is_bot": False,
            "first_name": "User",
            "language_code": _PICKER_APP_LANGUAGE if picker else APP_LANGUAGE[self.lang],
        }
        self.chat = {"id": self.uid, "first_name": "User", "type": "private"}

    def label(self, k: int) -> str:
        """Step `k` in a few words, for reports ("press nav:share", "start", "type")."""
        kind, *args = self.steps[k]
        if kind == "press":
            return f"press {args[0].split('=')[0]}"
        return kind if kind != "cmd" else args[0]

    def update(self, k: int, update_id: int, api: FakeApi) -> bytes | None:
        """Step `k` as a raw webhook body, or None when this person has no step `k`."""
        if k >= len(self.steps) or self.failed is not None:
            return None
        kind, *args = self.steps[k]
        log = api.chat(self.uid)
        if kind == "press":
            return self._press(args, update_id, api)
        # "start" (with its deep link, if any), "cmd" or "type"
        text = ("/start" + (f" {args[0]}" if args else "")) if kind == "start" else args[0]
        message: dict[str, object] = {
            "message_id": log.new_id(),
            "from": self.user,
            "chat": self.chat,
            "date": DATE,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}
            ]
        return _dumps({"update_id": update_id, "message": message}).encode()

    def _press(self, args: list[str], update_id: int, api: FakeApi) -> bytes | None:
        """Like `tests.conversation.harness.Chat.press`, on the keyboards Telegram shows."""
        wanted = args[0]
        edit = len(args) == 2 and args[1] == "edit"
        old = int(args[1]) if len(args) == 2 and args[1].isdigit() else 0
        keyboards = api.chat(self.uid).keyboards
        if len(keyboards) <= old:
            self.failed = f"no keyboard {old} back for {wanted!r}"
            return None
        mid, text, markup = keyboards[-1 - old]
        for row in json.loads(markup)["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data") or ""
                hit = (
                    data.startswith("e") and data.endswith(":" + wanted)
                    if edit
                    else (data == wanted or data.endswith(":" + wanted))
                )
                if hit:
                    return self._callback(update_id, mid, text, markup, data)
        self.failed = f"no button {wanted!r} on the keyboard"
        return None

    def _callback(self, update_id: int, mid: int, text: str, markup: str, data: str) -> bytes:
        message = (
            f'{{"message_id":{mid},"from":{_dumps(BOT_USER)},"chat":{_dumps(self.chat)},'
            f'"date":{DATE},"text":{_dumps(text)},"reply_markup":{markup}}}'
        )
        head = _dumps(
            {
                "update_id": update_id,
                "callback_query": {
                    "id": f"{self.uid}-{update_id}",
                    "from": self.user,
                    "chat_instance": str(-self.uid),
                    "data": data,
                },
            }
        )
        # insert the message (already JSON) into the callback_query object
        return (head[:-2] + f',"message":{message}}}}}').encode()


def make_people(n: int, first_uid: int) -> list[Person]:
    """`n` people: personas and languages cycled so every pair is played equally often."""
    people = []
    for i in range(n):
        persona = PERSONAS[i % len(PERSONAS)]
        lang = LANGUAGES[(i // len(PERSONAS)) % len(LANGUAGES)]
        people.append(Person(persona, lang, first_uid + i))
    return people


def wave_count(people: list[Person]) -> int:
    return max(len(p.steps) for p in people)
