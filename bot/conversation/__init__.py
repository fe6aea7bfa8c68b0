"""The pure conversation engine: states, events, replies and `transition`.

No telegram, redis or babel here: replies are data, translated at the edge, so the same
transcript renders in the console, in Telegram and in tests.
"""

from bot.conversation.codec import decode_button
from bot.conversation.deeplink import Preset, make_payload, parse_payload
from bot.conversation.events import (
    Answer,
    Back,
    Edit,
    Event,
    Forget,
    Info,
    Nav,
    Restart,
    SetLanguage,
    SetMode,
    Start,
    Text,
    TypeCountry,
)
from bot.conversation.machine import (
    Transition,
    facts_of,
    negotiate,
    screen,
    transition,
    unknown_of,
)
from bot.conversation.replies import Bullets, Button, Country, Ext, Msg, Pair, Reply
from bot.conversation.state import LANGUAGES, SCHEMA, Mode, State, Step, decode, encode

__all__ = [
    "LANGUAGES",
    "SCHEMA",
    "Answer",
    "Back",
    "Bullets",
    "Button",
    "Country",
    "Edit",
    "Event",
    "Ext",
    "Forget",
    "Info",
    "Mode",
    "Msg",
    "Nav",
    "Pair",
    "Preset",
    "Reply",
    "Restart",
    "SetLanguage",
    "SetMode",
    "Start",
    "State",
    "Step",
    "Text",
    "Transition",
    "TypeCountry",
    "decode",
    "decode_button",
    "encode",
    "facts_of",
    "make_payload",
    "negotiate",
    "parse_payload",
    "screen",
    "transition",
    "unknown_of",
]
