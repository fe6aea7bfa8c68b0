"""The `decree-bot` command: the composition root that reads settings and wires the parts."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.check import FactsError, check

__all__ = ["main"]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"not a date in YYYY-MM-DD form: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="decree-bot",
        description="Explains Russia's Decree No. 821 of 5 November 2025. With no command:"
        " polling if DECREEBOT_TOKEN is set, else the console chat.",
    )
    commands = parser.add_subparsers(dest="command")
    check_cmd = commands.add_parser(
        "check",
        help="decide one case: facts as JSON on stdin, the finding as JSON on stdout",
        description="Reads one JSON object of facts (sex, age or age_band, legal_capacity,"
        " citizenship, application, grounds, documents) and prints the finding.",
    )
    check_cmd.add_argument("--facts", type=Path, help="read the facts from this file, not stdin")
    check_cmd.add_argument(
        "--on", type=_iso_date, default=None, help="the date to decide on (default: today)"
    )
    return parser


def _run_check(args: argparse.Namespace) -> int:
    try:
        text = args.facts.read_text(encoding="utf-8") if args.facts else sys.stdin.read()
    except OSError as exc:
        print(f"decree-bot check: cannot read facts: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        print(check(text, on=args.on or date.today()))
    except FactsError as exc:
        print(f"decree-bot check: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `decree-bot` console script."""
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _run_check(args)
    _parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
