"""Logging: the flow, never the person.

Records carry step ids, outcomes, timings and error classes. Never a name, an id, a username,
an answer or typed text: handlers pass only those safe values, and httpx (which logs every
request URL, including the bot token) is kept quiet.
"""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]


#: Libraries whose debug records quote whole updates or requests (ids, names, text), or whose
#: request lines carry the bot token: capped whatever our own level is.
_CAPPED = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "tornado": logging.WARNING,
    "hpack": logging.WARNING,
    "asyncio": logging.WARNING,
}


def configure_logging(level: str = "INFO") -> None:
    """Plain stderr logging for the bot; third-party chatter that could quote people capped."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=getattr(logging, level.upper(), logging.INFO),
    )
    for name, cap in _CAPPED.items():
        logging.getLogger(name).setLevel(cap)
