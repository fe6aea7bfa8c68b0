"""Draft the Uzbek Cyrillic catalog from the Uzbek Latin one (`make uz-cyrl`).

Uzbek is one language in two scripts, so `locales/uz_Cyrl` is the transliteration of
`locales/uz`, not a second translation. This script writes every `uz_Cyrl` msgstr from its
`uz` msgstr by the official correspondence of the two alphabets (the 1995 Latin alphabet
against the Cyrillic one): oʻ→ў, gʻ→ғ, q→қ, h→ҳ, x→х, sh→ш, ch→ч, j→ж, y→й, yo/yu/ya/ye→ё/ю/я/е,
ʼ→ъ, e→э at the start of a word and after a vowel, ts→ц in the Russian loanwords in
-tsiya and -tsion, and dates written «2025 йил 5 ноябрь» without the Latin hyphens.

What the letters cannot tell is in `locales/uz_Cyrl/transliteration.toml`, reviewed by hand,
each entry with its reason:
- `[words]`: loanwords whose Cyrillic spelling keeps a Russian letter the Latin lost
  (ноябрь, Коммерсантъ);
- `[messages]`: whole messages whose Cyrillic text is not the transliteration (each says why).

Text that is not Uzbek Latin is left as it is: Russian terms (already Cyrillic), `{fields}`,
/commands and web addresses. Run it after editing the Latin catalog; `tests/i18n/test_uz_cyrl.py`
fails when the two catalogs drift apart.

    python tools/uz_cyrl.py           # rewrite locales/uz_Cyrl/LC_MESSAGES/messages.po
    python tools/uz_cyrl.py --check   # exit 1 and list the messages that differ
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LATIN_PO = ROOT / "locales" / "uz" / "LC_MESSAGES" / "messages.po"
CYRILLIC_PO = ROOT / "locales" / "uz_Cyrl" / "LC_MESSAGES" / "messages.po"
EXCEPTIONS = ROOT / "locales" / "uz_Cyrl" / "transliteration.toml"

#: The turned comma of oʻ and gʻ (U+02BB) and the tutuq belgisi (U+02BC), as the glossary asks.
TURNED = "\u02bb"
TUTUQ = "\u02bc"

_SINGLE = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "f": "ф", "g": "г", "h": "ҳ", "i": "и", "j": "ж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р", "s": "с",
    "t": "т", "u": "у", "v": "в", "w": "в", "x": "х", "y": "й", "z": "з", TUTUQ: "ъ",
}  # fmt: skip
_DIGRAPHS = {"o" + TURNED: "ў", "g" + TURNED: "ғ", "sh": "ш", "ch": "ч"}
_IOTATED = {"yo": "ё", "yu": "ю", "ya": "я", "ye": "е"}
_VOWELS = frozenset("aeiouAEIOU")

_MONTHS = "yanvar|fevral|mart|aprel|may|iyun|iyul|avgust|sentabr|oktabr|noyabr|dekabr"
#: «2025-yil 5-noyabr» is written «2025 йил 5 ноябрь» in Cyrillic.
_DATE_HYPHEN = re.compile(rf"(\d)-(yil|{_MONTHS})", re.IGNORECASE)
#: Left as they are: {fields}, /commands, web addresses, and anything not in Latin letters.
_PROTECTED = re.compile(r"\{[^{}]*\}|/[a-z_]+|\b[\w-]+(?:\.[\w-]+)*\.(?:ru|com|org|net)\b")
_WORD = re.compile(rf"[A-Za-z{TURNED}{TUTUQ}]+")


def load_exceptions(path: Path = EXCEPTIONS) -> tuple[dict[str, str], dict[str, str]]:
    """(words, messages): Latin word -> Cyrillic word; msgid -> Cyrillic message."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    words = {entry["latin"]: entry["cyrillic"] for entry in data.get("words", [])}
    messages = {entry["msgid"]: entry["cyrillic"] for entry in data.get("messages", [])}
    return words, messages


def _with_case(source: str, target: str) -> str:
    if source.isupper() and len(source) > 1:
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def _word(word: str, words: dict[str, str]) -> str:
    """One Latin word in Cyrillic."""
    known = words.get(word.lower())
    if known is not None:
        return _with_case(word, known)
    lower = word.lower()
    out: list[str] = []
    i = 0
    while i < len(lower):
        pair = lower[i : i + 2]
        upper = word[i].isupper()
        if pair in _DIGRAPHS:
            letter, step = _DIGRAPHS[pair], 2
        elif pair in _IOTATED and lower[i + 2 : i + 3] != TURNED:
            letter, step = _IOTATED[pair], 2
        elif pair == "ts" and lower[i + 2 : i + 4] in ("iy", "io"):
            letter, step = "ц", 2  # -tsiya, -tsion: Russian loanwords (not layoqat-siz)
        elif lower[i] == "e":
            after_vowel = i > 0 and (lower[i - 1] in _VOWELS or lower[i - 1] == TURNED)
            letter, step = ("э" if i == 0 or after_vowel else "е"), 1
        else:
            letter, step = _SINGLE.get(lower[i], lower[i]), 1
        if upper:
            letter = letter.upper()
        out.append(letter)
        i += step
    return "".join(out)


def to_cyrillic(text: str, words: dict[str, str] | None = None) -> str:
    """Uzbek Latin text in Uzbek Cyrillic; Russian, fields, commands and addresses unchanged."""
    words = words if words is not None else load_exceptions()[0]
    text = _DATE_HYPHEN.sub(r"\1 \2", text)
    out: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(text):
        out.append(_WORD.sub(lambda m: _word(m.group(), words), text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(_WORD.sub(lambda m: _word(m.group(), words), text[last:]))
    return "".join(out)


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def drafted(
    latin: str | tuple[str, ...], msgid: str, words: dict[str, str], messages: dict[str, str]
) -> str | tuple[str, ...]:
    """The Cyrillic msgstr for one message: its listed exception or its transliteration."""
    if msgid in messages:
        exception = messages[msgid]
        return exception if isinstance(latin, str) else tuple(exception for _ in latin)
    if isinstance(latin, str):
        return to_cyrillic(latin, words)
    return tuple(to_cyrillic(form, words) for form in latin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list differences, write nothing")
    args = parser.parse_args(argv)
    words, messages = load_exceptions()
    with LATIN_PO.open("rb") as handle:
        latin = read_po(handle, locale="uz")
    with CYRILLIC_PO.open("rb") as handle:
        cyrillic = read_po(handle, locale="uz_Cyrl")
    differ = []
    for message in cyrillic:
        if not message.id:
            continue
        source = latin.get(message.id)
        if source is None or not source.string:
            continue
        wanted = drafted(source.string, _key(message.id), words, messages)
        if message.string != wanted:
            differ.append(_key(message.id))
            message.string = wanted
    if args.check:
        for msgid in differ:
            print(f"differs: {msgid[:70]!r}")  # noqa: T201 - a command-line report
        return 1 if differ else 0
    with CYRILLIC_PO.open("wb") as handle:
        write_po(handle, cyrillic, width=76)
    print(f"{len(differ)} messages redrafted in {CYRILLIC_PO.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
