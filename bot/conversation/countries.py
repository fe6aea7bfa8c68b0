"""Recognise the country a user types, and name countries on buttons.

`match_country` turns free text into an upper-case ISO 3166-1 alpha-2 code, `STATELESS`, or
None. It knows every ISO country by its CLDR name in Russian, Tajik, Uzbek (Latin and
Cyrillic), Azerbaijani, English, Kyrgyz and Kazakh (generated into `_country_data` by
`tools/gen_countries.py`), plus the colloquial and older spellings our users actually type
(`_EXTRA_ALIASES`) and the ways they say they have no citizenship (`_STATELESS_PHRASES`).

How text is compared (`_tokens`, `_loose`):

* Unicode NFC, case folding, ё → е; spaces, hyphens, digits and punctuation are ignored.
* All apostrophe look-alikes (' ’ ‘ ʻ ʼ ` ´ …) are dropped, so "Qozogʻiston", "Qozog'iston"
  and "Qozogiston" are one key.
* In a word that mixes Latin and Cyrillic letters, look-alike letters of the minority script
  are read as the majority script ("Kазахстан" with a Latin K).
* If that finds nothing, a looser key is tried that reads the letters a Russian or English
  keyboard lacks as their nearest plain letter: Tajik ҷ қ ғ ҳ ӣ ӯ, Uzbek ў, Kazakh and Kyrgyz
  ә ө ү ұ і ң, Ukrainian і ї є ґ, Azerbaijani ə ı ğ ş ç ö ü ("Точикистон", "Azerbaycan").
* Official-name affixes are ignored: "Республика …", "… Respublikasi", "Ҷумҳурии …",
  "… Respublikası", "Republic of …".
* Endings are undone, as people write "I am from …": a case ending ("Таджикистана",
  "Армении", "Oʻzbekistondan", "Azərbaycandan"), an "I am" ending ("Тоҷикистонам"), or both
  ("Azərbaycan-dan-am", "Oʻzbekiston-dan-man", "Qozogʻiston-lik-man").
* A misspelt name is found by edit distance: one letter left out, added or changed
  ("Tajikstan", "Azarbaycan", "Таджикистн"), two in a long name; never if the typo is as close
  to two countries ("Nigeri").
* Two ASCII letters are an ISO code if, and only if, ISO assigned them ("am" → AM, "xx" → None).
* A short sentence that names exactly one country also works ("я из Таджикистана"). In a
  sentence, Russia is never the answer (users mention it as the place they live), and words
  shorter than five letters are ignored there ("того" is a Russian word before it is Togo).

Everything is precomputed at import into dicts; a call does a handful of lookups. The module
uses the standard library only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from typing import Final

from bot.conversation._country_data import CLDR_NAMES

__all__ = [
    "COMMON",
    "COUNTRY_NAMES",
    "DISPLAY_LOCALES",
    "ISO_CODES",
    "STATELESS",
    "country_name",
    "match_country",
]

#: What `match_country` returns for "I have no citizenship" (same value as rules.facts).
STATELESS: Final = "stateless"

#: Countries offered as buttons, most frequent first; the UI adds "stateless" and "other".
COMMON: Final[tuple[str, ...]] = ("TJ", "UZ", "KG", "AZ", "AM", "KZ", "MD", "BY", "UA")

#: Locales of `COUNTRY_NAMES`: the bot's five languages and English (source strings).
DISPLAY_LOCALES: Final[tuple[str, ...]] = ("ru", "tg", "uz", "uz_Cyrl", "az", "en")

#: Every officially assigned ISO 3166-1 alpha-2 code (249).
ISO_CODES: Final[frozenset[str]] = frozenset(CLDR_NAMES)

# ---------------------------------------------------------------------------------------------
# Display names
# ---------------------------------------------------------------------------------------------

#: Where the CLDR name is not what a native speaker expects on a button.
_DISPLAY_OVERRIDES: Final[dict[str, dict[str, str]]] = {
    # CLDR ru has the Russian exonym "Киргизия". The country's Russian-language constitution
    # (Russian is an official language there) says "Кыргызская Республика (Кыргызстан)", and
    # that is what Kyrgyz citizens, who use the bot in Russian, write. Both are accepted.
    "KG": {"ru": "Кыргызстан"},
    # CLDR tg has "Белорус", which reads as the ethnonym "a Belarusian"; Tajik official usage
    # is "Ҷумҳурии Беларус", short "Беларус" (as in uz_Cyrl).
    "BY": {"tg": "Беларус"},
    # CLDR tg borrows the Russian "Германия"; the Tajik name is "Олмон", as Tajik uses its own
    # names for France (Фаронса), Poland (Лаҳистон) or Greece (Юнон).
    "DE": {"tg": "Олмон"},
    # CLDR uz_Cyrl misspells Botswana with a double н (uz Latin has "Botsvana").
    "BW": {"uz_Cyrl": "Ботсвана"},
}

#: CLDR uz occasionally writes ‘ (U+2018) or ' for the oʻ/gʻ sign; the standard is ʻ (U+02BB).
_UZ_LATIN_TURNED_COMMA: Final = str.maketrans({"\u2018": "\u02bb", "'": "\u02bb"})


def _display_name(code: str, locale: str) -> str:
    override = _DISPLAY_OVERRIDES.get(code, {}).get(locale)
    if override is not None:
        return override
    names = CLDR_NAMES[code]
    if locale == "uz":
        return names["uz"].translate(_UZ_LATIN_TURNED_COMMA)
    # Every ISO code has all six names in CLDR 47; the fallback keeps a future CLDR gap
    # readable: Cyrillic-script locales fall back to Russian, Latin-script ones to English.
    fallback = "ru" if locale in ("tg", "uz_Cyrl") else "en"
    return names.get(locale) or names[fallback]


#: ISO code -> display locale -> the country's name as a native speaker expects it on a button.
COUNTRY_NAMES: Final[dict[str, dict[str, str]]] = {
    code: {locale: _display_name(code, locale) for locale in DISPLAY_LOCALES}
    for code in sorted(ISO_CODES)
}


def country_name(code: str, locale: str) -> str:
    """The display name of `code` in `locale`; English for another locale, the code if unknown."""
    names = COUNTRY_NAMES.get(code.upper())
    if names is None:
        return code
    return names.get(locale) or names["en"]


# ---------------------------------------------------------------------------------------------
# Hand-written aliases (CLDR names in all eight locales are added automatically)
# ---------------------------------------------------------------------------------------------

#: Colloquial, older, transliterated and neighbour-language names, and ICAO passport codes
#: (alpha-3, printed on the passports our users hold). Spellings that the normalisation
#: already reaches (apostrophe variants, ё, plain letters for ҷ/ў/ə …) need no entry.
_EXTRA_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "TJ": (
        "TJK",
        "Таджикистон",
        "Тажикистан",
        "Тожикистан",
        "Точикистан",
        "Tajikiston",
        "Tojikistan",
        "Tadzhikistan",
    ),
    "UZ": ("UZB", "Uzbekiston", "Uzbekstan", "Özbekistan", "Узбекстан", "Ozbekistan"),
    "KG": (
        "KGZ",
        "Кыргызстан",
        "Киргизстан",
        "Кыргызия",
        "Кыргызская Республика",
        "Киргизская Республика",
        "Kyrgyz Republic",
        "Kirgizstan",
        "Kirgiziya",
        "Kirgizia",
        "Kyrgyzia",
        "Kırgızistan",
        "Qirgizistan",
        "Qirgʻizistan",
        "Kirgiziston",
    ),
    "AZ": (
        "AZE",
        "Азербайджанская Республика",
        "Азарбайджан",
        "Азербайжан",
        "Azerbajdzhan",
        "Azarbayjon",
        "Azerbaycan",
        "Озарбайҷон",
        "Озарбойжон",
    ),
    "AM": ("ARM", "Hayastan", "Հայաստան", "Ermenistan", "Armenistan"),
    "KZ": (
        "KAZ",
        "Казакстан",
        "Казахстон",
        "Қозоқистон",
        "Qozoqiston",
        "Qazaqstan",
        "Kazakstan",
        "Kazahstan",
    ),
    "MD": ("MDA", "Молдавия", "Moldaviya", "Moldavia"),
    "BY": (
        "BLR",
        "Белоруссия",
        "Белорусия",
        "Белорусь",
        "Білорусь",
        "Беларусия",
        "Belorussiya",
        "Belorussia",
        "Byelorussia",
        "Belarusiya",
    ),
    "UA": ("UKR", "Україна", "Ukrayina"),
    "GE": ("GEO", "Sakartvelo", "საქართველო", "Gurjiston"),
    "TM": ("TKM", "Туркмения", "Türkmenistan", "Turkmenia"),
    "AF": ("AFG",),
    "CN": ("CHN", "КНР"),
    "TR": ("TUR", "Turkey", "Турция"),
    "IR": ("IRN",),
    "PK": ("PAK",),
    "IN": ("IND", "Ҳиндустон"),
    "MN": ("MNG",),
    "RU": (
        "RUS",
        "РФ",
        "Российская Федерация",
        "Russian Federation",
        "Федератсияи Россия",
        "Rossiya Federatsiyasi",
        "Россия Федерацияси",
        "Rusiya Federasiyası",
        "Федератсияи Русия",
    ),
    "US": ("USA", "США", "АҚШ", "AQSH", "ABŞ", "ИМА", "Америка", "Amerika", "America"),
    "GB": ("Англия", "Британия", "England", "Britain", "Great Britain"),
    "DE": ("Олмон", "Olmoniya"),
    "AE": ("UAE", "Эмираты", "BAA", "БАА"),
    "KR": ("Южная Корея",),
    "KP": ("Северная Корея",),
    "CZ": ("Czech Republic",),
    "NL": ("Голландия", "Holland"),
    "PS": ("Palestine", "State of Palestine", "Палестина", "Фаластин", "Falastin", "Fələstin"),
}

#: Ways to say "I have no citizenship" (a stateless person: лицо без гражданства).
_STATELESS_PHRASES: Final[tuple[str, ...]] = (
    # ru
    "без гражданства",
    "лицо без гражданства",
    "ЛБГ",
    "апатрид",
    "нет гражданства",
    "гражданства нет",
    "не имею гражданства",
    "у меня нет гражданства",
    # en
    "stateless",
    "stateless person",
    "no citizenship",
    "without citizenship",
    "no nationality",
    # tg
    "бешаҳрванд",
    "бешаҳрвандӣ",
    "шахси бешаҳрвандӣ",
    "шахсони бешаҳрвандӣ",
    "шаҳрвандӣ надорам",
    "шаҳрвандӣ надорад",
    "шаҳрвандӣ нест",
    # uz (Latin, Cyrillic)
    "fuqaroligi yoʻq",
    "fuqaroligim yoʻq",
    "fuqarolik yoʻq",
    "fuqaroligi yoʻq shaxs",
    "fuqaroligi boʻlmagan shaxs",
    "fuqaroligi boʻlmagan",
    "фуқаролиги йўқ",
    "фуқаролигим йўқ",
    "фуқаролик йўқ",
    "фуқаролиги йўқ шахс",
    "фуқаролиги бўлмаган шахс",
    "фуқаролиги бўлмаган",
    # az
    "vətəndaşlığı olmayan şəxs",
    "vətəndaşlığı olmayan",
    "vətəndaşlığım yoxdur",
    "vətəndaşlığı yoxdur",
    "vətəndaşlıq yoxdur",
    "apatrid",
    # ky, kk
    "жарандыгы жок",
    "жарандыгы жок адам",
    "азаматтығы жоқ",
    "азаматтығы жоқ адам",
)

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

#: Longer input is not a country answer; cutting it bounds the work a call can do.
_MAX_INPUT = 200
#: A sentence longer than this many words is not searched for a country.
_MAX_SENTENCE_WORDS = 16
#: Longest official name in words, for the sentence search ("Saint Kitts and Nevis" is 4).
_MAX_NGRAM = 5
#: In a sentence, shorter words are ignored ("того", "мали", "чад", "iran" are too risky).
_MIN_SENTENCE_KEY = 5
#: A case ending or an affix is removed only if this many letters are left, so that three-letter
#: aliases (ICAO codes such as "ARM", "TUR"; "США") are reached only when typed as they are:
#: "Turin" is not Türkiye, "the arm" is not Armenia.
_MIN_STEM = 4

_APOSTROPHES: Final = "'\u2018\u2019\u201b\u02b9\u02bb\u02bc\u02bd`\u00b4\u2032\u055a"
_IN_WORD_MARKS: Final = frozenset(("Mn", "Mc"))

#: ё → е, and drop apostrophes and the combining dot that case-folding İ leaves behind.
_FOLD: Final = str.maketrans({"ё": "е", "\u0307": None, **dict.fromkeys(_APOSTROPHES)})

#: Latin letters that look like Cyrillic ones, and back, for words that mix the two scripts.
_LATIN_TO_CYRILLIC: Final = str.maketrans("AaBCcEeHKkMOoPpTXxyYi", "АаВСсЕеНКкМОоРрТХхуУі")
_CYRILLIC_TO_LATIN: Final = str.maketrans("АаВСсЕеНКкМОоРрТХхуУіІјѕ", "AaBCcEeHKkMOoPpTXxyYiIjs")

#: After NFD and dropping combining marks: letters without a plain decomposition.
_LOOSE_LETTERS: Final = str.maketrans(
    {
        "ҷ": "ч",
        "қ": "к",
        "ғ": "г",
        "ҳ": "х",
        "ә": "а",
        "ө": "о",
        "ү": "у",
        "ұ": "у",
        "і": "и",
        "є": "е",
        "ґ": "г",
        "ң": "н",
        "һ": "х",
        "ъ": None,
        "ь": None,
        "ə": "e",
        "ı": "i",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
    }
)


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _is_latin(ch: str) -> bool:
    return (ch < "\u0250" and ch.isalpha()) or ch in "əƏ" or "\u1e00" <= ch <= "\u1eff"


def _fold_word(word: str) -> str:
    """The comparison key of one word: one script, case-folded, letters only."""
    cyrillic = sum(1 for ch in word if _is_cyrillic(ch))
    latin = sum(1 for ch in word if _is_latin(ch))
    if cyrillic and latin:
        word = word.translate(_LATIN_TO_CYRILLIC if cyrillic > latin else _CYRILLIC_TO_LATIN)
    folded = word.casefold().translate(_FOLD)
    return "".join(ch for ch in folded if ch.isalpha())


def _tokens(text: str) -> list[str]:
    """The comparison keys of the words of `text` (empty words dropped)."""
    text = unicodedata.normalize("NFC", text[:_MAX_INPUT])
    spaced = "".join(
        ch
        if ch.isalpha() or ch in _APOSTROPHES or unicodedata.category(ch) in _IN_WORD_MARKS
        else " "
        for ch in text
    )
    return [key for key in map(_fold_word, spaced.split()) if key]


def _key(text: str) -> str:
    """The comparison key of a whole name: its words' keys run together."""
    return "".join(_tokens(text))


def _loose(key: str) -> str:
    """A looser key: diacritics and letters a Russian or English keyboard lacks made plain."""
    decomposed = unicodedata.normalize("NFD", key)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.translate(_LOOSE_LETTERS)


# ---------------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------------

_PREFIXES: Final[tuple[str, ...]] = tuple(
    _key(affix) for affix in ("The Republic of", "Republic of", "The", "Республика", "Ҷумҳурии")
)
_SUFFIXES: Final[tuple[str, ...]] = tuple(
    _key(affix)
    for affix in ("Respublikasi", "Республикаси", "Respublikası", "Республикасы", "Republic")
)
_LOOSE_PREFIXES: Final[tuple[str, ...]] = tuple(dict.fromkeys(map(_loose, _PREFIXES)))
_LOOSE_SUFFIXES: Final[tuple[str, ...]] = tuple(dict.fromkeys(map(_loose, _SUFFIXES)))

#: Case and derivational endings (ending, replacement), tried longest first on a key that
#: matched nothing: the ablative "from", the genitive after «из», "a man of" (-lik, -lı).
_ENDINGS: Final[tuple[tuple[str, str], ...]] = tuple(
    sorted(
        {
            # ru: Таджикистана/-у/-ом/-е; Армении/-ю/-ей; Украины/-у/-е/-ой; Беларуси/-ью
            ("а", ""),
            ("у", ""),
            ("ом", ""),
            ("е", ""),
            ("ии", "ия"),
            ("ию", "ия"),
            ("ией", "ия"),
            ("еи", "ея"),
            ("ы", "а"),
            ("у", "а"),
            ("е", "а"),
            ("ой", "а"),
            ("и", "ь"),
            ("ью", "ь"),
            # tg: izofa -и, adjective -ӣ, object -ро
            ("и", ""),
            ("ӣ", ""),
            ("ро", ""),
            # uz: -dan, -da, -ga, -ning, -ni, -lik (Latin and Cyrillic)
            ("dan", ""),
            ("da", ""),
            ("ga", ""),
            ("ning", ""),
            ("ni", ""),
            ("lik", ""),
            ("дан", ""),
            ("да", ""),
            ("га", ""),
            ("нинг", ""),
            ("ни", ""),
            ("лик", ""),
            # az: -dan/-dən, -da/-də, -(y)a/-(y)ə, -(n)ın/-(n)in/-un/-ün, -lı/-li/-lu/-lü
            ("dən", ""),
            ("də", ""),
            ("a", ""),
            ("ə", ""),
            ("ya", ""),
            ("yə", ""),
            ("ın", ""),
            ("in", ""),
            ("un", ""),
            ("ün", ""),
            ("nın", ""),
            ("nin", ""),
            ("lı", ""),
            ("li", ""),
            ("lu", ""),
            ("lü", ""),
        },
        key=lambda pair: (-len(pair[0]), pair),
    )
)

#: "I am" endings, undone before a case ending: az Azərbaycandan-am, Gürcüstanlı-yam;
#: uz Oʻzbekistondan-man, Qozogʻistonlik-man; tg Тоҷикистон-ам; ky Кыргызстан-мын.
_PERSON_ENDINGS: Final[tuple[str, ...]] = tuple(
    sorted(
        {"am", "əm", "yam", "yəm", "man", "ман", "ам", "ям", "ем", "мын", "мин", "мун"},
        key=lambda ending: (-len(ending), ending),
    )
)

#: Misspellings: a key of at least this many letters may differ from a name by one edit
#: (a letter left out, added or changed: "Tajikstan", "Azarbaycan", "Таджикистн"); from
#: `_FUZZY_TWO` letters on, by two. A typo that could be two countries gives nothing.
_FUZZY_ONE = 6
_FUZZY_TWO = 10
#: In a sentence, only a word at least this long is read with a misspelling.
_FUZZY_IN_SENTENCE = 8


def _names() -> Iterator[tuple[str, str, bool]]:
    """(code, name, hand-written) for every alias source."""
    for code, names in CLDR_NAMES.items():
        for name in (*names.values(), *COUNTRY_NAMES[code].values()):
            yield code, name, False
    for code, extra in _EXTRA_ALIASES.items():
        for name in extra:
            yield code, name, True
    for phrase in _STATELESS_PHRASES:
        yield STATELESS, phrase, True


def _unambiguous(pairs: Iterable[tuple[str, str, bool]]) -> dict[str, str]:
    """Key -> code, dropping keys that name two codes; a hand-written alias beats CLDR."""
    chosen: dict[str, str] = {}
    by_hand: dict[str, str] = {}
    clashing: set[str] = set()
    for key, code, hand in pairs:
        if not key:
            continue
        if hand:
            by_hand[key] = code
        elif chosen.setdefault(key, code) != code:
            clashing.add(key)
    for key in clashing:
        del chosen[key]
    chosen.update(by_hand)
    return chosen


def _deletions(key: str) -> set[str]:
    """`key` with one letter left out, each way."""
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


#: A deletion index entry: the loose key a variant comes from, or a tuple of them when it
#: comes from several (rare). A bare string, not a set: ~15,000 entries, most of one key.
_Sources = str | tuple[str, ...]

#: (exact, loose, near): key -> code, loose key -> code, and for misspellings, a loose key
#: with at most one letter left out -> the loose keys it comes from (a deletion index: two
#: words one edit apart share an entry, so a typo is found by a few lookups, not a scan).
_Tables = tuple[dict[str, str], dict[str, str], dict[str, _Sources]]


def _build() -> _Tables:
    exact = _unambiguous((_key(name), code, hand) for code, name, hand in _names())
    loose = _unambiguous((_loose(key), code, False) for key, code in exact.items())
    near: dict[str, _Sources] = {}
    for key in loose:
        if len(key) >= _FUZZY_ONE - 1:
            for variant in {key, *_deletions(key)}:
                known = near.setdefault(variant, key)
                if known is not key:  # a variant each key yields once: another key's
                    near[variant] = (known, key) if isinstance(known, str) else (*known, key)
    return exact, loose, near


def _sources(near: dict[str, _Sources], variant: str) -> tuple[str, ...]:
    """The loose keys `variant` comes from in the deletion index (none if it is not there)."""
    found = near.get(variant, ())
    return (found,) if isinstance(found, str) else found


_TABLES: list[_Tables] = []


def _tables() -> _Tables:
    """The lookup tables; built on the first typed country, not at start-up."""
    if not _TABLES:
        _TABLES.append(_build())
    return _TABLES[0]


#: Regional indicator symbols: a flag emoji is two of them spelling the ISO code.
_FLAG_A: Final = 0x1F1E6
_FLAG_Z: Final = 0x1F1FF


def _affix_variants(key: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> list[str]:
    variants = [key]
    variants.extend(
        key[len(p) :] for p in prefixes if key.startswith(p) and len(key) - len(p) >= _MIN_STEM
    )
    variants.extend(
        key[: -len(s)] for s in suffixes if key.endswith(s) and len(key) - len(s) >= _MIN_STEM
    )
    return variants


def _find(key: str) -> str | None:
    """The code for a whole key, exactly or loosely, with official-name affixes ignored."""
    exact, loose, _ = _tables()
    for variant in _affix_variants(key, _PREFIXES, _SUFFIXES):
        code = exact.get(variant)
        if code is not None:
            return code
    for variant in _affix_variants(_loose(key), _LOOSE_PREFIXES, _LOOSE_SUFFIXES):
        code = loose.get(variant)
        if code is not None:
            return code
    return None


def _without_ending(key: str) -> Iterator[str]:
    for ending, replacement in _ENDINGS:
        if key.endswith(ending) and len(key) - len(ending) >= _MIN_STEM:
            yield key[: -len(ending)] + replacement


def _stems(key: str) -> list[str]:
    """`key`, then with a case ending undone, an "I am" ending, or both ("Azərbaycan-dan-am")."""
    stems = [key, *_without_ending(key)]
    for person in _PERSON_ENDINGS:
        if key.endswith(person) and len(key) - len(person) >= _MIN_STEM:
            bare = key[: -len(person)]
            stems += [bare, *_without_ending(bare)]
    return list(dict.fromkeys(stems))


def _find_inflected(key: str) -> str | None:
    """`_find` on the key and on its stems."""
    for stem in _stems(key):
        code = _find(stem)
        if code is not None:
            return code
    return None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: letters left out, added or changed."""
    previous = list(range(len(b) + 1))
    for i, letter in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
            )
        previous = current
    return previous[-1]


def _find_near(key: str) -> str | None:
    """The one country a misspelt key (or one of its stems) is closest to, within the limit."""
    _, loose, near = _tables()
    best: dict[str, int] = {}
    for stem in map(_loose, _stems(key)):
        if len(stem) < _FUZZY_ONE:
            continue
        limit = 2 if len(stem) >= _FUZZY_TWO else 1
        candidates = set(_sources(near, stem))
        for variant in _deletions(stem):
            candidates.update(_sources(near, variant))
        for candidate in candidates:
            distance = _distance(stem, candidate)
            code = loose[candidate]
            if distance <= limit and distance < best.get(code, limit + 1):
                best[code] = distance
    if not best:
        return None
    closest = min(best.values())
    codes = [code for code, distance in best.items() if distance == closest]
    return codes[0] if len(codes) == 1 else None


def _from_flag(text: str) -> str | None:
    if len(text) != 2 or not all(_FLAG_A <= ord(ch) <= _FLAG_Z for ch in text):
        return None
    code = "".join(chr(ord(ch) - _FLAG_A + ord("A")) for ch in text)
    return code if code in ISO_CODES else None


def _from_sentence(tokens: list[str]) -> str | None:
    """The one country (or statelessness) a short sentence names, else None."""
    count = len(tokens)
    if count < 2 or count > _MAX_SENTENCE_WORDS:
        return None
    used = [False] * count
    found: set[str] = set()
    for size in range(min(_MAX_NGRAM, count), 0, -1):
        for start in range(count - size + 1):
            if any(used[start : start + size]):
                continue
            key = "".join(tokens[start : start + size])
            if len(key) < _MIN_SENTENCE_KEY:
                continue
            code = _find_inflected(key)
            if code is not None:
                found.add(code)
                used[start : start + size] = [True] * size
    if not found:
        # Nothing spelt right: a long word may be a misspelt country ("из Таджикистона").
        found = {
            code
            for token in tokens
            if len(token) >= _FUZZY_IN_SENTENCE
            for code in [_find_near(token)]
            if code is not None
        }
    if "RU" in found:
        # "живу в России": Russia is where users are, not their citizenship. "Нет гражданства
        # России" is not statelessness either.
        if STATELESS in found:
            return None
        found.discard("RU")
    return found.pop() if len(found) == 1 else None


def match_country(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code (upper case) or `STATELESS` that `text` names, else None."""
    stripped = text.strip().strip(".")
    if len(stripped) == 2 and stripped.isascii():
        iso = stripped.upper()
        return iso if iso in ISO_CODES else None
    flag = _from_flag(stripped)
    if flag is not None:
        return flag
    tokens = _tokens(text)
    if not tokens:
        return None
    code = _find_inflected("".join(tokens))
    if code is not None:
        return code
    if len(tokens) == 1:
        return _find_near(tokens[0])
    return _from_sentence(tokens)
