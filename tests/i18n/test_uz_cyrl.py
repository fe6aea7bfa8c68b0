"""One Uzbek in two scripts: the Cyrillic catalog is the transliteration of the Latin one."""

from __future__ import annotations

import importlib.util
import tomllib
from types import ModuleType

import pytest

from tests.i18n import ROOT, forms, po

TOOL = ROOT / "tools" / "uz_cyrl.py"
EXCEPTIONS = ROOT / "locales" / "uz_Cyrl" / "transliteration.toml"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("uz_cyrl", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


uz_cyrl = _tool()


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("Oʻzbekiston", "Ўзбекистон"),  # oʻ → ў
        ("gʻalaba", "ғалаба"),  # gʻ → ғ
        ("qarindosh", "қариндош"),  # q → қ, sh → ш
        ("hujjat", "ҳужжат"),  # h → ҳ, j → ж
        ("xabar", "хабар"),  # x → х
        ("choʻl", "чўл"),  # ch → ч
        ("yoʻq", "йўқ"),  # y before oʻ is й, not ё
        ("yoshi", "ёши"),  # yo → ё
        ("yuridik", "юридик"),  # yu → ю
        ("Yangi", "Янги"),  # ya → я, capital kept
        ("yetadi", "етади"),  # ye → е
        ("ekan", "экан"),  # e → э at the start of a word
        ("poezd", "поэзд"),  # ... and after a vowel
        ("eʼlon", "эълон"),  # ʼ → ъ
        ("maʼlumot", "маълумот"),
        ("migratsiya", "миграция"),  # ts → ц in -tsiya
        ("layoqatsiz", "лаёқатсиз"),  # ... but not across a suffix
        ("SHARTNOMA", "ШАРТНОМА"),
        ("2025-yil 5-noyabr", "2025 йил 5 ноябрь"),  # the Cyrillic date, ь from the list
        ("5-noyabrdagi", "5 ноябрдаги"),  # with a suffix the sign goes
        ("821-son", "821-сон"),
        ("{documents} /start news.mail.ru", "{documents} /start news.mail.ru"),  # left as is
        ("yashash uchun ruxsatnoma (ВНЖ)", "яшаш учун рухсатнома (ВНЖ)"),  # Russian stays
    ],
)
def test_transliteration_follows_the_official_correspondence(latin: str, cyrillic: str) -> None:
    """The letters map as the official correspondence of the two alphabets says."""
    assert uz_cyrl.to_cyrillic(latin) == cyrillic


def test_every_cyrillic_message_is_the_transliteration_of_the_latin() -> None:
    """Each uz_Cyrl msgstr is the transliteration of its uz msgstr, or a listed exception."""
    words, messages = uz_cyrl.load_exceptions()
    latin, cyrillic = po("uz"), po("uz_Cyrl")
    drifted = []
    for message in cyrillic:
        if not message.id:
            continue
        source = latin.get(message.id)
        assert source is not None, f"not in the Latin catalog: {message.id!r}"
        wanted = uz_cyrl.drafted(source.string, forms(message.id)[0], words, messages)
        if forms(message.string) != forms(wanted):
            drifted.append(forms(message.id)[0][:60])
    assert not drifted, f"uz_Cyrl differs from uz (run `make uz-cyrl`): {drifted}"


def test_exceptions_have_reasons_and_are_used() -> None:
    """Every listed exception says why; a message exception names a message that exists."""
    with EXCEPTIONS.open("rb") as handle:
        data = tomllib.load(handle)
    entries = [*data.get("words", []), *data.get("messages", [])]
    assert entries, "the exceptions list is empty"
    assert all(entry.get("reason", "").strip() for entry in entries), "an exception has no reason"
    msgids = {forms(message.id)[0] for message in po("uz") if message.id}
    for entry in data.get("messages", []):
        assert entry["msgid"] in msgids, f"unused message exception: {entry['msgid'][:60]!r}"
