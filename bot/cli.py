"""The `decree-bot` command: the composition root that reads settings and wires the parts."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from bot.adapters.console import run_console
from bot.check import FactsError, check
from bot.compose import build_parts, key_secret
from bot.config import Settings, StartupError, describe_invalid
from bot.conversation import LANGUAGES, Mode, Preset, make_payload
from bot.logs import configure_logging

__all__ = ["main"]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"not a date in YYYY-MM-DD form: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _iso_week(text: str) -> str:
    try:
        date.fromisocalendar(int(text[:4]), int(text[6:]), 1)
    except ValueError:
        msg = f"not an ISO week in YYYY-Www form: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if len(text) != 8 or text[4:6] != "-W":
        msg = f"not an ISO week in YYYY-Www form: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return text


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit status 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


#: Languages as typed on the command line ("uz-Cyrl", or "uz_Cyrl" as in a link), and modes.
_LANG_CHOICES = [
    *(code.replace("_", "-") for code in LANGUAGES),
    *(code for code in LANGUAGES if "_" in code),
]
_MODE_CHOICES = [mode.value for mode in Mode]


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="decree-bot",
        description="Explains Russia's Decree No. 821 of 5 November 2025. With no command:"
        " polling if DECREEBOT_TOKEN is set, else the console chat.",
    )
    parser.set_defaults(run=_run_default, lang=None, mode=None)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    check_cmd = commands.add_parser(
        "check",
        help="decide one case: facts as JSON on stdin, the finding as JSON on stdout",
        description="Reads one JSON object of facts (sex, age or age_band, legal_capacity,"
        " citizenship, application, grounds, documents) and prints the finding. With"
        ' "unknown": [fields not known], it also prints the branches for each possible answer.',
    )
    check_cmd.add_argument("--facts", type=Path, help="read the facts from this file, not stdin")
    check_cmd.add_argument(
        "--on", type=_iso_date, default=None, help="the date to decide on (default: today)"
    )
    check_cmd.set_defaults(run=_run_check)
    console = commands.add_parser("console", help="chat in this terminal (no Telegram needed)")
    console.add_argument("--lang", choices=_LANG_CHOICES)
    console.add_argument("--mode", choices=_MODE_CHOICES)
    console.set_defaults(run=_run_console)
    polling = commands.add_parser("polling", help="run the Telegram bot with long polling")
    polling.set_defaults(run=_run_polling)
    webhook = commands.add_parser(
        "webhook", help="run the Telegram bot behind a webhook (and /healthz)"
    )
    webhook.set_defaults(run=_run_webhook)
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
    notify_cmd.set_defaults(run=_run_notify)
    link = commands.add_parser("link", help="print a deep link that preselects language and mode")
    link.add_argument("--lang", choices=_LANG_CHOICES)
    link.add_argument("--mode", choices=_MODE_CHOICES)
    link.add_argument("--org", help="an organisation's code: 1 to 32 letters and digits")
    link.add_argument("--bot", help="the bot's username (default: DECREEBOT_BOT_USERNAME)")
    link.add_argument("--qr", metavar="FILE", help="also write the link as a QR code (.svg, .png)")
    link.set_defaults(run=_run_link)
    leaflet = commands.add_parser("leaflet", help="a printable A4 leaflet with the link as a QR")
    leaflet.add_argument("--lang", required=True, choices=_LANG_CHOICES)
    leaflet.add_argument("--mode", choices=_MODE_CHOICES)
    leaflet.add_argument("--org", help="the organisation's code (its name comes from the file)")
    leaflet.add_argument("--bot", help="the bot's username (default: DECREEBOT_BOT_USERNAME)")
    leaflet.add_argument("-o", "--output", required=True, type=Path, help="the PDF to write")
    leaflet.set_defaults(run=_run_leaflet)
    stats = commands.add_parser("stats", help="counts per organisation and week (no people)")
    stats.add_argument("--org", help="one organisation's code (or none, unknown)")
    stats.add_argument("--since", type=_iso_week, help="from this ISO week on, YYYY-Www")
    stats.add_argument("--json", action="store_true", help="JSON instead of a table")
    stats.set_defaults(run=_run_stats)
    commands.add_parser(
        "secret",
        help="print new random secrets, as lines for .env",
        description="Prints a new DECREEBOT_KEY_SECRET, DECREEBOT_WEBHOOK_SECRET and the"
        " REDIS_PASSWORD compose.yaml gives Redis; each is 64 characters of A-Z, a-z, 0-9, _"
        " and - (48 random bytes).",
    )
    return parser


def _lang(value: str | None) -> str | None:
    return value.replace("-", "_") if value else None


def _run_default(args: argparse.Namespace, settings: Settings) -> int:
    """No command: polling when a token is set, else the console chat."""
    if settings.token is not None:
        return _run_polling(args, settings)
    return _run_console(args, settings)


def _run_console(args: argparse.Namespace, settings: Settings) -> int:
    parts = build_parts(settings, warn_memory=False)  # the console is meant to be in memory

    async def chat() -> int:
        try:
            return await run_console(
                service=parts.service,
                renderer=parts.renderer,
                stdin=sys.stdin,
                stdout=sys.stdout,
                today=date.today,
                lang=_lang(args.lang),
                mode=args.mode,
            )
        finally:
            if parts.counting is not None:
                await parts.counting.close()  # the counts added up, written

    return asyncio.run(chat())


def _run_polling(args: argparse.Namespace, settings: Settings) -> int:
    del args
    return _run_telegram("polling", settings)


def _run_webhook(args: argparse.Namespace, settings: Settings) -> int:
    del args
    return _run_telegram("webhook", settings)


def _run_secret() -> int:
    for name in ("DECREEBOT_KEY_SECRET", "DECREEBOT_WEBHOOK_SECRET", "REDIS_PASSWORD"):
        print(f"{name}={secrets.token_urlsafe(48)}")
    return 0


def _fail(message: str) -> int:
    """A start that cannot work: one line on stderr, exit status 1."""
    print(f"decree-bot: {message}", file=sys.stderr)
    return 1


def _run_telegram(mode: str, settings: Settings) -> int:
    from bot.adapters.telegram.run import serve_polling, serve_webhook  # noqa: PLC0415 - telegram loads only when used

    secret = key_secret(settings)
    try:
        parts = build_parts(settings)
    except (ValueError, OSError) as exc:  # an unusable Redis URL or legal help file
        return _fail(str(exc))
    serve = serve_polling if mode == "polling" else serve_webhook

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(parts, key_secret=secret, stop=stop)

    try:
        asyncio.run(main())
    except StartupError as exc:
        return _fail(str(exc))
    return 0


def _link(args: argparse.Namespace, settings: Settings, command: str) -> tuple[str, str] | None:
    """The bot's username and the deep link the arguments ask for (None: said why)."""
    username = args.bot or settings.bot_username
    if not username:
        print(
            f"decree-bot {command}: give --bot NAME or set DECREEBOT_BOT_USERNAME", file=sys.stderr
        )
        return None
    try:
        payload = make_payload(
            Preset(lang=_lang(args.lang), mode=Mode(args.mode) if args.mode else None, org=args.org)
        )
    except ValueError as exc:
        print(f"decree-bot {command}: {exc}", file=sys.stderr)
        return None
    username = username.lstrip("@")
    return username, f"https://t.me/{username}" + (f"?start={payload}" if payload else "")


def _run_link(args: argparse.Namespace, settings: Settings) -> int:
    made = _link(args, settings, "link")
    if made is None:
        return 2
    if args.qr is None:
        print(made[1])
        return 0
    from bot.leaflet import write_qr  # noqa: PLC0415 - segno loads only when used

    if args.qr != "/dev/stdout":
        print(made[1])
    write_qr(made[1], args.qr)
    return 0


def _run_leaflet(args: argparse.Namespace, settings: Settings) -> int:
    from bot.leaflet import leaflet_pdf  # noqa: PLC0415 - fpdf2 loads only when used

    made = _link(args, settings, "leaflet")
    if made is None:
        return 2
    parts = build_parts(settings, warn_memory=False)
    organisation = parts.organisations.get(args.org) if args.org else None
    if args.org and organisation is None:
        print(
            f"decree-bot leaflet: {args.org!r} is not in DECREEBOT_LEGAL_HELP_FILE;"
            " the leaflet names no organisation",
            file=sys.stderr,
        )
    pdf = leaflet_pdf(
        renderer=parts.renderer,
        lang=_lang(args.lang) or "ru",
        link=made[1],
        bot=made[0],
        organisation=organisation.name if organisation else None,
        day=date.today(),
    )
    args.output.write_bytes(pdf)
    return 0


def _run_stats(args: argparse.Namespace, settings: Settings) -> int:
    import json  # noqa: PLC0415

    from bot.compose import redis_client  # noqa: PLC0415
    from bot.stats import RedisCounts, as_json, format_table  # noqa: PLC0415

    if not settings.redis_url:
        print(
            "decree-bot stats: counts are kept in Redis; set DECREEBOT_REDIS_URL", file=sys.stderr
        )
        return 2

    async def read() -> dict[tuple[str, str], dict[str, int]]:
        counts = RedisCounts(redis_client(settings))
        try:
            return await counts.read(org=args.org, since=args.since)
        finally:
            await counts.close()

    rows = asyncio.run(read())
    print(json.dumps(as_json(rows), indent=1) if args.json else format_table(rows))
    return 0


def _run_notify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.telegram.notices import run_notices  # noqa: PLC0415 - telegram loads only when used

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


def _run_check(args: argparse.Namespace, settings: Settings) -> int:
    del settings
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
    """Entry point of the `decree-bot` console script: parse, configure logging, run."""
    args = _parser().parse_args(argv)
    if args.command == "secret":
        return _run_secret()  # before the settings: it is how one makes good ones
    try:
        settings = Settings()
    except ValidationError as exc:
        return _fail(describe_invalid(exc))
    configure_logging(settings.log_level)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
