"""Messages of the Telegram and console edges (the conversation's own are in bot.conversation).

Telegram limits: a command description up to 256 characters, the bot description up to 512,
the short description up to 120 (checked by tests for every language).
"""

from __future__ import annotations

from bot.conversation.replies import N_

__all__ = [
    "BUSY",
    "COMMANDS",
    "CONSOLE_HINT",
    "CONSOLE_NOT_A_CHOICE",
    "DESCRIPTION",
    "GROUP_ONLY_PRIVATE",
    "LEGAL_HELP_LANGUAGES",
    "LEGAL_HELP_NONE",
    "OPEN_PRIVATE_CHAT",
    "SHORT_DESCRIPTION",
    "TOO_LONG",
    "UNAVAILABLE",
    "UNKNOWN_COMMAND",
    "UNSUPPORTED",
]

#: The command menu, in the order Telegram shows it.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start")),
    ("back", N_("Previous question")),
    ("restart", N_("Answer the questions again")),
    ("language", N_("Change the language")),
    ("decree", N_("About the decree")),
    ("privacy", N_("What the bot keeps")),
    ("forget", N_("Delete everything, including this chat")),
    ("help", N_("How to use the bot")),
)

DESCRIPTION = N_(
    "This bot explains Decree (указ) No. 821 of 5 November 2025. The decree asks some foreign"
    " men who apply for a residence permit (ВНЖ) or Russian citizenship for one more document:"
    " about military service in Russia, or about being unfit for it."
    " A few questions with buttons show what it means in your case. The bot is free and does"
    " not ask for names, documents or money."
)
SHORT_DESCRIPTION = N_(
    "What Decree No. 821 means for a residence permit or citizenship. Free and anonymous."
)
GROUP_ONLY_PRIVATE = N_(
    "The bot asks its questions only in a private chat, so that no one else sees the answers."
    " Press the button to continue there."
)
OPEN_PRIVATE_CHAT = N_("Open a private chat")
UNSUPPORTED = N_("The bot can read only text and button presses.")
TOO_LONG = N_("This message is too long. Please answer with the buttons.")
UNKNOWN_COMMAND = N_("Unknown command. /help shows the commands.")
#: The toast of a press whose reply waits long (Telegram shows at most 200 characters).
BUSY = N_("Many people are asking right now. Your answer is coming.")
UNAVAILABLE = N_("Sorry, the bot has a technical problem. Please try again in a few minutes.")
LEGAL_HELP_NONE = N_(
    "No organisations have been listed here yet. Ask a migration lawyer or a human rights"
    " organisation you trust."
)
#: Under an organisation's contacts: the languages it serves, each named in itself.
LEGAL_HELP_LANGUAGES = N_("Languages they speak: {languages}")

CONSOLE_HINT = N_(
    "Type the number of an answer, or a country's name. Commands: /back, /restart, /language,"
    " /forget, /help, /quit."
)
CONSOLE_NOT_A_CHOICE = N_("There is no answer with this number.")
