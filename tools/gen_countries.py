"""Generate bot/conversation/_country_data.py from Babel's CLDR territory names.

The generated module holds, for every ISO 3166-1 alpha-2 country, its CLDR display name in
each locale of `LOCALES`. `bot.conversation.countries` builds its alias index and its button
labels from that table, so the bot needs no Babel call at run time.

Usage (from the repository root)::

    .venv/bin/python tools/gen_countries.py           # rewrite the generated module
    .venv/bin/python tools/gen_countries.py --check   # exit 1 if it is out of date

`tests/conversation/test_countries.py` calls `render()` and compares it with the file, so a
Babel upgrade that changes CLDR data fails the suite until the module is regenerated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel import Locale
from babel.core import get_cldr_version

#: Locales whose names feed the alias index: the bot's five languages, English, and Kyrgyz and
#: Kazakh, whose speakers use the bot in Russian but may type their own country's name.
LOCALES: tuple[str, ...] = ("ru", "tg", "uz", "uz_Cyrl", "az", "en", "ky", "kk")

#: Two-letter CLDR territory codes that are not ISO 3166-1 countries: exceptionally reserved
#: codes (AC, CP, DG, EA, IC, TA), Sark (CQ, reserved), groupings (EU, EZ, QO, UN),
#: pseudo-locales (XA, XB), Kosovo's user-assigned XK, and ZZ (unknown region).
NOT_ISO: frozenset[str] = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)

#: ISO 3166-1 has 249 officially assigned alpha-2 codes.
ISO_COUNT = 249

TARGET = Path(__file__).resolve().parent.parent / "bot" / "conversation" / "_country_data.py"

_HEADER = '''\
# GENERATED FILE: do not edit. Regenerate with `.venv/bin/python tools/gen_countries.py`.
# Source: Unicode CLDR {cldr} territory names, as shipped with Babel.
"""CLDR display names of every ISO 3166-1 alpha-2 country, per locale (generated)."""

from typing import Final

CLDR_VERSION: Final = "{cldr}"

#: The locales of `CLDR_NAMES`, in the order each entry lists them.
LOCALES: Final = ({locales})

#: ISO 3166-1 alpha-2 code -> locale -> CLDR display name.
CLDR_NAMES: Final[dict[str, dict[str, str]]] = {{
'''


def _literal(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are valid Python)."""
    return json.dumps(text, ensure_ascii=False)


def iso_codes() -> list[str]:
    """All ISO 3166-1 alpha-2 codes that CLDR names, sorted."""
    territories = Locale.parse("en").territories
    codes = sorted(
        code
        for code in territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isascii()
        and code.isalpha()
        and code not in NOT_ISO
    )
    if len(codes) != ISO_COUNT:
        msg = f"expected {ISO_COUNT} ISO 3166-1 codes from CLDR, got {len(codes)}"
        raise RuntimeError(msg)
    return codes


def collect() -> dict[str, dict[str, str]]:
    """Code -> locale -> CLDR name, for every ISO code and every locale in `LOCALES`."""
    names = {locale: Locale.parse(locale).territories for locale in LOCALES}
    table: dict[str, dict[str, str]] = {}
    for code in iso_codes():
        entry = {locale: names[locale][code] for locale in LOCALES if code in names[locale]}
        if "en" not in entry or "ru" not in entry:
            msg = f"CLDR lacks an English or Russian name for {code}"
            raise RuntimeError(msg)
        table[code] = entry
    return table


def render() -> str:
    """The full text of the generated module."""
    locales = ", ".join(_literal(locale) for locale in LOCALES)
    lines = [_HEADER.format(cldr=get_cldr_version(), locales=locales)]
    for code, entry in collect().items():
        lines.append(f"    {_literal(code)}: {{\n")
        lines.extend(f"        {_literal(loc)}: {_literal(name)},\n" for loc, name in entry.items())
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the generated module, or with --check report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write(f"{TARGET} is out of date: run tools/gen_countries.py\n")
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {TARGET}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
