"""The console chat, driven from a script on stdin in every language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation import LANGUAGES
from bot.i18n import Renderer

ROOT = Path(__file__).resolve().parents[2]

# Man, 18-65, typed "Belarus" via "Another country" (button 11), then "Show the result".
_SCRIPT = "1\n2\n11\n{country}\n1\n"
_BELARUS = {
    "ru": "Беларусь",
    "tg": "Беларус",
    "uz": "Belarus",
    "uz_Cyrl": "Беларусь",
    "az": "Belarus",
    "en": "Belarus",
}


def _run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECREEBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_console_reaches_a_result_in_every_language(lang: str, renderer: Renderer) -> None:
    """A scripted session in the language ends with the translated result."""
    flag = lang.replace("_", "-")
    done = _run("--lang", flag, "--mode", "self", stdin=_SCRIPT.format(country=_BELARUS[lang]))
    assert done.returncode == 0, done.stderr
    headline = renderer.gettext("🟢 The decree's military requirement does not apply to you.", lang)
    assert headline in done.stdout
    assert renderer.gettext("Citizens of Belarus are not covered by the requirement.", lang) in (
        done.stdout
    )
    assert "Traceback" not in done.stderr


def test_console_back_restart_and_bad_number() -> None:
    """The words back and restart work; a number with no button is refused politely."""
    done = _run("--lang", "en", "--mode", "relative", stdin="1\nback\n99\nrestart\n2\nquit\n")
    assert done.returncode == 0
    out = done.stdout
    assert out.count("Is your relative a man or a woman?") == 3
    assert "There is no answer with this number." in out
    assert "🟢 The decree's military requirement does not apply to your relative." in out


def test_console_without_flags_asks_for_language() -> None:
    """With no --lang the picker comes first, in all languages at once."""
    done = _run(stdin="6\n1\n2\n")
    assert "Choose a language" in done.stdout
    assert "Tilni tanlang" in done.stdout
    assert "The requirement applies only to men." in done.stdout


def test_console_father_who_does_not_know_the_documents() -> None:
    """A father presses "I don't know" (the last answer) for the documents and reads each case."""
    # Man, 18-65, Uzbekistan, citizenship, family, then button 8 "I don't know", then the result.
    done = _run("--lang", "en", "--mode", "relative", stdin="1\n2\n2\n2\n2\n8\n1\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[7] None of these\n[8] I don't know" in out
    assert "🟡 The decree applies to your relative in every case." in out
    assert "🟢 His document already meets the requirement." in out
    assert "If the answer to «Documents» is «None of these»:" in out
    assert "🔴 He does not have a document that meets the requirement yet." in out
