"""The `decree-bot` command: the composition root that reads settings and wires the parts."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from bot.adapters.console import run_console
from bot.check import FactsError, check
from bot.compose import build_parts, key_secret
from bot.config import Settings
from bot.conversation import Mode, Preset, make_payload
from bot.logs import configure_logging

__all__ = ["main"]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"not a date in YYYY-MM-DD form: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit status 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="decree-bot",
        description="Explains Russia's Decree No. 821 of 5 November 2025. With no command:"
        " polling if DECREEBOT_TOKEN is set, else the console chat.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
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
    console = commands.add_parser("console", help="chat in this terminal (no Telegram needed)")
    console.add_argument("--lang", choices=["ru", "tg", "uz", "uz-Cyrl", "az", "en"])
    console.add_argument("--mode", choices=["self", "relative", "ngo"])
    commands.add_parser("polling", help="run the Telegram bot with long polling")
    commands.add_parser("webhook", help="run the Telegram bot behind a webhook (and /healthz)")
    notify_cmd = commands.add_parser(
        "notify",
        help="tell subscribers whose answer changed with the current rules (after a deploy)",
    )
    notify_cmd.add_argument(
        "--dry-run", action="store_true", help="only count them, by old and new answer"
    )
    notify_cmd.add_argument(
        "--on", type=_iso_date, default=None, help="the date to decide on (default: today)"
    )
    link = commands.add_parser("link", help="print a deep link that preselects language and mode")
    link.add_argument("--lang", choices=["ru", "tg", "uz", "uz-Cyrl", "az", "en"])
    link.add_argument("--mode", choices=["self", "relative", "ngo"])
    link.add_argument("--org", help="an organisation's code: 1 to 32 letters and digits")
    link.add_argument("--bot", help="the bot's username (default: DECREEBOT_BOT_USERNAME)")
    return parser


def _lang(value: str | None) -> str | None:
    return value.replace("-", "_") if value else None


def _run_console(args: argparse.Namespace) -> int:
    parts = build_parts(Settings(), warn_memory=False)  # the console is meant to be in memory
    return asyncio.run(
        run_console(
            service=parts.service,
            renderer=parts.renderer,
            stdin=sys.stdin,
            stdout=sys.stdout,
            today=date.today,
            lang=_lang(args.lang),
            mode=args.mode,
        )
    )


def _run_telegram(mode: str, settings: Settings) -> int:
    from bot.adapters.telegram.run import serve_polling, serve_webhook  # noqa: PLC0415 - telegram loads only when used

    parts = build_parts(settings)
    secret = key_secret(settings)
    serve = serve_polling if mode == "polling" else serve_webhook

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(parts, key_secret=secret, stop=stop)

    asyncio.run(main())
    return 0


def _run_link(args: argparse.Namespace) -> int:
    username = args.bot or Settings().bot_username
    if not username:
        print("decree-bot link: give --bot NAME or set DECREEBOT_BOT_USERNAME", file=sys.stderr)
        return 2
    try:
        payload = make_payload(
            Preset(lang=_lang(args.lang), mode=Mode(args.mode) if args.mode else None, org=args.org)
        )
    except ValueError as exc:
        print(f"decree-bot link: {exc}", file=sys.stderr)
        return 2
    print(f"https://t.me/{username.lstrip('@')}" + (f"?start={payload}" if payload else ""))
    return 0


def _run_notify(args: argparse.Namespace) -> int:
    from bot.adapters.telegram.notices import run_notices  # noqa: PLC0415 - telegram loads only when used

    settings = Settings()
    if not settings.redis_url:
        print(
            "decree-bot notify: subscriptions live in Redis: set DECREEBOT_REDIS_URL",
            file=sys.stderr,
        )
        return 1
    if not args.dry_run and settings.token is None:
        print("decree-bot notify: set DECREEBOT_TOKEN (or use --dry-run)", file=sys.stderr)
        return 1
    parts = build_parts(settings)
    report = asyncio.run(
        run_notices(
            parts,
            key_secret=key_secret(settings),
            today=args.on or date.today(),
            dry_run=args.dry_run,
        )
    )
    print(report.table())
    return 0


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
    configure_logging(Settings().log_level)
    if args.command == "check":
        return _run_check(args)
    if args.command == "link":
        return _run_link(args)
    if args.command == "notify":
        return _run_notify(args)
    settings = Settings()
    if args.command in {"polling", "webhook"}:
        return _run_telegram(args.command, settings)
    if args.command is None and settings.token is not None:
        return _run_telegram("polling", settings)
    if args.command == "console" or args.command is None:
        return _run_console(args if args.command else argparse.Namespace(lang=None, mode=None))
    _parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
