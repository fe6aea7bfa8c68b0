"""The fixed screens: welcome, language and mode pickers, review, and the information texts."""

from __future__ import annotations

from bot.conversation.codec import (
    NAV_BACK,
    NAV_RESTART,
    NAV_RESULT,
    edit_data,
    language_data,
    mode_data,
)
from bot.conversation.questions import BY_FIELD, answer_label, in_question_order
from bot.conversation.replies import N_, NN_, Bullets, Button, Ext, Msg, Pair, Reply
from bot.conversation.state import LANGUAGES, Mode, State

__all__ = [
    "CHOOSE_LANGUAGE",
    "INFO",
    "LANGUAGE_NAMES",
    "introduction",
    "language_picker",
    "mode_picker",
    "nav_row",
    "review",
    "safety",
    "welcome",
]

#: Each language's name in itself: never translated.
LANGUAGE_NAMES = {
    "ru": "Русский",
    "tg": "Тоҷикӣ",
    "uz": "Oʻzbekcha",
    "uz_Cyrl": "Ўзбекча",
    "az": "Azərbaycanca",
    "en": "English",
}


_WELCOME = N_(
    "Hello! This bot explains Decree (указ) No. 821 of 5 November 2025. The decree asks some"
    " foreign men who apply for a residence permit or Russian citizenship for one more document:"
    " about military service in Russia, or about being unfit for it."
)
#: The welcome's last sentence speaks to the person the way the mode does.
_WELCOME_FOR = {
    None: N_("A few questions with buttons will show what it means in a particular case."),
    Mode.SELF: N_("A few questions with buttons will show what it means in your case."),
    Mode.RELATIVE: N_("A few questions with buttons will show what it means for your relative."),
    Mode.NGO: N_("A few questions with buttons will show what it means for the person you help."),
}


def welcome(mode: Mode | None = None) -> tuple[Msg, Msg]:
    """The first words of every conversation: what the decree does, then what the bot does."""
    return Msg(_WELCOME), Msg(_WELCOME_FOR[mode])


def safety() -> Msg:
    """The privacy promise shown at the start."""
    return Msg(
        N_(
            "The bot is free. It never asks for your name, documents or money. /forget deletes"
            " everything, including this chat."
        )
    )


#: Shown before any language is chosen, so it is in all of them at once; never translated.
CHOOSE_LANGUAGE = (
    "Выберите язык · Забонро интихоб кунед · Tilni tanlang · Тилни танланг · Dil seçin ·"
    " Choose a language"
)


def language_picker() -> Reply:
    """Buttons for every language, each named in itself."""
    rows = tuple(
        tuple(Button(LANGUAGE_NAMES[code], language_data(code)) for code in LANGUAGES[i : i + 2])
        for i in range(0, len(LANGUAGES), 2)
    )
    return Reply((CHOOSE_LANGUAGE,), rows)


def mode_picker() -> Reply:
    """For whom the person asks."""
    rows = (
        (Button(Msg(N_("For myself")), mode_data(Mode.SELF)),),
        (Button(Msg(N_("For a relative")), mode_data(Mode.RELATIVE)),),
        (Button(Msg(N_("For an organisation, to help others")), mode_data(Mode.NGO)),),
    )
    return Reply((Msg(N_("Who are you checking for?")),), rows)


def introduction(mode: Mode | None = None) -> Reply:
    """What the bot does and its privacy promise: the first message in the person's language."""
    return Reply((*welcome(mode), safety()))


def nav_row() -> tuple[Button, ...]:
    """Back and start over, under every question."""
    return (Button(Msg(N_("← Back")), NAV_BACK), Button(Msg(N_("↺ Start over")), NAV_RESTART))


def review(state: State) -> Reply:
    """All answers before the result, each with a button to change it."""
    lines: list[Pair] = []
    edits = []
    for field, value in in_question_order(state.answers):
        title = Msg(BY_FIELD[field].title)
        lines.append(Pair(title, answer_label(field, value)))
        edits.append(
            (
                Button(
                    Msg.of(N_("Change: {question}"), question=title), edit_data(state.turn, field)
                ),
            )
        )
    rows = (
        (Button(Msg(N_("Show the result")), NAV_RESULT),),
        *edits,
        nav_row(),
    )
    return Reply(
        (Msg.of(N_("Please check the answers:\n{items}"), items=Bullets(tuple(lines))),),
        rows,
        edit=True,
    )


INFO: dict[str, Msg] = {
    "help": Msg(
        N_(
            "Answer the questions with the buttons. Commands:\n"
            "/start – start again\n"
            "/back – previous question\n"
            "/language – change the language\n"
            "/restart – start the questions again\n"
            "/forget – delete everything, including this chat\n"
            "/privacy – what the bot keeps\n"
            "/decree – about the decree"
        )
    ),
    "privacy": Msg.counted(
        NN_(
            "What the bot keeps: the answers and the current question, under a random code"
            " instead of the Telegram account. They are deleted {n} minute after the last"
            " message. The bot does not keep names, phone numbers or usernames, and its logs"
            " contain no answers. /forget deletes everything at once, including the messages in"
            " this chat.",
            "What the bot keeps: the answers and the current question, under a random code"
            " instead of the Telegram account. They are deleted {n} minutes after the last"
            " message. The bot does not keep names, phone numbers or usernames, and its logs"
            " contain no answers. /forget deletes everything at once, including the messages in"
            " this chat.",
        ),
        n=Ext("ttl_minutes"),
    ),
    "decree": Msg(
        N_(
            "Decree (указ) No. 821 of the President of Russia, of 5 November 2025, sets temporary"
            " rules for residence permits (вид на жительство, ВНЖ) and Russian citizenship. It"
            " concerns men aged 18 to 65 who apply on the basis of long residence or family."
            " Besides the usual documents, they need one more: about military service in Russia,"
            " or about being unfit for it.\n"
            "For a residence permit, one of four: a contract with Минобороны России for military"
            " service of at least one year, a contract with МЧС России, an extract from the order"
            " of discharge from military service (on reaching the age limit, at the end of"
            " service or on health grounds), or a decision that the man is unfit for military"
            " service.\n"
            "For citizenship, according to reports: a decision of unfitness, or proof of service"
            " in Russia's armed forces or МЧС that ended before 24 February 2022. Those who serve"
            " or served under contract after that date have a separate route.\n"
            "No source says whether papers from another country's army count.\n"
            "The requirement does not concern women or citizens of Belarus.\n"
            "The decree was published on the official legal portal on 5 November 2025, but we"
            " could not read its full text. This summary rests on news reports and a"
            " clarification of the Interior Ministry (МВД)."
        )
    ),
}
