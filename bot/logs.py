"""Logging: the flow, never the person.

Records carry step ids, outcomes, timings and error classes. Never a name, an id, a username,
an answer or typed text: handlers pass only those safe values, and httpx (which logs every
request URL, including the bot token) is kept quiet.
"""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]


def configure_logging(level: str = "INFO") -> None:
    """Plain stderr logging for the bot; third-party chatter turned down."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=getattr(logging, level.upper(), logging.INFO),
    )
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "tornado.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
