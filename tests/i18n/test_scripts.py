"""Each catalog is written in its language's script and alphabet, and none copies Russian.

Before letters are checked, a translation loses what is legitimately foreign in it: `{fields}`,
official Russian terms in parentheses copied from the source (and, in the Latin-script
languages, any parenthesised Russian), «quoted» examples from the source, /commands, web
addresses, and the few Latin names the source itself uses. Emoji, arrows, bullets, digits and
punctuation are not letters and are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.i18n import CATALOG_LANGUAGES, forms, po, source_messages, translations

_FIELD = re.compile(r"\{[^{}]*\}")
_PARENTHESISED = re.compile(r"\([^()]*\)")
_QUOTED = re.compile(r"«[^«»]*»")
_COMMAND = re.compile(r"(?<![\w/])/[a-z_]+\b")
_ADDRESS = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|com|org|net|me)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:[ʻʼ][^\W\d_]+)*")

#: Names the English source writes in Latin letters; a translation may keep them as they are.
LATIN_NAMES = ("RFE/RL", "TASS", "NSN", "Telegram")

#: Alphabets, lower case. Tajik (1998 alphabet) has ъ and э but no longer ц щ ы ь.
TAJIK = frozenset("абвгғдеёжзиӣйкқлмнопрстуӯфхҳчҷшъэюя")
#: Uzbek Cyrillic; ц is left out (see UZBEK_CYRILLIC_LOANWORDS), щ and ы are not in it.
UZBEK_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхчшъьэюяўқғҳ")
#: Uzbek Latin: c only in the digraph ch; ʻ (U+02BB) in oʻ gʻ, ʼ (U+02BC) the tutuq belgisi.
UZBEK_LATIN = frozenset("abdefghijklmnopqrstuvxyzʻʼ")
AZERBAIJANI = frozenset("abcçdeəfgğhxıijkqlmnoöprsştuüvyz")

#: Words with ц allowed in Uzbek Cyrillic: international words that Uzbek Cyrillic spells
#: with ц (Latin: migratsiya), as dictionaries and official texts do.
UZBEK_CYRILLIC_LOANWORDS = ("миграци",)

#: Apostrophe look-alikes that must not stand for ʻ or ʼ in Uzbek Latin.
UZBEK_WRONG_APOSTROPHES = "'‘’`´"

#: Turkish spellings of common Azerbaijani words (Azerbaijani: və, üçün, deyil, ilə, və ya,
#: olaraq, kimi, ölkə, sənəd).
TURKISH_WORDS = frozenset({"ve", "için", "değil", "ile", "veya", "olarak", "gibi", "ülke", "belge"})

#: Messages whose translation may equal the Russian one or the English id: the msgid is
#: itself the name of an outlet, which every language writes as the outlet does.
NAMES = frozenset({"Gazeta.ru", "Nakanune.ru"})


def _is_cyrillic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all("CYRILLIC" in unicodedata.name(c, "") for c in letters)


_GLOSSARY = (Path(__file__).resolve().parents[2] / "locales" / "GLOSSARY.md").read_text(
    encoding="utf-8"
)


def _official_term(inner: str) -> bool:
    """Every comma-separated part is a Russian term that GLOSSARY.md lists."""
    parts = [p.strip() for p in inner.split(",")]
    return all(
        p and _is_cyrillic(p) and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", _GLOSSARY)
        for p in parts
    )


def strip_foreign(text: str, msgid: str, lang: str) -> str:
    """The translation without the parts that may legitimately be in another script."""
    text = _FIELD.sub(" ", text)

    def parenthesised(match: re.Match[str]) -> str:
        copied = match.group(0) in msgid
        russian = lang in ("uz", "az") and _is_cyrillic(match.group(0))
        # In the Cyrillic languages a Russian term is allowed when it is an official term of
        # the glossary (GLOSSARY.md rule 1), even where the English source has none.
        official = lang in ("tg", "uz_Cyrl") and _official_term(match.group(0)[1:-1])
        return " " if copied or russian or official else match.group(0)

    text = _PARENTHESISED.sub(parenthesised, text)
    text = _QUOTED.sub(lambda m: " " if m.group(0) in msgid else m.group(0), text)
    text = _COMMAND.sub(" ", text)
    text = _ADDRESS.sub(" ", text)
    for name in LATIN_NAMES:
        if name in msgid:
            text = text.replace(name, " ")
    return text


def _lower(text: str) -> str:
    """Lower case that keeps Azerbaijani İ/I apart (i/ı)."""
    return text.replace("İ", "i").replace("I", "ı").lower()


def _stripped(lang: str) -> Iterator[tuple[str, str]]:
    """(msgid start, stripped translation) for every form of every message of `lang`."""
    for source, strings in translations(lang):
        msgid = "\n".join(forms(source.id))
        for text in strings:
            yield forms(source.id)[0][:50], strip_foreign(text, msgid, lang)


def _letters(text: str, lang: str) -> str:
    lowered = _lower(text) if lang == "az" else text.lower()
    return "".join(c for c in lowered if c.isalpha())


def _outside(lang: str, alphabet: frozenset[str], allowed_words: tuple[str, ...] = ()) -> list[str]:
    """Messages with letters outside `alphabet` (words starting with `allowed_words` aside)."""
    problems = []
    for msgid, text in _stripped(lang):
        words = [w for w in _WORD.findall(text) if not w.lower().startswith(allowed_words)]
        if lang == "uz":
            words = [re.sub("ch", "", w, flags=re.I) for w in words]
        bad = sorted({c for w in words for c in _letters(w, lang) if c not in alphabet})
        if bad:
            problems.append(f"{msgid!r}: {''.join(bad)} in {text.strip()!r}")
    return problems


def _catalog_letters(lang: str) -> Counter[str]:
    return Counter(c for _, text in _stripped(lang) for c in _letters(text, lang))


# --------------------------------------------------------------------------------------------
# The stripping itself
# --------------------------------------------------------------------------------------------


def test_stripping_keeps_translated_text_and_drops_copied_terms() -> None:
    """Copied Russian terms, examples, commands and addresses go; everything else stays."""
    msgid = "Residence permit (вид на жительство, ВНЖ), «Армения» /start news.mail.ru {n} TASS"
    text = "Иҷозати (вид на жительство, ВНЖ) «Армения» /start news.mail.ru {n} TASS «Бозгашт» (щи)"
    assert strip_foreign(text, msgid, "tg").split() == ["Иҷозати", "«Бозгашт»", "(щи)"]
    # An official term of the glossary may stand in parentheses even if the source has none.
    assert strip_foreign("иҷозат (РВП)", msgid, "tg").split() == ["иҷозат"]
    assert strip_foreign("ruxsatnoma (РВП)", msgid, "uz").split() == ["ruxsatnoma"]


def test_latin_names_are_used_by_the_source() -> None:
    """Every allowed Latin name and every name message occurs in the English source."""
    ids = "\n".join("\n".join(forms(m.id)) for m in source_messages())
    assert all(name in ids for name in LATIN_NAMES)
    assert {forms(m.id)[0] for m in source_messages()} >= NAMES


# --------------------------------------------------------------------------------------------
# Cyrillic: Tajik and Uzbek Cyrillic
# --------------------------------------------------------------------------------------------


def test_tajik_uses_the_tajik_cyrillic_alphabet() -> None:
    """Tajik messages use only Tajik letters: Cyrillic, no Latin, no ц щ ы ь, no Uzbek ў."""
    problems = _outside("tg", TAJIK)
    assert not problems, "tg:\n  " + "\n  ".join(problems)


def test_tajik_catalog_uses_the_tajik_letters() -> None:
    """Across the Tajik catalog at least four of ғ ӣ қ ӯ ҳ ҷ occur."""
    used = set(_catalog_letters("tg")) & set("ғӣқӯҳҷ")
    assert len(used) >= 4, f"tg uses only {sorted(used)} of ғ ӣ қ ӯ ҳ ҷ"


def test_uzbek_cyrillic_uses_the_uzbek_cyrillic_alphabet() -> None:
    """Uzbek Cyrillic messages use only its letters; ц only in listed loanwords, no щ ы."""
    problems = _outside("uz_Cyrl", UZBEK_CYRILLIC, UZBEK_CYRILLIC_LOANWORDS)
    assert not problems, "uz_Cyrl:\n  " + "\n  ".join(problems)


def test_uzbek_cyrillic_catalog_uses_the_uzbek_letters() -> None:
    """Across the Uzbek Cyrillic catalog ў қ ғ ҳ all occur."""
    missing = set("ўқғҳ") - set(_catalog_letters("uz_Cyrl"))
    assert not missing, f"uz_Cyrl never uses {sorted(missing)}"


# --------------------------------------------------------------------------------------------
# Latin: Uzbek and Azerbaijani
# --------------------------------------------------------------------------------------------


def test_uzbek_latin_uses_the_uzbek_latin_alphabet() -> None:
    """Uzbek Latin messages use only its letters: Latin, no Cyrillic outside parentheses."""
    problems = _outside("uz", UZBEK_LATIN)
    assert not problems, "uz:\n  " + "\n  ".join(problems)


def test_uzbek_latin_apostrophes() -> None:
    """oʻ gʻ use ʻ (U+02BB) and the tutuq belgisi ʼ (U+02BC); no look-alike apostrophes."""
    problems = []
    for source, strings in translations("uz"):
        for text in strings:
            wrong = sorted(set(text) & set(UZBEK_WRONG_APOSTROPHES))
            if wrong:
                problems.append(f"{forms(source.id)[0][:50]!r}: {wrong} in {text!r}")
            if re.search(r"(?<![oOgG])\u02bb", text):
                problems.append(f"{forms(source.id)[0][:50]!r}: ʻ not after o/g in {text!r}")
    assert not problems, "uz:\n  " + "\n  ".join(problems)


def test_azerbaijani_uses_the_azerbaijani_alphabet() -> None:
    """Azerbaijani messages use only its letters: Latin with ə ı ş ç ğ ö ü, no ä, no Cyrillic."""
    problems = _outside("az", AZERBAIJANI)
    assert not problems, "az:\n  " + "\n  ".join(problems)


def test_azerbaijani_reads_as_azerbaijani() -> None:
    """ə occurs in every message over 40 letters; every message over 15 has ə ı ş ç ğ ö or ü."""
    assert _catalog_letters("az")["ə"] > 0
    problems = []
    for msgid, text in _stripped("az"):
        letters = _letters(text, "az")
        if len(letters) > 40 and "ə" not in letters:
            problems.append(f"{msgid!r}: no ə in {text.strip()!r}")
        elif len(letters) > 15 and not set(letters) & set("əışçğöü"):
            problems.append(f"{msgid!r}: no Azerbaijani letter in {text.strip()!r}")
    assert not problems, "az:\n  " + "\n  ".join(problems)


def test_azerbaijani_has_no_turkish_spellings() -> None:
    """Common Turkish spellings (ve, için, değil, ile …) do not replace Azerbaijani ones."""
    problems = [
        f"{msgid!r}: {sorted(found)}"
        for msgid, text in _stripped("az")
        if (found := {_lower(w) for w in _WORD.findall(text)} & TURKISH_WORDS)
    ]
    assert not problems, "az:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------------
# No copies of Russian or of the English source
# --------------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.replace("«", "").replace("»", "").casefold().split())


def _has_words(text: str) -> bool:
    """Whether `text` has words of its own (a layout such as «{label}» or "{a}, {b}" has none)."""
    return any(c.isalpha() for c in re.sub(r"\{\w+\}", "", text))


@pytest.mark.parametrize("lang", [lang for lang in CATALOG_LANGUAGES if lang != "ru"])
def test_no_translation_is_the_russian_text(lang: str) -> None:
    """No message of `lang` repeats the Russian translation (names and letterless text aside)."""
    russian = po("ru")
    problems = []
    for source, strings in translations(lang):
        ru = forms(russian[source.id].string) if russian.get(source.id) is not None else ()
        if forms(source.id)[0] in NAMES:
            continue
        problems += [
            f"{forms(source.id)[0][:50]!r}: {text!r}"
            for text in strings
            if _has_words(text) and _normal(text) in {_normal(r) for r in ru}
        ]
    assert not problems, f"{lang}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_no_translation_is_the_english_source(lang: str) -> None:
    """No message of `lang` is left in English (names of outlets aside)."""
    problems = [
        f"{forms(source.id)[0][:50]!r}"
        for source, strings in translations(lang)
        if forms(source.id)[0] not in NAMES
        for text in strings
        if _has_words(text) and _normal(text) in {_normal(i) for i in forms(source.id)}
    ]
    assert not problems, f"{lang}: {problems}"
