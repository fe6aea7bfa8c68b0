"""Replies as data: message ids with parameters and buttons, translated only at the edge.

A transcript of replies renders the same in the console, in Telegram and in tests. Message ids
are the English source strings, marked with `N_` so Babel extracts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

__all__ = ["NN_", "N_", "Bullets", "Button", "Country", "Ext", "Msg", "Pair", "Param", "Reply"]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a no-op marker
    """Mark a string for extraction; it is translated when rendered."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - gettext convention
    """Mark a message with plural forms; the count is its parameter `n`."""
    return singular, plural


@dataclass(frozen=True, slots=True)
class Ext:
    """A value the operator configures (the bot's link, the session lifetime, legal help).

    `arg` narrows it (the organisation whose contacts come first); the renderer asks the
    operator's resolver for `name:arg`."""

    name: str
    arg: str | None = None

    @property
    def key(self) -> str:
        """What the operator's resolver is asked for."""
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


@dataclass(frozen=True, slots=True)
class Country:
    """A country's name (ISO code, or "stateless"), written in the person's language."""

    code: str


@dataclass(frozen=True, slots=True)
class Msg:
    """One translatable message and its named parameters."""

    id: str
    params: tuple[tuple[str, Param], ...] = ()
    #: The plural message id, for a message whose form depends on its parameter `n`.
    plural: str | None = None

    @classmethod
    def of(cls, message_id: str, **params: Param) -> Msg:
        """A message with keyword parameters, in a stable order."""
        return cls(message_id, tuple(sorted(params.items())))

    @classmethod
    def counted(cls, forms: tuple[str, str], n: int | Ext, **params: Param) -> Msg:
        """A message in the plural form for `n` (see `NN_`)."""
        return cls(forms[0], tuple(sorted({**params, "n": n}.items())), plural=forms[1])


@dataclass(frozen=True, slots=True)
class Pair:
    """ "Question: answer" in a list; the colon is layout, the same in every language."""

    key: Msg
    value: Msg | Country


@dataclass(frozen=True, slots=True)
class Bullets:
    """A bulleted list, one item per line; the bullets are layout, never translated."""

    items: tuple[Msg | Pair, ...]


#: A parameter: plain text (never translated) or a number, a date (formatted per locale), a
#: nested message, a bulleted list, a country or an operator value.
Param: TypeAlias = str | int | date | Msg | Bullets | Country | Ext


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: its label and the callback data it sends back."""

    label: Msg | Country | str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the person: paragraphs, rows of buttons, and delivery hints.

    `edit` says the reply may replace the message whose button was pressed, which keeps the
    chat short; adapters that cannot edit simply send it. Adapters may merge consecutive
    replies into one message, except a `standalone` one.
    """

    #: Paragraphs; a plain str is shown as it is (e.g. the multilingual language prompt).
    parts: tuple[Msg | str, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    #: Must stay a message of its own (a text meant to be forwarded), never merged.
    standalone: bool = False
