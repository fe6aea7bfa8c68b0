"""Logging: the flow, never the person.

Records carry step ids, outcomes, timings and error classes. Never a name, an id, a username,
an answer or typed text: handlers pass only those safe values, and httpx (which logs every
request URL, including the bot token) is kept quiet. A traceback is printed with its frames
and exception classes but without the exceptions' messages, which can quote an update.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

__all__ = ["PrivateFormatter", "configure_logging"]


#: Libraries whose debug records quote whole updates or requests (ids, names, text), or whose
#: request lines carry the bot token: never below these levels, whatever our own level is.
_CAPPED = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "tornado": logging.WARNING,
    "hpack": logging.WARNING,
    "asyncio": logging.WARNING,
}

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class PrivateFormatter(logging.Formatter):
    """Formats exceptions as their chain of frames and class names, with no message."""

    def format(self, record: logging.LogRecord) -> str:
        # Another handler's formatter may have cached the full text on the record: ignore it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: _ExcInfo | tuple[None, None, None]) -> str:  # noqa: N802 - logging's name
        error = ei[1]
        if error is None:
            return ""
        parts: list[str] = []
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            frames = "".join(traceback.format_tb(error.__traceback__))
            parts.append(f"Traceback (most recent call last):\n{frames}{type(error).__qualname__}")
            cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
            error = cause
        return "\n\nThe above led to:\n\n".join(reversed(parts))


def configure_logging(level: str = "INFO") -> None:
    """Plain stderr logging for the bot; third-party chatter that could quote people capped."""
    chosen = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=chosen, handlers=[handler])  # (no-op if already configured)
    for name, cap in _CAPPED.items():
        logging.getLogger(name).setLevel(max(cap, chosen))
