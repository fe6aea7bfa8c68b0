"""Who talks to the bot in the soak, and the result each person must get.

A persona is a set of facts (the fields and values of `decree-bot check`), a language, a mode,
a way to start (deep link, language picker, or the app's language) and a few habits: typing
the country instead of pressing it, going back, starting over, changing the language, a
wrong answer corrected at the review, a press on an old button. The expected result is what
`bot.check.check` finds for the facts, shown as the result's first line in that language.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from bot.check import check
from bot.conversation import LANGUAGES, Mode, State
from bot.conversation.countries import COMMON
from bot.conversation.result import result_reply
from bot.i18n import Renderer
from rules import Application, Finding, Grounds
from rules.concepts import accepted_documents
from rules.parameters import PARAMETERS

__all__ = ["TELEGRAM_CODES", "Persona", "asked_facts", "expected_result", "make_persona"]

#: The Telegram app language for each of our languages (Uzbek Cyrillic has none of its own).
TELEGRAM_CODES = {"ru": "ru", "tg": "tg", "uz": "uz", "az": "az", "en": "en"}
#: Countries typed by name (no button of their own, or typed anyway).
TYPED = ("GE", "TR", "CN", "AF", "IN", "VN", "TM", "AM", "TJ", "KZ")
#: App languages the bot does not speak: such people see the language picker.
FOREIGN_APPS = (None, "de", "kk", "tr", "fr")

SEXES = ("male", "female")
AGE_BANDS = ("under_18", "18_to_65", "over_65")
#: Weights that keep most people on the long path (men of working age).
_SEX_WEIGHTS = (4, 1)
_AGE_WEIGHTS = (1, 6, 1)


@dataclass
class Persona:
    """One simulated person."""

    user_id: int
    facts: dict[str, str | list[str]]
    lang: str
    mode: str
    #: "link" (t.me/bot?start=lang-mode), "picker" (no usable app language) or "app".
    start: str
    app_language: str | None
    typed_country: str | None = None
    #: Habits, each at the n-th question screen (None: never).
    back_at: int | None = None
    back_by_command: bool = False
    restart_at: int | None = None
    restart_by_command: bool = False
    language_at: int | None = None
    new_lang: str | None = None
    stale_at: int | None = None
    slip: tuple[str, str] | None = None
    why: bool = False
    forget: bool = False
    org: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def payload(self) -> str:
        """The deep link payload of a "link" start."""
        return f"{self.lang}-{self.mode}" + (f"-{self.org}" if self.org else "")

    def answer(self, field_name: str) -> str:
        """The value of this person's answer to a question, as its button says."""
        value = self.facts[field_name]
        if isinstance(value, list):
            return value[0] if value else "none"
        return value

    def facts_json(self) -> str:
        return json.dumps(self.facts, sort_keys=True)


def _documents(rng: random.Random, application: str) -> list[str]:
    accepted = accepted_documents(Application(application), PARAMETERS.on(date.today()))
    if not accepted or rng.random() < 0.5:
        return []
    return [rng.choice(accepted).value]


def _wrong(rng: random.Random, field_name: str, right: str) -> str | None:
    """A different answer to the same question, on the long path (so a review follows).

    Never the application: the documents offered depend on it, and a corrected application
    does not ask for the documents again.
    """
    options = {
        "citizenship": [c for c in ("TJ", "UZ", "KG", "AM", "AZ") if c != right],
        "grounds": [g for g in ("long_residence", "family") if g != right],
    }.get(field_name)
    return rng.choice(options) if options else None


def make_persona(rng: random.Random, user_id: int) -> Persona:
    """A random person with complete facts and a few habits."""
    application = rng.choice([a.value for a in Application])
    citizenship = rng.choice([*COMMON, "stateless", "typed"])
    typed = None
    if citizenship == "typed":
        citizenship = rng.choice(TYPED)
        typed = citizenship
    facts: dict[str, str | list[str]] = {
        "sex": rng.choices(SEXES, _SEX_WEIGHTS)[0],
        "age_band": rng.choices(AGE_BANDS, _AGE_WEIGHTS)[0],
        "citizenship": citizenship,
        "application": application,
        "grounds": rng.choice([g.value for g in Grounds]),
        "documents": _documents(rng, application),
    }
    lang = rng.choice(LANGUAGES)
    start = rng.choice(("link", "link", "picker", "app"))
    if start == "app" and lang not in TELEGRAM_CODES:
        start = "link"
    if start == "picker":
        app_language = rng.choice(FOREIGN_APPS)
    elif start == "app":
        app_language = TELEGRAM_CODES[lang]
    else:  # a link: the app may speak anything
        app_language = rng.choice([*TELEGRAM_CODES.values(), None, "de"])
    persona = Persona(
        user_id=user_id,
        facts=facts,
        lang=lang,
        mode=rng.choice([m.value for m in Mode]),
        start=start,
        app_language=app_language,
        typed_country=typed,
        org=rng.choice([None, None, None, "ngo7"]),
    )
    _habits(rng, persona)
    return persona


def _habits(rng: random.Random, persona: Persona) -> None:
    if rng.random() < 0.2:
        persona.back_at = rng.randint(2, 4)
        persona.back_by_command = rng.random() < 0.5
    if rng.random() < 0.12:
        persona.restart_at = rng.randint(2, 5)
        persona.restart_by_command = rng.random() < 0.5
    if rng.random() < 0.08:
        persona.language_at = rng.randint(1, 4)
        persona.new_lang = rng.choice([lang for lang in LANGUAGES if lang != persona.lang])
    if rng.random() < 0.15:
        persona.stale_at = rng.randint(2, 5)
    if rng.random() < 0.2:
        field_name = rng.choice(("citizenship", "grounds"))
        right = persona.answer(field_name)
        wrong = _wrong(rng, field_name, right)
        if wrong is not None and not (field_name == "citizenship" and persona.typed_country):
            persona.slip = (field_name, wrong)
    persona.why = rng.random() < 0.1
    persona.forget = rng.random() < 0.05


@cache
def _finding(facts_json: str, on: date) -> Finding:
    """`decree-bot check` for these facts: once per distinct set of facts and day."""
    return Finding.model_validate_json(check(facts_json, on=on))


def asked_facts(persona: Persona, on: date) -> dict[str, str | list[str]]:
    """The facts the bot asks for, in its order: each time the first one still missing."""
    asked: dict[str, str | list[str]] = {}
    for _ in range(len(persona.facts) + 1):
        missing = _finding(json.dumps(asked, sort_keys=True), on).missing
        if not missing:
            return asked
        name = "age_band" if missing[0] == "age" else missing[0]
        asked[name] = persona.facts[name]
    msg = f"the rules keep asking: {asked}"
    raise AssertionError(msg)


def expected_result(persona: Persona, lang: str, renderer: Renderer, on: date) -> tuple[str, str]:
    """The first line the result must show, and a problem with the rules if there is one.

    The headline is rendered from `decree-bot check` on the facts the bot asks; its outcome
    and requirement_met must be those of `check` on all the person's facts (a settled answer
    is never overturned by more facts).
    """
    asked = asked_facts(persona, on)
    finding = _finding(json.dumps(asked, sort_keys=True), on)
    full = _finding(persona.facts_json(), on)
    problem = ""
    if (finding.outcome, finding.requirement_met) != (full.outcome, full.requirement_met):
        problem = (
            f"check on the asked facts gives {finding.outcome.value}/{finding.requirement_met},"
            f" on all facts {full.outcome.value}/{full.requirement_met}"
        )
    state = State.fresh(lang=lang, mode=persona.mode, answers=asked)
    first = result_reply(finding, state).parts[0]
    text = first if isinstance(first, str) else renderer.text(first, lang)
    return text.split("\n", 1)[0], problem
