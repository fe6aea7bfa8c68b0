"""The questions: which fact each asks, its wording in each mode, and its answer buttons.

The rules decide *whether* a question is asked (`Finding.missing`); this table only says
*how*. Wording changes with the mode (for myself, for a relative, as an organisation); the
answers and their values are those of `decree-bot check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.countries import COMMON
from bot.conversation.replies import N_, Country, Msg
from bot.conversation.state import Mode

__all__ = [
    "BY_CODE",
    "BY_FIELD",
    "DONT_KNOW",
    "QUESTIONS",
    "UNKNOWN",
    "Option",
    "Question",
    "answer_label",
    "in_question_order",
    "question_for",
]


#: The stored value and button value of "I don't know", for the fields the rules can branch on.
UNKNOWN = "unknown"
#: Its label: the last answer button of those questions.
DONT_KNOW = N_("I don't know")


@dataclass(frozen=True, slots=True)
class Option:
    """One answer button: the value stored and its label."""

    value: str
    label: Msg | Country


@dataclass(frozen=True, slots=True)
class Question:
    """How one fact is asked."""

    fact: str
    #: The answer's field in `decree-bot check` (age is asked as a band).
    field: str
    #: One letter in callback data, so old buttons can be told apart cheaply.
    code: str
    #: Field name for the review list.
    title: str
    text: dict[Mode, str]
    options: tuple[Option, ...]
    per_row: int = 1
    #: An explanation under the question, the same in every mode.
    hint: str | None = None
    #: Answered with a list (of documents held): "none" is the empty list.
    listed: bool = False
    #: The modes in which "I don't know" is offered (someone asking for another person may
    #: not know his age; anyone may not know the application, grounds or documents).
    unknown_in: frozenset[Mode] = frozenset()

    def stored(self, value: str) -> str | list[str]:
        """The stored answer for the button value `value` (the field's value in `check`)."""
        if not self.listed or value == UNKNOWN:
            return value
        return [] if value == "none" else [value]

    def button_value(self, stored: str | list[str]) -> str:
        """The button value of a stored answer: the inverse of `stored`."""
        if isinstance(stored, str):
            return stored
        return stored[0] if stored else "none"


def _o(value: str, label: str) -> Option:
    return Option(value, Msg(label))


QUESTIONS: dict[str, Question] = {
    q.fact: q
    for q in (
        Question(
            fact="sex",
            field="sex",
            code="s",
            title=N_("Sex"),
            text={
                Mode.SELF: N_("Are you a man or a woman?"),
                Mode.RELATIVE: N_("Is your relative a man or a woman?"),
                Mode.NGO: N_("Is the person a man or a woman?"),
            },
            options=(_o("male", N_("Man")), _o("female", N_("Woman"))),
            per_row=2,
        ),
        Question(
            fact="age",
            field="age_band",
            code="a",
            title=N_("Age"),
            text={
                Mode.SELF: N_("How old are you?"),
                Mode.RELATIVE: N_("How old is your relative?"),
                Mode.NGO: N_("How old is the person?"),
            },
            options=(
                _o("under_18", N_("Not yet 18")),
                _o("18_to_65", N_("18 to 65")),
                _o("over_65", N_("Over 65")),
            ),
            per_row=3,
            unknown_in=frozenset({Mode.RELATIVE, Mode.NGO}),
            hint=N_("Count the age on the day the application is handed in."),
        ),
        Question(
            fact="citizenship",
            field="citizenship",
            code="c",
            title=N_("Citizenship"),
            text={
                Mode.SELF: N_("Which country are you a citizen of?"),
                Mode.RELATIVE: N_("Which country is your relative a citizen of?"),
                Mode.NGO: N_("Which country is the person a citizen of?"),
            },
            options=(
                *(Option(code, Country(code)) for code in COMMON),
                Option("stateless", Country("stateless")),
            ),
            per_row=3,
            hint=N_("If the country is not listed, press «Another country» and type its name."),
        ),
        Question(
            fact="application",
            field="application",
            code="p",
            title=N_("Application"),
            text={
                Mode.SELF: N_("What are you applying for, or planning to apply for?"),
                Mode.RELATIVE: N_("What is your relative applying for, or planning to apply for?"),
                Mode.NGO: N_("What is the person applying for, or planning to apply for?"),
            },
            options=(
                _o("residence_permit", N_("Residence permit (вид на жительство, ВНЖ)")),
                _o("citizenship", N_("Russian citizenship (гражданство РФ)")),
            ),
            unknown_in=frozenset(Mode),
        ),
        Question(
            fact="grounds",
            field="grounds",
            code="g",
            title=N_("Grounds"),
            text={
                Mode.SELF: N_("On what grounds are you applying?"),
                Mode.RELATIVE: N_("On what grounds is your relative applying?"),
                Mode.NGO: N_("On what grounds is the person applying?"),
            },
            options=(
                _o("long_residence", N_("Years of living in Russia")),
                _o("family", N_("Family in Russia")),
                _o("highly_qualified_specialist", N_("Highly qualified specialist (ВКС)")),
                _o("study", N_("Study in Russia")),
                _o("compatriot_program", N_("Compatriot resettlement programme")),
                _o("other", N_("Other grounds")),
            ),
            unknown_in=frozenset(Mode),
            hint=N_(
                "Family means, for example, a wife, husband, child or parent who is a Russian"
                " citizen."
            ),
        ),
        Question(
            fact="documents",
            field="documents",
            code="d",
            title=N_("Documents"),
            text={
                Mode.SELF: N_("Do you already have one of these documents?\n{documents}"),
                Mode.RELATIVE: N_(
                    "Does your relative already have one of these documents?\n{documents}"
                ),
                Mode.NGO: N_("Does the person already have one of these documents?\n{documents}"),
            },
            # Each Russian document names its Russian issuer: most men from Central Asia and
            # Azerbaijan hold papers from their home army, which are their own answer.
            options=(
                _o("military_contract", N_("Contract with Минобороны России")),
                _o("emergency_contract", N_("Contract with МЧС России")),
                _o("discharge_extract", N_("Discharge extract (Russian army, МЧС)")),
                _o("unfitness_decision", N_("Unfit: Russian военкомат/selection point")),
                _o("service_before_2022_02_24", N_("Service in RF army/МЧС before 24.02.2022")),
                _o("foreign_military_document", N_("Papers from another country's army")),
                _o("none", N_("None of these")),
            ),
            hint=N_(
                "Papers from the army of the home country, or of any country other than Russia (a"
                " military ID, a discharge or an unfitness paper), are a separate answer: «Papers"
                " from another country's army». If there are several documents, choose a Russian"
                " one."
            ),
            listed=True,
            unknown_in=frozenset(Mode),
        ),
    )
}

#: Question by its one-letter code in callback data.
BY_CODE = {q.code: q for q in QUESTIONS.values()}
#: Question by its answer's field (`age_band` is the field of the question about age).
BY_FIELD = {q.field: q for q in QUESTIONS.values()}


def question_for(fact: str) -> Question:
    """The question that asks `fact`."""
    return QUESTIONS[fact]


def in_question_order(answers: dict[str, str | list[str]]) -> list[tuple[str, str | list[str]]]:
    """The stored answers in the order the questions come, whatever order they were given in."""
    order = [q.field for q in QUESTIONS.values()]
    return sorted(answers.items(), key=lambda item: order.index(item[0]))


def answer_label(field: str, value: str | list[str]) -> Msg | Country:
    """The label of a stored answer, for the review list."""
    if field == "citizenship" and isinstance(value, str):
        return Country(value)
    if value == UNKNOWN:
        return Msg(DONT_KNOW)
    question = BY_FIELD[field]
    wanted = question.button_value(value)
    for option in question.options:
        if option.value == wanted:
            return option.label
    return Msg(N_("Not answered"))
