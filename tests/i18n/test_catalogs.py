"""The catalogs are complete, current, consistent with the source, compiled, and fit Telegram."""

from __future__ import annotations

import gettext
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import catalog_stats
from bot.conversation import texts, transition
from bot.conversation.events import Restore
from bot.conversation.machine import facts_of
from bot.conversation.notice import notice_reply, offer_reply
from bot.conversation.questions import QUESTIONS
from bot.conversation.replies import Button, Msg, Reply
from bot.conversation.result import result_buttons
from bot.conversation.screens import language_picker, mode_picker, nav_row
from bot.conversation.state import LANGUAGES, Mode
from bot.i18n import CatalogMissingError, Renderer, load_catalogs
from bot.messages import COMMANDS, DESCRIPTION, OPEN_PRIVATE_CHAT, SHORT_DESCRIPTION
from rules import CAVEATS, REASONS, SOURCES, Certainty, Outcome, decide
from rules.facts import Document
from tests.conftest import TODAY, WORKER
from tests.conversation.golden import run_persona
from tests.conversation.personas import PERSONAS
from tests.i18n import (
    CATALOG_LANGUAGES,
    POT_PATH,
    ROOT,
    forms,
    mo_path,
    placeholders,
    po,
    po_path,
    pot,
    source_messages,
    translations,
)

#: The exact Plural-Forms header each catalog must declare (Babel has no rule for Tajik, so it
#: is set by hand: Tajik nouns do not change with the count).
PLURAL_FORMS = {
    "ru": (
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 &&"
        " (n%100<10 || n%100>=20) ? 1 : 2);"
    ),
    "tg": "nplurals=1; plural=0;",
    "uz": "nplurals=2; plural=(n != 1);",
    "uz_Cyrl": "nplurals=2; plural=(n != 1);",
    "az": "nplurals=2; plural=(n != 1);",
}

#: Telegram's limits, counted in UTF-16 code units as the Bot API counts them.
DESCRIPTION_MAX = 512
SHORT_DESCRIPTION_MAX = 120
COMMAND_DESCRIPTION_MAX = 256
BUTTON_LABEL_MAX = 64

by_lang = pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
every_lang = pytest.mark.parametrize("lang", LANGUAGES)


def _short(message_id: str | tuple[str, ...] | list[str]) -> str:
    """The start of a msgid, enough to find it in the .po file."""
    text = forms(message_id)[0].replace("\n", "\\n")
    return text if len(text) <= 60 else text[:57] + "..."


def _message_set(catalog: Catalog) -> set[tuple[object, str | None, frozenset[str]]]:
    """What makes a template current: every id (with its plural id), context and flags."""
    return {(forms(m.id), m.context, frozenset(m.flags - {"fuzzy"})) for m in catalog if m.id}


def _utf16_len(text: str) -> int:
    """A length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def test_the_five_catalog_languages_are_the_expected_ones() -> None:
    """The bot offers exactly the five translated languages and the English source."""
    assert CATALOG_LANGUAGES == ("ru", "tg", "uz", "uz_Cyrl", "az")
    for lang in CATALOG_LANGUAGES:
        assert po_path(lang).is_file(), f"no catalog for {lang}"


# --------------------------------------------------------------------------------------------
# The template is current
# --------------------------------------------------------------------------------------------


def test_messages_pot_is_up_to_date(tmp_path: Path) -> None:
    """Re-extracting the sources gives the same messages as the checked-in messages.pot."""
    pybabel = Path(sys.executable).with_name("pybabel")
    fresh = tmp_path / "messages.pot"
    command = [
        str(pybabel), "extract", "-F", "babel.cfg", "-k", "N_", "-k", "NN_:1,2",
        "--no-location", "--sort-output", "--omit-header", "--project", "decree-bot",
        "-o", str(fresh), ".",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with fresh.open("rb") as handle:
        extracted = _message_set(read_po(handle))
    checked_in = _message_set(pot())
    missing = sorted(_short(m[0]) for m in extracted - checked_in)
    stale = sorted(_short(m[0]) for m in checked_in - extracted)
    hint = f"{POT_PATH.name} is stale; run `make extract` (then `make update`)"
    assert not missing, f"{hint}: in the code, not in the template: {missing}"
    assert not stale, f"{hint}: in the template, not in the code: {stale}"


# --------------------------------------------------------------------------------------------
# Every catalog is complete
# --------------------------------------------------------------------------------------------


@by_lang
def test_catalog_has_every_message_of_the_template(lang: str) -> None:
    """The catalog's active messages are exactly the template's (run `make update` if not)."""
    source = {forms(m.id)[0]: forms(m.id) for m in source_messages()}
    catalog = {forms(m.id)[0]: forms(m.id) for m in po(lang) if m.id}
    missing = sorted(_short(key) for key in source.keys() - catalog.keys())
    extra = sorted(_short(key) for key in catalog.keys() - source.keys())
    plural_ids = sorted(
        _short(key) for key in source.keys() & catalog.keys() if source[key] != catalog[key]
    )
    assert not missing, f"{lang}: run `make update`; missing: {missing}"
    assert not extra, f"{lang}: run `make update`; not in the template: {extra}"
    assert not plural_ids, f"{lang}: run `make update`; different plural id: {plural_ids}"


@by_lang
def test_every_message_is_translated(lang: str) -> None:
    """Every template message has a translation in every plural form of the language."""
    expected_forms = po(lang).num_plurals
    problems = []
    for source, strings in translations(lang):
        wanted = expected_forms if source.pluralizable else 1
        if not strings or not all(s.strip() for s in strings):
            problems.append(f"untranslated: {_short(source.id)!r}")
        elif len(strings) != wanted:
            problems.append(f"{len(strings)} forms instead of {wanted}: {_short(source.id)!r}")
    assert not problems, f"{lang}: {len(problems)} entries\n  " + "\n  ".join(problems)


@by_lang
def test_no_message_is_fuzzy(lang: str) -> None:
    """No entry, and not the header, is marked fuzzy (pybabel compile would drop it)."""
    catalog = po(lang)
    assert not catalog.fuzzy, f"{lang}: the header is marked fuzzy"
    fuzzy = [_short(m.id) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy entries {fuzzy}"


# --------------------------------------------------------------------------------------------
# Placeholders
# --------------------------------------------------------------------------------------------


def _placeholder_problems(source: Message, strings: tuple[str, ...]) -> list[str]:
    ids = forms(source.id)
    expected = placeholders(ids[-1])
    dummy = {name.strip("{}").split("!")[0].split(":")[0]: "X" for name in expected}
    problems = []
    for index, text in enumerate(strings):
        where = f"{_short(source.id)!r} form {index}"
        try:
            found = placeholders(text)
            text.format_map(dummy)
        except (ValueError, KeyError, IndexError, AttributeError) as error:
            problems.append(f"{where}: does not format ({error!r})")
            continue
        if found != expected:
            problems.append(f"{where}: {dict(found)} instead of {dict(expected)}")
    return problems


def test_source_messages_have_consistent_placeholders() -> None:
    """A plural msgid has the same placeholders as its singular, and each id formats."""
    for source in source_messages():
        ids = forms(source.id)
        assert all(placeholders(i) == placeholders(ids[0]) for i in ids), _short(source.id)


@by_lang
def test_placeholders_match_the_source(lang: str) -> None:
    """Every form of every translation has the source's `{name}` fields, as often, and formats."""
    problems = [
        problem
        for source, strings in translations(lang)
        for problem in _placeholder_problems(source, strings)
    ]
    assert not problems, f"{lang}:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------------
# Compiled catalogs
# --------------------------------------------------------------------------------------------


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@by_lang
def test_catalog_compiles_without_errors(lang: str) -> None:
    """Babel's checks (as `pybabel compile` runs them) find nothing, and the .mo builds."""
    errors = [f"{_short(m.id)!r}: {e}" for m, errs in po(lang).check() for e in errs]
    assert not errors, f"{lang}:\n  " + "\n  ".join(errors)
    assert _compiled(po(lang))._catalog


@by_lang
def test_plural_forms_header(lang: str) -> None:
    """Each catalog declares the plural rule of its language."""
    assert po(lang).plural_forms == PLURAL_FORMS[lang]


@by_lang
def test_compiled_catalog_is_current(lang: str) -> None:
    """The .mo under locales/ is newer than its .po, loads, and holds what the .po says."""
    mo, source = mo_path(lang), po_path(lang)
    assert mo.is_file(), f"{mo} is missing: run `make compile`"
    assert mo.stat().st_mtime >= source.stat().st_mtime, f"{mo} is stale: run `make compile`"
    with mo.open("rb") as handle:
        on_disk = gettext.GNUTranslations(handle)
    assert on_disk.info()["plural-forms"] == PLURAL_FORMS[lang]
    assert on_disk._catalog == _compiled(po(lang))._catalog, f"{mo} differs from {source}"


@pytest.mark.parametrize(("n", "index"), [(1, 0), (2, 1), (5, 2), (11, 2), (21, 0), (30, 2)])
def test_russian_plural_picks_the_right_form(n: int, index: int) -> None:
    """ngettext in Russian chooses one/few/many as the grammar wants."""
    catalog = load_catalogs(languages=("ru",))["ru"]
    plural = [m for m in source_messages() if m.pluralizable]
    assert plural, "the template has no plural message"
    for source in plural:
        singular, plural_id = forms(source.id)
        strings = forms(po("ru")[source.id].string)
        assert catalog.ngettext(singular, plural_id, n) == strings[index]


def test_tajik_plural_has_one_form() -> None:
    """Tajik uses its single form for every count."""
    catalog = load_catalogs(languages=("tg",))["tg"]
    for source in (m for m in source_messages() if m.pluralizable):
        singular, plural_id = forms(source.id)
        (only,) = forms(po("tg")[source.id].string)
        assert {catalog.ngettext(singular, plural_id, n) for n in (1, 2, 5, 21, 30)} == {only}


# --------------------------------------------------------------------------------------------
# Loading: one catalog per language, no fallbacks
# --------------------------------------------------------------------------------------------


def test_load_catalogs_has_no_fallback_chain() -> None:
    """Every language loads its own catalog, and none falls back to another."""
    catalogs = load_catalogs()
    assert tuple(catalogs) == LANGUAGES
    for lang, catalog in catalogs.items():
        assert catalog._fallback is None, lang
        if lang in CATALOG_LANGUAGES:
            assert isinstance(catalog, gettext.GNUTranslations), lang
            assert catalog.info()["language"] == lang


def test_a_missing_string_stays_the_source_not_another_language(tmp_path: Path) -> None:
    """A msgid a catalog lacks comes back as the English id, never as another language."""
    target = mo_path("tg", tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copyfile(mo_path("tg"), target)
    catalog = load_catalogs(tmp_path, ("tg",))["tg"]
    assert catalog.gettext("A message no catalog has") == "A message no catalog has"


def test_a_missing_compiled_catalog_fails_at_start(tmp_path: Path) -> None:
    """Without a .mo for one language, loading raises CatalogMissingError naming it."""
    target = mo_path("ru", tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copyfile(mo_path("ru"), target)
    assert set(load_catalogs(tmp_path, ("ru", "en"))) == {"ru", "en"}
    with pytest.raises(CatalogMissingError, match="'uz'"):
        load_catalogs(tmp_path, ("ru", "uz"))


# --------------------------------------------------------------------------------------------
# Telegram limits
# --------------------------------------------------------------------------------------------


def test_descriptions_are_the_expected_messages() -> None:
    """The limits below are checked on the right messages."""
    assert DESCRIPTION.startswith("This bot explains Decree")
    assert SHORT_DESCRIPTION.startswith("What Decree No. 821 means")


@every_lang
def test_telegram_text_limits(lang: str, renderer: Renderer) -> None:
    """Bot description ≤ 512, short description ≤ 120 and each command ≤ 256, in `lang`."""
    too_long = []
    checks = [(DESCRIPTION, DESCRIPTION_MAX), (SHORT_DESCRIPTION, SHORT_DESCRIPTION_MAX)]
    checks += [(label, COMMAND_DESCRIPTION_MAX) for _, label in COMMANDS]
    for message_id, limit in checks:
        text = renderer.gettext(message_id, lang)
        if not 0 < _utf16_len(text) <= limit:
            too_long.append(f"{_short(message_id)!r}: {_utf16_len(text)} > {limit}")
    assert not too_long, f"{lang}: {too_long}"


#: What a phone shows whole: an inline button alone on its row (full width on a 360 px screen)
#: shows about 40 characters; buttons that share a row split that width. Telegram cuts the
#: rest, and the cut is usually the word that matters ("contract"). Rendered at 360 px, a
#: button in a row of two shows about 20 characters, in a row of three about 13.
#: (Stricter than the 30 the languages issue set for any shared row: the pictures showed that
#: 22 characters are cut in a row of two.)
PHONE_ROW_CHARS = 40


def _phone_limit(buttons_in_row: int) -> int:
    return PHONE_ROW_CHARS // buttons_in_row


def _static_rows() -> list[tuple[Button, ...]]:
    """Every keyboard row the code defines, laid out as the machine lays it out."""
    rows: list[tuple[Button, ...]] = []
    for question in QUESTIONS.values():
        buttons = [Button(o.label, "") for o in question.options]
        if question.fact == "citizenship":
            buttons.append(Button(Msg("Another country"), ""))
        step = question.per_row
        rows += [tuple(buttons[i : i + step]) for i in range(0, len(buttons), step)]
    rows += [
        (Button(Msg.of("Change: {question}", question=Msg(q.title)), ""),)
        for q in QUESTIONS.values()
    ]
    rows += [*mode_picker().buttons, nav_row(), *language_picker().buttons]
    rows += [(Button(Msg(OPEN_PRIVATE_CHAT), ""),)]
    rows += [*result_buttons(), *offer_reply().buttons, *_a_notice().buttons]
    return rows


def _a_notice() -> Reply:
    """A notice as `decree-bot notify` sends it (its buttons are the same for every answer)."""
    shown = transition(None, Restore(dict(WORKER), "ru", "self"), today=TODAY)
    assert shown.state is not None
    finding = decide(facts_of(shown.state), on=TODAY)
    return notice_reply((Outcome.NOT_AFFECTED, None, Certainty.HIGH), finding, Mode.SELF)


async def _shown_rows(lang: str, renderer: Renderer) -> set[tuple[str, ...]]:
    """Every row of labels in `lang`: the defined ones and those the golden personas see."""
    shown = {tuple(renderer.label(b.label, lang) for b in row) for row in _static_rows()}
    for persona in PERSONAS:
        chat = await run_persona(persona, lang, renderer)
        shown |= {
            tuple(label for label, _ in row) for keyboard in chat.keyboards for row in keyboard
        }
    return shown


@every_lang
async def test_button_labels_fit(lang: str, renderer: Renderer) -> None:
    """Every inline-button label, defined or shown in a golden persona, is ≤ 64 characters."""
    labels = {label for row in await _shown_rows(lang, renderer) for label in row}
    too_long = sorted(
        f"{label!r} ({_utf16_len(label)})"
        for label in labels
        if not 0 < _utf16_len(label) <= BUTTON_LABEL_MAX
    )
    assert not too_long, f"{lang}: {too_long}"


@every_lang
async def test_button_labels_fit_a_phone(lang: str, renderer: Renderer) -> None:
    """A button alone on its row has ≤ 40 characters; in a row of two ≤ 20, of three ≤ 13."""
    too_long = sorted(
        f"{label!r} ({_utf16_len(label)} > {limit})"
        for row in await _shown_rows(lang, renderer)
        for label in row
        for limit in [_phone_limit(len(row))]
        if _utf16_len(label) > limit
    )
    assert not too_long, f"{lang}: cut on a phone: {too_long}"


# --------------------------------------------------------------------------------------------
# Codes of the rules have sentences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentences", "codes"),
    [
        (texts.REASON_TEXT, set(REASONS)),
        (texts.CAVEAT_TEXT, set(CAVEATS)),
        (texts.DOCUMENT_TEXT, {d.value for d in Document}),
        (texts.SOURCE_TEXT, set(SOURCES)),
    ],
    ids=["reasons", "caveats", "documents", "sources"],
)
def test_every_code_has_exactly_one_sentence(sentences: dict[str, str], codes: set[str]) -> None:
    """Each code of the rules has a sentence, no sentence lacks a code, and each is extracted."""
    assert set(sentences) - codes == set(), "sentences for unknown codes"
    assert codes - set(sentences) == set(), "codes without a sentence"
    extracted = {forms(m.id)[0] for m in source_messages()}
    assert set(sentences.values()) <= extracted


# --------------------------------------------------------------------------------------------
# `make stats`
# --------------------------------------------------------------------------------------------


def test_catalog_stats_report(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bot.catalog_stats` prints one row per language and exits 0."""
    assert catalog_stats.main([]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == set(LANGUAGES)
    total = len(source_messages())
    for lang in CATALOG_LANGUAGES:
        counts = catalog_stats.stats(lang, pot(), po(lang))
        assert counts.total == total
        assert rows[lang][1:4] == [
            str(counts.translated),
            str(counts.fuzzy),
            str(counts.untranslated),
        ]
