"""Shared fixtures: the private redis-server, the fixed day, catalogs and a renderer."""

from __future__ import annotations

from datetime import date

import pytest

from bot.i18n import Renderer, load_catalogs
from bot.messages import LEGAL_HELP_NONE
from bot.operator_texts import OperatorTexts

pytest_plugins = ["tests.redis_server"]

#: Every conversation test runs on this day, so transcripts do not change with the calendar.
TODAY = date(2026, 11, 25)
BOT_USERNAME = "decree_test_bot"
TTL_SECONDS = 1800
#: A Tajik worker's answers, as a finished conversation stores them: the decree applies, no
#: document (a result to restore, to subscribe to notices, or to draw the notice's buttons).
WORKER = {
    "sex": "male",
    "age_band": "18_to_65",
    "citizenship": "TJ",
    "application": "residence_permit",
    "grounds": "long_residence",
    "documents": "none",
}


def make_renderer() -> Renderer:
    """The real renderer on the compiled catalogs, with test operator values."""
    catalogs = load_catalogs()
    return Renderer(
        catalogs,
        ext=OperatorTexts(
            bot_username=lambda: BOT_USERNAME,
            ttl_seconds=TTL_SECONDS,
            legal_help={},
            no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
        ),
    )


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    """One renderer for the session (catalogs are read once)."""
    return make_renderer()
