"""The red-team review's findings (SECURITY.md): secrets that cannot be weak, start-up failures
in one line, forged inputs refused where they are parsed, logs without messages, and the
webhook's drain on stop."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from telegram import Bot
from telegram.ext import Application

from bot.adapters.telegram.app import _Application, log_error
from bot.adapters.telegram.connections import Tally
from bot.adapters.telegram.endpoints import parse_update
from bot.adapters.telegram.run import serve_webhook
from bot.compose import build_parts
from bot.config import Settings
from bot.conversation import Answer, Start, State, transition
from bot.conversation.codec import decode_button
from bot.logs import PrivateFormatter, configure_logging
from fakebotapi import FakeBotApi, free_port
from tests.adapters.telegram_harness import KEY_SECRET, WEBHOOK_SECRET
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "k" * 32
GOOD_HOOK = "w" * 32


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DECREEBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean | {"PYTHONPATH": str(ROOT), "NO_PROXY": "*"} | env,
        cwd=cwd,  # no .env there
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DECREEBOT_KEY_SECRET", "a"),
        ("DECREEBOT_KEY_SECRET", " " * 40),
        ("DECREEBOT_KEY_SECRET", "k" * 31),
        ("DECREEBOT_WEBHOOK_SECRET", "a"),
        ("DECREEBOT_WEBHOOK_SECRET", "w" * 31),
        ("DECREEBOT_WEBHOOK_SECRET", "w" * 31 + " "),
        ("DECREEBOT_WEBHOOK_SECRET", "w" * 257),
        ("DECREEBOT_WEBHOOK_URL", "https://bot.example.org/tg/hook?k=v"),
        ("DECREEBOT_WEBHOOK_URL", "https://bot.example.org/tg/hook#x"),
    ],
)
def test_a_weak_secret_or_bad_url_stops_the_start_in_one_line(
    setting: str, value: str, tmp_path: Path
) -> None:
    """SECURITY.md (L1, L4, I4): `decree-bot webhook` exits 1 with one line naming the setting."""
    env = {
        "DECREEBOT_TOKEN": "1:x",
        "DECREEBOT_KEY_SECRET": GOOD_KEY,
        "DECREEBOT_WEBHOOK_SECRET": GOOD_HOOK,
        "DECREEBOT_WEBHOOK_URL": "https://bot.example.org/tg/hook",
        setting: value,
    }
    result = _run(["webhook"], env, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]
    assert "Traceback" not in result.stderr
    if len(value.strip()) > 3:
        assert value not in result.stderr  # the value itself is never printed


def test_the_secret_command_prints_good_values(tmp_path: Path) -> None:
    """`decree-bot secret` prints three new values that the settings accept."""
    first = _run(["secret"], {"DECREEBOT_KEY_SECRET": "a"}, tmp_path)  # works with a bad .env
    second = _run(["secret"], {}, tmp_path)
    assert first.returncode == 0
    values = dict(line.split("=", 1) for line in first.stdout.splitlines())
    assert set(values) == {"DECREEBOT_KEY_SECRET", "DECREEBOT_WEBHOOK_SECRET", "REDIS_PASSWORD"}
    for value in values.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]{64}", value)
    assert first.stdout != second.stdout
    Settings(
        key_secret=SecretStr(values["DECREEBOT_KEY_SECRET"]),
        webhook_secret=SecretStr(values["DECREEBOT_WEBHOOK_SECRET"]),
        _env_file=None,  # type: ignore[call-arg]
    )


def test_settings_refuse_weak_secrets_and_hide_the_redis_password() -> None:
    """L1, L7: the settings object itself refuses weak secrets; its repr has no password."""
    with pytest.raises(ValidationError):
        Settings(key_secret=SecretStr("a"), _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(webhook_secret=SecretStr("é" * 40), _env_file=None)  # type: ignore[call-arg]
    settings = Settings(redis_url="redis://:S3cretRedisPw@redis:6379/0", _env_file=None)  # type: ignore[arg-type, call-arg]
    assert "S3cretRedisPw" not in repr(settings)
    assert "S3cretRedisPw" not in str(settings)
    assert "S3cretRedisPw" not in settings.model_dump_json()


def test_the_webhook_path_is_taken_literally() -> None:
    """L4: the path as written; '.' and '(' are characters, not a pattern."""
    settings = Settings(webhook_url="https://x.org/tg/(hook.x", _env_file=None)  # type: ignore[call-arg]
    assert settings.webhook_path() == "/tg/(hook.x"
    assert Settings(webhook_url="https://x.org", _env_file=None).webhook_path() == "/"  # type: ignore[call-arg]


# --- start-up failures ------------------------------------------------------------------------


def test_an_unreachable_bot_api_stops_the_start_in_one_line(tmp_path: Path) -> None:
    """Issue 19: the Bot API not answering at start is one line and exit status 1."""
    port = free_port()  # nothing listens there
    env = {"DECREEBOT_TOKEN": "1:x", "DECREEBOT_API_BASE_URL": f"http://127.0.0.1:{port}/bot"}
    result = _run(["polling"], env, tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "WARNING" not in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("decree-bot: the Bot API at 127.0.0.1 cannot be reached")
    assert "Traceback" not in result.stderr
    assert "1:x" not in result.stderr


def test_an_unreachable_redis_stops_the_start_in_one_line(tmp_path: Path) -> None:
    """Issue 19: Redis not answering at start is one line and exit status 1, no password."""
    port = free_port()
    env = {
        "DECREEBOT_TOKEN": "1:x",
        "DECREEBOT_REDIS_URL": f"redis://:PwS3cret@127.0.0.1:{port}/0",
        "DECREEBOT_KEY_SECRET": GOOD_KEY,
    }
    result = _run(["polling"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "decree-bot: Redis at DECREEBOT_REDIS_URL does not answer"
    ]


# --- forged inputs ----------------------------------------------------------------------------


@given(st.text(alphabet=st.characters(codec=None), max_size=70))
@settings(max_examples=300)
def test_decode_button_never_raises(data: str) -> None:
    """L2: any button data at all decodes to an event or to None, never an exception."""
    decode_button(data)


@pytest.mark.parametrize("data", ["s²:sex=male", "e¹:grounds", "s٢:sex=male", "s２:sex=male"])
def test_turn_numbers_are_ascii_digits(data: str) -> None:
    """L2, I3: superscript, Arabic-Indic or full-width digits are no turn number."""
    assert decode_button(data) is None


def _at_citizenship() -> State:
    state = transition(None, Start(payload="en-self"), today=TODAY).state
    assert state is not None
    for field, value in [("sex", "male"), ("age_band", "18_to_65")]:
        state = transition(state, Answer(state.turn, field, value), today=TODAY).state
        assert state is not None
    assert state.asking == "citizenship"
    return state


@pytest.mark.parametrize("code", ["XX", "AA", "ZZ"])
def test_a_forged_citizenship_is_not_stored(code: str) -> None:
    """L3: only a real ISO 3166 code or `stateless` is stored."""
    state = _at_citizenship()
    forged = transition(state, Answer(state.turn, "citizenship", code), today=TODAY)
    assert forged.state == state
    real = transition(state, Answer(state.turn, "citizenship", "stateless"), today=TODAY)
    assert real.state is not None
    assert real.state.answers["citizenship"] == "stateless"


def _body(update_id: str, chat_id: str) -> str:
    return (
        f'{{"update_id": {update_id}, "message": {{"message_id": 1, "date": 1, "text": "hi",'
        f' "chat": {{"id": {chat_id}, "type": "private"}}}}}}'
    )


@pytest.mark.parametrize(
    ("update_id", "chat_id"),
    [("9" * 4000, "1"), ("1", str(2**63)), ("1", str(-(2**63) - 1)), ("1", "1" + "0" * 30),
     ("1", "1" * 21), (str(2**63), "1")],
)  # fmt: skip
def test_absurd_ids_are_refused_at_parsing(update_id: str, chat_id: str) -> None:
    """L6: a number too long for a Telegram id makes the body no update (nothing stored)."""
    assert parse_update(_body(update_id, chat_id), Bot("1:x")) is None


def test_ids_telegram_sends_are_parsed() -> None:
    assert parse_update(_body("123", str(-(10**12))), Bot("1:x")) is not None
    assert parse_update(_body(str(2**63 - 1), "5"), Bot("1:x")) is not None


# --- logs -------------------------------------------------------------------------------------


def test_library_caps_never_lower_our_level() -> None:
    """The ecosystem review's log bug: at ERROR, PTB's INFO lines no longer print."""
    configure_logging("ERROR")
    try:
        for name in ("telegram", "httpx", "tornado", "asyncio"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.ERROR, name
    finally:
        configure_logging("DEBUG")
    assert logging.getLogger("telegram").level == logging.INFO
    assert logging.getLogger("httpx").level == logging.WARNING


_TYPED = "Арманистон 48151623"  # what a person typed (the frames show code, not data)
_NAME = "Victor"


def _raise_nested() -> None:
    try:
        int(_TYPED)
    except ValueError as exc:
        raise KeyError(f"chat {_TYPED[-8:]} said {_NAME}") from exc


def test_tracebacks_have_frames_and_classes_but_no_message() -> None:
    """A logged error shows where it happened, never what it said (it may quote a person)."""
    formatter = PrivateFormatter("%(levelname)s %(message)s")
    try:
        _raise_nested()
    except KeyError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    text = formatter.format(record)
    assert "_raise_nested" in text
    assert "KeyError" in text
    assert "ValueError" in text
    assert "48151623" not in text
    assert "Victor" not in text
    assert "Арман" not in text


async def test_the_error_handler_logs_a_traceback_without_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 19: PTB's error handler logs the class and the frames, not the message."""
    try:
        _raise_nested()
    except KeyError as exc:
        error = exc

    class Context:
        pass

    context: Any = Context()
    context.error = error
    caplog.set_level(logging.ERROR)
    await log_error(object(), context)
    (record,) = caplog.records
    text = PrivateFormatter().format(record)
    assert "handler error: KeyError" in text
    assert "_raise_nested" in text
    assert "48151623" not in text


def test_the_persistence_override_still_matches_ptb() -> None:
    """The private PTB method we override (app.py says why) keeps the signature we wrote for;
    a rename or a new argument fails here, not silently in production."""
    ours = inspect.signature(_Application._mark_for_persistence_update)
    assert "_mark_for_persistence_update" in Application.__dict__
    theirs = inspect.signature(Application._mark_for_persistence_update)
    assert list(ours.parameters) == list(theirs.parameters)
    assert all(p.kind is p.KEYWORD_ONLY for n, p in theirs.parameters.items() if n != "self")


async def test_refusals_are_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """L9, M2: one line per reason when it starts, then one line with the count per period."""
    caplog.set_level(logging.WARNING, logger="bot.adapters.telegram.connections")
    tally = Tally(period=0.2)
    for _ in range(500):
        tally.note("refused: wrong or missing secret")
    tally.note("refused: unknown path")
    await asyncio.sleep(0.3)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "webhook: refused: wrong or missing secret",
        "webhook: refused: unknown path",
        "webhook: refused: wrong or missing secret: 499 more in the last minute",
    ]


# --- stopping ---------------------------------------------------------------------------------


@pytest.mark.redis
async def test_stopping_lets_the_update_in_flight_finish(redis_url: str) -> None:
    """Issue 19: on stop the webhook answers the update it is handling before it closes."""
    async with FakeBotApi() as api:
        port = free_port()
        settings = Settings(
            token=SecretStr(api.token),
            api_base_url=api.bot_base_url,
            redis_url=SecretStr(redis_url),
            key_secret=SecretStr(KEY_SECRET.decode()),
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret=SecretStr(WEBHOOK_SECRET),
            listen=f"127.0.0.1:{port}",
            _env_file=None,  # type: ignore[call-arg]
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve_webhook(build_parts(settings), key_secret=KEY_SECRET,
                                                 stop=stop))  # fmt: skip
        await api.wait_for(lambda: api.webhook is not None, 10)
        api.set_latency(1.0, "sendMessage")
        user = api.user(user_id=5151, language_code="ru")
        delivery = asyncio.create_task(user.send_command("/start"))
        await api.wait_for(lambda: bool(api.calls_for("sendMessage", chat_id=user.id)), 10)
        stop.set()  # while the reply is still on its way
        await asyncio.wait_for(task, 20)
        await delivery
        assert [d.status for d in api.webhook_responses] == [200]
