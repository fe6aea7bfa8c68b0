"""Rendering in every language: dates, nested messages, lists, countries, Ext values, plurals."""

from __future__ import annotations

import gettext
from datetime import date

import pytest

from bot.conversation.countries import country_name
from bot.conversation.replies import Bullets, Button, Country, Ext, Msg, Pair, Reply
from bot.conversation.screens import INFO, mode_picker
from bot.conversation.state import LANGUAGES
from bot.dates import format_day
from bot.i18n import Renderer, load_catalogs
from tests.i18n import forms, po
from tests.i18n.test_dates import DECREE_DAY

every_lang = pytest.mark.parametrize("lang", LANGUAGES)
Catalogs = dict[str, gettext.NullTranslations]

#: The privacy notice is the message with a count: "deleted {n} minutes after …".
PRIVACY = INFO["privacy"]

#: "{n} minute(s)" as it must read, per language and count.
MINUTES = {
    "ru": {1: "1 минуту", 2: "2 минуты", 5: "5 минут", 11: "11 минут", 21: "21 минуту",
           22: "22 минуты", 30: "30 минут"},
    "tg": {1: "1 дақиқа", 2: "2 дақиқа", 30: "30 дақиқа"},
    "uz": {1: "1 daqiqa", 2: "2 daqiqa", 30: "30 daqiqa"},
    "uz_Cyrl": {1: "1 дақиқа", 2: "2 дақиқа", 30: "30 дақиқа"},
    "az": {1: "1 dəqiqə", 2: "2 dəqiqə", 30: "30 dəqiqə"},
    "en": {1: "1 minute", 2: "2 minutes", 30: "30 minutes"},
}  # fmt: skip

#: The Russian form (one, few, many) each count takes.
RUSSIAN_FORM = {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1, 30: 2}


def _ext(name: str, lang: str) -> str:
    """Operator values for these tests."""
    values = {
        "bot_link": f"https://t.me/decree_test_bot?start={lang}-self",
        "ttl_minutes": "30",
        "legal_help": f"Legal help for {lang}: +7 000 000-00-00",
    }
    return values[name]


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    """The compiled catalogs, read once."""
    return load_catalogs()


@pytest.fixture(scope="module")
def rend(catalogs: Catalogs) -> Renderer:
    """A renderer on the compiled catalogs with the operator values above."""
    return Renderer(catalogs, ext=_ext)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


@every_lang
def test_date_parameters_are_formatted(lang: str, rend: Renderer) -> None:
    """A date parameter renders with `format_day` in the reply's language."""
    message_id = "Information as of {date}. Decree (указ) No. 821 of {decree_date}."
    text = rend.text(
        Msg.of(message_id, date=date(2026, 1, 15), decree_date=date(2025, 11, 5)), lang
    )
    assert format_day(date(2026, 1, 15), lang) in text
    assert DECREE_DAY[lang] in text
    assert "{" not in text


# --------------------------------------------------------------------------------------------
# Messages and their parameters
# --------------------------------------------------------------------------------------------


@every_lang
def test_nested_message(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """A message parameter is itself translated into the same language."""
    t = catalogs[lang].gettext
    msg = Msg.of("Change: {question}", question=Msg("Sex"))
    assert rend.text(msg, lang) == t("Change: {question}").format(question=t("Sex"))
    if lang != "en":
        assert rend.text(msg, lang) != "Change: Sex"


@every_lang
def test_bullets_with_pairs_and_countries(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """A bullet list renders one "• " line per item; a pair is "question: answer"."""
    t = catalogs[lang].gettext
    items = Bullets(
        (
            Pair(Msg("Sex"), Msg("Man")),
            Pair(Msg("Citizenship"), Country("TJ")),
            Msg("Some answers are still missing."),
        )
    )
    text = rend.text(Msg.of("Answers used:\n{items}", items=items), lang)
    lines = [
        f"• {t('Sex')}: {t('Man')}",
        f"• {t('Citizenship')}: {country_name('TJ', lang)}",
        f"• {t('Some answers are still missing.')}",
    ]
    assert text == t("Answers used:\n{items}").format(items="\n".join(lines))
    assert text.count("\n• ") == 3


@every_lang
def test_countries_render_in_the_language(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """A Country parameter is its name in `lang`; "stateless" is the catalog's phrase."""
    t = catalogs[lang].gettext
    recognised = "Citizenship: {country}. If this is wrong, press «← Back»."
    text = rend.text(Msg.of(recognised, country=Country("AM")), lang)
    assert text == t(recognised).format(country=country_name("AM", lang))
    assert rend.country("stateless", lang) == t("No citizenship")
    assert rend.label(Country("UZ"), lang) == country_name("UZ", lang)


def test_country_names_are_localised() -> None:
    """The country names used above differ by language (a sanity check of the data)."""
    assert country_name("AM", "ru") == "Армения"
    assert country_name("AM", "en") == "Armenia"
    assert len({country_name("AM", lang) for lang in LANGUAGES}) >= 4


@every_lang
def test_operator_values(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """Ext parameters are filled with the operator's value for the language."""
    t = catalogs[lang].gettext
    share = "Check your own case, in your language: {link}"
    text = rend.text(Msg.of(share, link=Ext("bot_link")), lang)
    assert text == t(share).format(link=_ext("bot_link", lang))
    help_id = "Where to get legal help:\n{contacts}"
    text = rend.text(Msg.of(help_id, contacts=Ext("legal_help")), lang)
    assert text.endswith("\n" + _ext("legal_help", lang))


# --------------------------------------------------------------------------------------------
# Plurals
# --------------------------------------------------------------------------------------------


def _privacy(n: int) -> Msg:
    return Msg(PRIVACY.id, (("n", n),), plural=PRIVACY.plural)


@pytest.mark.parametrize(
    ("lang", "n"), [(lang, n) for lang, counts in MINUTES.items() for n in counts]
)
def test_plural_count(lang: str, n: int, rend: Renderer) -> None:
    """{n} minutes reads right for each count in each language."""
    assert MINUTES[lang][n] in rend.text(_privacy(n), lang)


@pytest.mark.parametrize("n", sorted(RUSSIAN_FORM))
def test_russian_plural_uses_the_right_msgstr(n: int, rend: Renderer) -> None:
    """Russian picks msgstr[0] for 1 and 21, [1] for 2 and 22, [2] for 5, 11 and 30."""
    strings = forms(po("ru")[PRIVACY.id].string)
    assert rend.text(_privacy(n), "ru") == strings[RUSSIAN_FORM[n]].format(n=n)


@every_lang
def test_plural_count_from_an_operator_value(lang: str, rend: Renderer) -> None:
    """The count may be an operator value (the session lifetime)."""
    assert MINUTES[lang][30] in rend.text(PRIVACY, lang)


# --------------------------------------------------------------------------------------------
# Whole replies and keyboards
# --------------------------------------------------------------------------------------------


@every_lang
def test_reply_renders_text_and_button_rows(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """Paragraphs join with a blank line; buttons become rows of (label, data)."""
    t = catalogs[lang].gettext
    reply = Reply(
        (Msg("Who are you checking for?"), "Plain text, never translated"),
        (
            (Button(Msg("For myself"), "mode=self"), Button(Country("TJ"), "c=TJ")),
            (Button("Русский", "lang=ru"),),
        ),
        edit=True,
    )
    rendered = rend.render(reply, lang)
    assert rendered.text == f"{t('Who are you checking for?')}\n\nPlain text, never translated"
    assert rendered.buttons == (
        ((t("For myself"), "mode=self"), (country_name("TJ", lang), "c=TJ")),
        (("Русский", "lang=ru"),),
    )
    assert rendered.edit is True


@every_lang
def test_keyboards_are_translated_and_cached(lang: str, rend: Renderer, catalogs: Catalogs) -> None:
    """A real keyboard renders translated labels with unchanged data, built once."""
    t = catalogs[lang].gettext
    picker = mode_picker()
    first = rend.render(picker, lang).buttons
    assert [data for row in first for _, data in row] == ["mode=self", "mode=relative", "mode=ngo"]
    assert first[0][0][0] == t("For myself")
    if lang != "en":
        assert first[0][0][0] != "For myself"
    assert rend.keyboard(picker.buttons, lang) is first
