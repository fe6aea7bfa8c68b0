"""Personas for the golden transcripts: who talks to the bot, and which buttons they press.

Steps are language-independent: buttons are pressed by their callback data (`sex=male`), so
the same persona runs in every language. `{lang}` in a payload is the transcript's language.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PERSONAS", "TYPED_ARMENIA", "Persona"]

#: How someone writing each language types "Armenia".
TYPED_ARMENIA = {
    "ru": "Армения",
    "tg": "Арманистон",
    "uz": "Armaniston",
    "uz_Cyrl": "Арманистон",
    "az": "Ermənistan",
    "en": "armenia",
}

Step = tuple[str, ...]


@dataclass(frozen=True)
class Persona:
    """A named scenario and its steps."""

    name: str
    about: str
    steps: tuple[Step, ...]
    outcome: str


_MAN_18_65 = (("press", "sex=male"), ("press", "age_band=18_to_65"))

PERSONAS = (
    Persona(
        "woman",
        "A woman chooses her language and mode by buttons; one question settles it.",
        (
            ("start",),
            ("press", "lang={lang}"),
            ("press", "mode=self"),
            ("press", "sex=female"),
        ),
        "not_affected",
    ),
    Persona(
        "worker-without-document",
        "A worker from Tajikistan applying for a residence permit, with no document yet;"
        " he reads why and shares the result.",
        (
            ("start", "{lang}-self"),
            *_MAN_18_65,
            ("press", "citizenship=TJ"),
            ("press", "application=residence_permit"),
            ("press", "grounds=long_residence"),
            ("press", "documents=none"),
            ("press", "nav:result"),
            ("press", "nav:why"),
            ("press", "nav:share"),
        ),
        "affected",
    ),
    Persona(
        "father-asks-about-son",
        "A father asks about his son from Uzbekistan, who applies for citizenship through"
        " family and has an unfitness decision.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=UZ"),
            ("press", "application=citizenship"),
            ("press", "grounds=family"),
            ("press", "documents=unfitness_decision"),
            ("press", "nav:result"),
        ),
        "affected",
    ),
    Persona(
        "ukrainian",
        "A citizen of Ukraine: separate rules whose content is unknown.",
        (
            ("start", "{lang}-self"),
            *_MAN_18_65,
            ("press", "citizenship=UA"),
            ("press", "nav:result"),
        ),
        "separate_rules",
    ),
    Persona(
        "belarusian-relative",
        "A relative asks about a citizen of Belarus.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=BY"),
            ("press", "nav:result"),
        ),
        "not_affected",
    ),
    Persona(
        "kazakh-via-organisation",
        "An organisation checks a citizen of Kazakhstan applying for a residence permit: one"
        " source family exempts him, the Interior Ministry names no exception.",
        (
            ("start", "{lang}-ngo"),
            *_MAN_18_65,
            ("press", "citizenship=KZ"),
            ("press", "application=residence_permit"),
            ("press", "grounds=long_residence"),
            ("press", "nav:result"),
        ),
        "unclear",
    ),
    Persona(
        "student-types-country-goes-back",
        "A student types his country, goes back one question, and applies on study grounds.",
        (
            ("start", "{lang}-self"),
            *_MAN_18_65,
            ("press", "type=citizenship"),
            ("type", "{armenia}"),
            ("press", "application=residence_permit"),
            ("cmd", "/back"),
            ("press", "application=citizenship"),
            ("press", "grounds=study"),
            ("press", "nav:result"),
        ),
        "unclear",
    ),
    Persona(
        "relative-changes-an-answer",
        "A relative reviews the answers and corrects the citizenship before the result.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=AZ"),
            ("press", "application=residence_permit"),
            ("press", "grounds=family"),
            ("press", "documents=military_contract"),
            ("press", "citizenship", "edit"),
            ("press", "citizenship=AM"),
            ("press", "nav:result"),
        ),
        "affected",
    ),
    Persona(
        "restart-and-old-button",
        "A man restarts, presses a button on an old message, then answers he is over 65.",
        (
            ("start", "{lang}-self"),
            *_MAN_18_65,
            ("cmd", "/restart"),
            ("press", "age_band=18_to_65", "2"),
            ("press", "sex=male"),
            ("press", "age_band=over_65"),
        ),
        "not_affected",
    ),
    Persona(
        "specialist-via-organisation",
        "An organisation checks a highly qualified specialist from Kyrgyzstan, switching the"
        " language on the way.",
        (
            ("start", "{lang}-ngo"),
            *_MAN_18_65,
            ("cmd", "/language"),
            ("press", "lang={lang}"),
            ("press", "citizenship=KG"),
            ("press", "application=citizenship"),
            ("press", "grounds=highly_qualified_specialist"),
            ("press", "nav:result"),
        ),
        "unclear",
    ),
    Persona(
        "father-of-a-conscript",
        "A father asks about his son from Tajikistan, who served as a conscript at home and"
        " holds his home army's military ID; the son applies for a residence permit. The father"
        " shares the result with the family.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=TJ"),
            ("press", "application=residence_permit"),
            ("press", "grounds=family"),
            ("press", "documents=foreign_military_document"),
            ("press", "nav:result"),
            ("press", "nav:share"),
        ),
        "affected",
    ),
    Persona(
        "father-does-not-know-the-application",
        "A father in Khujand knows his son's age and citizenship, but not whether he applies"
        " for a residence permit or for citizenship; he reads why and shares the result.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=TJ"),
            ("press", "application=unknown"),
            ("press", "grounds=long_residence"),
            ("press", "documents=none"),
            ("press", "nav:result"),
            ("press", "nav:why"),
            ("press", "nav:share"),
        ),
        "affected",
    ),
    Persona(
        "father-does-not-know-the-documents",
        "A father knows his son applies for citizenship through family, but not which papers"
        " he holds.",
        (
            ("start", "{lang}-relative"),
            *_MAN_18_65,
            ("press", "citizenship=UZ"),
            ("press", "application=citizenship"),
            ("press", "grounds=family"),
            ("press", "documents=unknown"),
            ("press", "nav:result"),
            ("press", "nav:share"),
        ),
        "affected",
    ),
)
