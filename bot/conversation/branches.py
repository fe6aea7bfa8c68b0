"""The result when some answers are "I don't know": what holds in every case, then each case.

`rules.possibilities` gives the branches. Here they become a short screen: a top line with
what every branch shares, then one line per distinct result, each led by the answers that
lead to it ("If the answer to «Documents» is «None of these»: 🔴 ..."). With more than
`MAX_LINES` lines, or cases that do not read as one condition, the screen gives the shared part
and names the one question that would settle most. The mark at the top is the branches'
common mark, or 🟡 when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from bot.conversation.questions import BY_FIELD, answer_label
from bot.conversation.replies import N_, Bullets, Ext, Msg, Reply
from bot.conversation.result import (
    CERTAINTY_TEXT,
    documents_parts,
    footer_parts,
    headline,
    result_buttons,
    share_close,
    share_note,
    why_reply,
)
from bot.conversation.state import Mode, State
from bot.conversation.texts import CAVEAT_TEXT
from rules import DECREE_DATE, Finding, Outcome
from rules.possibilities import UNKNOWABLE, Branch, Possibilities, Value

__all__ = ["MAX_LINES", "branching_reply", "branching_share", "branching_why"]

#: More lines than this would not be read on a phone: the screen names one question instead.
MAX_LINES = 4

_AFFECTED_ALWAYS = {
    Mode.SELF: N_("{mark} The decree applies to you in every case."),
    Mode.RELATIVE: N_("{mark} The decree applies to your relative in every case."),
    Mode.NGO: N_("{mark} The decree applies to this person in every case."),
}
_DEPENDS = N_("{mark} The answer depends on the questions answered «I don't know».")
_WHATEVER = N_("This holds for every possible answer to the questions answered «I don't know».")
#: After "the decree applies in every case", each case says only what differs: the document.
_MET = {
    True: {
        Mode.SELF: N_("🟢 Your document already meets the requirement."),
        Mode.RELATIVE: N_("🟢 His document already meets the requirement."),
    },
    False: {
        Mode.SELF: N_("🔴 You have none of the listed documents."),
        Mode.RELATIVE: N_("🔴 He has none of the listed documents."),
    },
    None: {
        Mode.SELF: N_("🟡 It is not certain that your document meets the requirement."),
        Mode.RELATIVE: N_("🟡 It is not certain that his document meets the requirement."),
    },
}
_CASE = N_("If {condition}:\n{result}")
_IS = N_("the answer to «{question}» is {values}")
_ANY_DOCUMENT = N_("the answer to «{question}» is any of the documents listed below")
_AND = N_("{first} and {second}")
_OR = N_("{first} or {second}")
_COMMA = N_("{first}, {second}")
_QUOTED = N_("«{label}»")
_SETTLE = N_(
    "The answer depends on several questions answered «I don't know». The one that matters"
    " most: «{question}». If you can, find out the answer to it and check again."
)
_WHY_BRANCHES = N_(
    "Some answers were not known. The bot worked out the result for every possible answer and"
    " put together the answers that lead to the same result."
)


@dataclass(frozen=True, slots=True)
class _Line:
    """Branches that read the same on the screen, and the cases that lead to them."""

    mark: str
    text: str
    branches: tuple[Branch, ...]


def branching_reply(judged: Possibilities, state: State) -> Reply:
    """The result screen for answers with "I don't know" among them."""
    mode = state.mode or Mode.SELF
    parts = [*_summary(judged, state, mode)]
    parts.append(Msg(CERTAINTY_TEXT[judged.finding.certainty.value]))
    shared = _shared_caveats(judged)
    if shared:
        items = Bullets(tuple(Msg(CAVEAT_TEXT[c]) for c in shared))
        parts.append(Msg.of(N_("Please note:\n{items}"), items=items))
    parts += footer_parts(state.org)
    if mode is Mode.NGO:
        parts.append(
            Msg.of(
                N_("For organisations: share this link, it opens the bot: {link}"),
                link=Ext("bot_link"),
            )
        )
    return Reply(tuple(parts), result_buttons(), edit=True)


def branching_why(judged: Possibilities, state: State) -> Reply:
    """Why: the answers, that every possible answer was tried, the rules that hold in every
    case (not those true of some answers only, such as "you named a document"), the sources."""
    shared = Finding.model_validate(
        {**judged.finding.model_dump(), "reasons": judged.shared_reasons}
    )
    reply = why_reply(shared, state)
    parts = list(reply.parts)
    rules_at = next(
        (i for i, p in enumerate(parts) if isinstance(p, Msg) and p.id.startswith("Rules")),
        len(parts),
    )
    parts.insert(rules_at, Msg(_WHY_BRANCHES))
    return Reply(tuple(parts), reply.buttons)


def branching_share(judged: Possibilities, state: State) -> tuple[Reply, Reply]:
    """A note, then the same short form to forward: no personal data, neutral words, and the
    same closing lines as the ordinary share (the caveat only if it holds in every case)."""
    shared = Finding.model_validate(
        {**judged.finding.model_dump(), "caveats": _shared_caveats(judged)}
    )
    parts: list[Msg | str] = [
        Msg.of(N_("Decree (указ) No. 821 of {decree_date}."), decree_date=DECREE_DATE),
        *_summary(judged, state, Mode.NGO),
        *share_close(shared),
    ]
    return share_note(), Reply(tuple(parts), standalone=True)


def _summary(judged: Possibilities, state: State, mode: Mode) -> list[Msg]:
    """What holds in every case, each case in one line (or the question that settles most),
    and the documents that would be asked for."""
    affected = all(b.outcome is Outcome.AFFECTED for b in judged.branches)
    lines = _lines(judged.branches, mode, short=affected)
    marks = {line.mark for line in lines}
    mark = marks.pop() if len(marks) == 1 else "🟡"
    if len(lines) == 1:
        parts = [Msg(headline(judged.branches[0].first, mode)), Msg(_WHATEVER)]
    else:
        top = _AFFECTED_ALWAYS[mode] if affected else _DEPENDS
        parts = [Msg.of(top, mark=mark)]
        cases = [_case(line, judged.unknown) for line in lines]
        if len(lines) <= MAX_LINES and all(case is not None for case in cases):
            parts += [case for case in cases if case is not None]
        else:
            question = BY_FIELD[_settles_most(judged, lines)].title
            parts.append(Msg.of(_SETTLE, question=Msg(question)))
    return parts + _documents(judged, state)


def _lines(branches: tuple[Branch, ...], mode: Mode, *, short: bool) -> list[_Line]:
    """The branches grouped by what the screen says for them, in the branches' order."""
    grouped: dict[str, list[Branch]] = {}
    marks: dict[str, str] = {}
    for branch in branches:
        text = (
            _MET[branch.requirement_met][Mode.SELF if mode is Mode.SELF else Mode.RELATIVE]
            if short
            else headline(branch.first, mode)
        )
        grouped.setdefault(text, []).append(branch)
        marks[text] = _mark(branch)
    return [_Line(marks[text], text, tuple(group)) for text, group in grouped.items()]


def _mark(branch: Branch) -> str:
    if branch.outcome is Outcome.AFFECTED:
        return {True: "🟢", False: "🔴", None: "🟡"}[branch.requirement_met]
    return "🟢" if branch.outcome is Outcome.NOT_AFFECTED else "🟡"


def _case(line: _Line, fields: tuple[str, ...]) -> Msg | None:
    """ "If <the answers that lead here>:" and the line's result; None if the answers that
    lead here are not all combinations of some values of each field (no one condition)."""
    cases = [
        tuple(_button_value(f, when[f]) for f in fields) for b in line.branches for when in b.when
    ]
    values = [list(dict.fromkeys(case[i] for case in cases)) for i in range(len(fields))]
    if prod(len(v) for v in values) != len(set(cases)):
        return None
    accepted = {d.value for branch in line.branches for d in branch.accepted_documents}
    clauses = [
        Msg.of(_ANY_DOCUMENT, question=Msg(BY_FIELD[field].title))
        if field == "documents" and set(vals) == accepted  # the list follows the cases
        else Msg.of(_IS, question=Msg(BY_FIELD[field].title), values=_either(field, vals))
        for field, vals in zip(fields, values, strict=True)
        if len(vals) < len(UNKNOWABLE[field])  # a field that may be anything is no condition
    ]
    if not clauses:
        return None
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = Msg.of(_AND, first=condition, second=clause)
    return Msg.of(_CASE, condition=condition, result=Msg(line.text))


def _button_value(field: str, value: Value) -> str:
    return BY_FIELD[field].button_value(value)


def _either(field: str, values: list[str]) -> Msg:
    """«a», «b» or «c»: the answers' labels as they are on the buttons."""
    labels = [Msg.of(_QUOTED, label=answer_label(field, BY_FIELD[field].stored(v))) for v in values]
    if len(labels) == 1:
        return labels[0]
    listed = labels[0]
    for label in labels[1:-1]:
        listed = Msg.of(_COMMA, first=listed, second=label)
    return Msg.of(_OR, first=listed, second=labels[-1])


def _settles_most(judged: Possibilities, lines: list[_Line]) -> str:
    """The unknown field that, once known, leaves the fewest different results."""
    line_of = {id(b): i for i, line in enumerate(lines) for b in line.branches}
    cases = [(when, line_of[id(b)]) for b in judged.branches for when in b.when]

    def worst(field: str) -> int:
        per_value: dict[str, set[int]] = {}
        for when, line in cases:
            per_value.setdefault(_button_value(field, when[field]), set()).add(line)
        return max(len(lines_left) for lines_left in per_value.values())

    return min(judged.unknown, key=worst)


def _documents(judged: Possibilities, state: State) -> list[Msg]:
    """The documents each possible application would ask for, each list once.

    Lists from cases where the decree applies name their application; the list for an unclear
    case does not, so it is shown only when the application is known (one list)."""
    parts: list[Msg] = []
    affected = [b for b in judged.branches if b.outcome is Outcome.AFFECTED]
    unclear = [b for b in judged.branches if b.outcome is Outcome.UNCLEAR]
    shown = affected or ([] if "application" in judged.unknown else unclear[:1])
    for branch in shown:
        application = state.answers.get("application")
        if "application" in judged.unknown:
            application = branch.when[0]["application"]
        for part in documents_parts(branch.first, application):
            if part not in parts:
                parts.append(part)
    return parts


def _shared_caveats(judged: Possibilities) -> list[str]:
    """The caveats that hold in every case (the servicemen's route is shown with its list)."""
    return [c for c in judged.shared_caveats if c != "citizenship_servicemen_route"]
