"""Merge two branches' edits of one gettext catalog message by message (a three-way merge).

Two people who translate in parallel touch different messages of the same .po file, but git
merges lines, and a catalog rewritten by `make update` conflicts almost everywhere. This merges
by message instead: a translation changed on one side only is taken from that side; one changed
on both sides to different texts is a conflict, reported, and resolved for THEIRS (or OURS with
--prefer ours). Messages only one side has are kept; run `make update` afterwards, which drops
what the code no longer has and adds what it now has.

    python tools/merge_po.py BASE OURS THEIRS [-o OUT] [--prefer ours|theirs]

As a git merge driver (after `git config merge.catalog.driver "python tools/merge_po.py %O %A %B
-o %A"` and a `locales/**/*.po merge=catalog` line in .git/info/attributes), `git merge` uses it
for the catalogs. It exits 1 when there were conflicts, so git stops for a look.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _string(message: Message | None) -> object:
    return None if message is None else message.string


def merge(base: Catalog, ours: Catalog, theirs: Catalog, *, prefer: str = "theirs") -> list[str]:
    """Merge OURS into THEIRS in place; returns the msgids changed differently on both sides."""
    conflicts = []
    for message in ours:
        if not message.id:
            continue
        before, mine = _string(base.get(message.id)), message.string
        other = theirs.get(message.id)
        if other is None:
            if base.get(message.id) is None:  # new on our side only
                theirs[message.id] = message
            continue  # gone on their side: `make update` decides
        if mine in (before, other.string):
            continue
        if other.string == before:
            other.string = mine
            continue
        conflicts.append(message.id if isinstance(message.id, str) else message.id[0])
        if prefer == "ours":
            other.string = mine
    return conflicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("ours", type=Path)
    parser.add_argument("theirs", type=Path)
    parser.add_argument("-o", "--out", type=Path, help="where to write (default: stdout)")
    parser.add_argument("--prefer", choices=("ours", "theirs"), default="theirs")
    args = parser.parse_args(argv)
    base, ours, theirs = _read(args.base), _read(args.ours), _read(args.theirs)
    conflicts = merge(base, ours, theirs, prefer=args.prefer)
    if args.out is None:
        write_po(sys.stdout.buffer, theirs, width=76)
    else:
        with args.out.open("wb") as handle:
            write_po(handle, theirs, width=76)
    for msgid in conflicts:
        print(f"both changed ({args.prefer} kept): {msgid[:70]!r}", file=sys.stderr)  # noqa: T201
    return 1 if conflicts else 0


if __name__ == "__main__":
    sys.exit(main())
