"""The result a person reads: the finding of the rules, turned into short paragraphs.

It starts with a status mark: 🔴 affected and no document yet, 🟢 not affected or already
met, 🟡 unclear, separate rules, or a document whose fit is uncertain. Then what it means,
the documents that would satisfy it, how certain this is, the caveats, the date of the
information, that this is not legal advice, where to get legal help, and a safety warning.
"""

from __future__ import annotations

from bot.conversation.codec import NAV_NOTIFY, NAV_RESTART, NAV_REVIEW, NAV_SHARE, NAV_WHY
from bot.conversation.questions import BY_FIELD, answer_label, in_question_order
from bot.conversation.replies import N_, Bullets, Button, Ext, Msg, Pair, Reply
from bot.conversation.state import Mode, State
from bot.conversation.texts import CAVEAT_TEXT, DOCUMENT_TEXT, REASON_TEXT, SOURCE_TEXT
from rules import (
    DECREE_DATE,
    REVIEWED_ON,
    SOURCES_AS_OF,
    Application,
    Certainty,
    Document,
    Finding,
    Outcome,
)

__all__ = [
    "CERTAINTY_TEXT",
    "NOTICE_OFFER_BUTTON",
    "documents_parts",
    "explanation",
    "footer_parts",
    "headline",
    "key_caveat",
    "result_buttons",
    "result_reply",
    "share_close",
    "share_note",
    "share_replies",
    "status_line",
    "why_reply",
]

#: Under every result: "Tell me if this changes" (notices, see `bot.conversation.notice`).
NOTICE_OFFER_BUTTON = Button(Msg(N_("Tell me if this changes")), NAV_NOTIFY)

# No "yet" or "already": the bot does not suggest that anyone should get one of the documents.
_AFFECTED_NOT_MET = {
    Mode.SELF: N_("🔴 The decree applies to you. You have none of the listed documents."),
    Mode.RELATIVE: N_(
        "🔴 The decree applies to your relative. He has none of the listed documents."
    ),
    Mode.NGO: N_("🔴 The decree applies to this person. He has none of the listed documents."),
}
_AFFECTED_MET = {
    Mode.SELF: N_("🟢 The decree applies to you, and your document already meets it."),
    Mode.RELATIVE: N_("🟢 The decree applies to your relative, and his document already meets it."),
    Mode.NGO: N_("🟢 The decree applies to this person, and his document already meets it."),
}
_AFFECTED_UNSURE = {
    Mode.SELF: N_("🟡 The decree applies to you. It is not certain that your document meets it."),
    Mode.RELATIVE: N_(
        "🟡 The decree applies to your relative. It is not certain that his document meets it."
    ),
    Mode.NGO: N_(
        "🟡 The decree applies to this person. It is not certain that his document meets it."
    ),
}
_NOT_AFFECTED = {
    Mode.SELF: N_("🟢 The decree's military requirement does not apply to you."),
    Mode.RELATIVE: N_("🟢 The decree's military requirement does not apply to your relative."),
    Mode.NGO: N_("🟢 The decree's military requirement does not apply to this person."),
}
_NOT_AFFECTED_REPORTED = {
    Mode.SELF: N_(
        "🟢 According to reports, the decree's military requirement does not apply to you."
    ),
    Mode.RELATIVE: N_(
        "🟢 According to reports, the decree's military requirement does not apply to your"
        " relative."
    ),
    Mode.NGO: N_(
        "🟢 According to reports, the decree's military requirement does not apply to this person."
    ),
}
_SEPARATE_UNKNOWN = N_(
    "What these separate rules say has not been reported. Ask a lawyer or the migration office."
)
_SEPARATE = {
    Mode.SELF: N_("🟡 According to reports, separate rules apply to you as a citizen of Ukraine."),
    Mode.RELATIVE: N_(
        "🟡 According to reports, separate rules apply to your relative as a citizen of Ukraine."
    ),
    Mode.NGO: N_(
        "🟡 According to reports, separate rules apply to this person as a citizen of Ukraine."
    ),
}
_UNCLEAR = {
    Mode.SELF: N_("🟡 It is not clear whether the decree applies to you."),
    Mode.RELATIVE: N_("🟡 It is not clear whether the decree applies to your relative."),
    Mode.NGO: N_("🟡 It is not clear whether the decree applies to this person."),
}

_NEEDS_DOCUMENT = {
    Application.RESIDENCE_PERMIT: N_(
        "To get a residence permit (вид на жительство, ВНЖ), the migration office will ask for"
        " one of these documents:\n{documents}"
    ),
    Application.CITIZENSHIP: N_(
        "According to reports, to get Russian citizenship (гражданство РФ) one of these"
        " documents is needed:\n{documents}"
    ),
}
_WOULD_NEED_DOCUMENT = N_(
    "If the decree applies, one of these documents would be needed:\n{documents}"
)

_CERTAINTY = {
    "high": N_("How certain: high. Several sources agree."),
    "medium": N_(
        "How certain: medium. This rests on one reliable source, or on several articles from one"
        " publication."
    ),
    "low": N_("How certain: low. The sources are unclear or disagree on this point."),
}


def _headline(finding: Finding, mode: Mode) -> str:
    return status_line(finding.outcome, finding.requirement_met, finding.certainty, mode)


def status_line(
    outcome: Outcome, requirement_met: bool | None, certainty: Certainty, mode: Mode
) -> str:
    """The status line of an answer (also for the answer a notice says was given before)."""
    if outcome is Outcome.AFFECTED:
        if requirement_met is True:
            return _AFFECTED_MET[mode]
        if requirement_met is False:
            return _AFFECTED_NOT_MET[mode]
        return _AFFECTED_UNSURE[mode]
    if outcome is Outcome.NOT_AFFECTED:
        # Only what several sources (one official) agree on is stated as plain fact.
        return _NOT_AFFECTED[mode] if certainty is Certainty.HIGH else _NOT_AFFECTED_REPORTED[mode]
    if outcome is Outcome.SEPARATE_RULES:
        return _SEPARATE[mode]
    return _UNCLEAR[mode]


def _bullets(texts: list[str]) -> Bullets:
    return Bullets(tuple(Msg(text) for text in texts))


#: Reasons that leave the answer open: the first one found explains an "unclear" result.
_OPEN_REASONS = (
    "citizenship_kz_md_residence_permit",
    "grounds_highly_qualified_specialist",
    "grounds_study",
    "grounds_compatriot_program",
    "grounds_other",
)
#: Reasons that leave open whether a document held meets the requirement.
_OPEN_DOCUMENT_REASONS = ("document_foreign_military", "document_needs_discharge_extract")
#: The one caveat a forwarded result keeps, the first found in this order.
_KEY_CAVEATS = (
    "rules_not_reviewed_recently",
    "unfitness_via_selection_point",
    "full_text_unpublished",
)


def _key_reason(finding: Finding) -> str | None:
    """The one reason that explains the result's mark (separate rules have their own)."""
    if finding.outcome is Outcome.NOT_AFFECTED:
        return finding.reasons[-1]
    if finding.outcome is Outcome.UNCLEAR:
        return next((r for r in _OPEN_REASONS if r in finding.reasons), "facts_missing")
    if finding.outcome is Outcome.AFFECTED and finding.requirement_met is None:
        return next((r for r in _OPEN_DOCUMENT_REASONS if r in finding.reasons), None)
    return None


def _caveat(code: str) -> Msg:
    if code == "rules_not_reviewed_recently":
        return Msg.of(CAVEAT_TEXT[code], date=REVIEWED_ON)
    return Msg(CAVEAT_TEXT[code])


def key_caveat(finding: Finding) -> list[Msg]:
    """The one caveat a short form (a share, a notice) keeps, if the finding has one."""
    key = next((c for c in _KEY_CAVEATS if c in finding.caveats), None)
    return [] if key is None else [_caveat(key)]


def explanation(finding: Finding) -> list[Msg]:
    """The sentence under the mark: why it is this result."""
    if finding.outcome is Outcome.SEPARATE_RULES:
        return [Msg(_SEPARATE_UNKNOWN)]  # the headline already names the separate rules
    key = _key_reason(finding)
    return [] if key is None else [Msg(REASON_TEXT[key])]


#: For citizenship the sources describe two routes; they are shown apart so that the usual
#: route's documents are not mixed with the servicemen's route (a contract, a recent discharge).
_USUAL_ROUTE = (Document.UNFITNESS_DECISION, Document.SERVICE_BEFORE_2022_02_24)
_SERVICEMEN_ROUTE = N_(
    "For those who serve or served under contract after 24 February 2022 there is a separate"
    " route to citizenship. It accepts these documents:\n{documents}"
)


def _documents(finding: Finding, application: str | list[str] | None) -> list[Msg]:
    if not finding.accepted_documents or not isinstance(application, str):
        return []
    lead = (
        _NEEDS_DOCUMENT[Application(application)]
        if finding.outcome is Outcome.AFFECTED
        else _WOULD_NEED_DOCUMENT
    )
    accepted = finding.accepted_documents
    if application != Application.CITIZENSHIP:
        return [Msg.of(lead, documents=_bullets([DOCUMENT_TEXT[d.value] for d in accepted]))]
    usual = [d for d in accepted if d in _USUAL_ROUTE]
    other = [d for d in accepted if d not in _USUAL_ROUTE]
    parts = [Msg.of(lead, documents=_bullets([DOCUMENT_TEXT[d.value] for d in usual]))]
    if other:
        servicemen = _bullets([DOCUMENT_TEXT[d.value] for d in other])
        parts.append(Msg.of(_SERVICEMEN_ROUTE, documents=servicemen))
    return parts


def result_reply(finding: Finding, state: State) -> Reply:
    """The result message and what the person can do next."""
    mode = state.mode or Mode.SELF
    parts = [Msg(_headline(finding, mode)), *explanation(finding)]
    parts += _documents(finding, state.answers.get("application"))
    parts.append(Msg(_CERTAINTY[finding.certainty.value]))
    # The servicemen's route is already shown with its documents; do not say it twice.
    caveats = [_caveat(c) for c in finding.caveats if c != "citizenship_servicemen_route"]
    if caveats:
        parts.append(Msg.of(N_("Please note:\n{items}"), items=Bullets(tuple(caveats))))
    parts += _footer(state.org)
    if mode is Mode.NGO:
        parts.append(
            Msg.of(
                N_("For organisations: share this link, it opens the bot: {link}"),
                link=Ext("bot_link"),
            )
        )
    return Reply(tuple(parts), result_buttons(), edit=True)


def result_buttons() -> tuple[tuple[Button, ...], ...]:
    """What the person can do under a result: one button a row, since two side by side leave
    each about 20 characters on a phone."""
    return (
        (Button(Msg(N_("Why this result?")), NAV_WHY),),
        (Button(Msg(N_("Share")), NAV_SHARE),),
        (Button(Msg(N_("Change an answer")), NAV_REVIEW),),
        (NOTICE_OFFER_BUTTON,),
        (Button(Msg(N_("Start over")), NAV_RESTART),),
    )


_DECREE = N_("Decree (указ) No. 821 of {decree_date}.")


def _as_of() -> Msg:
    """Both dates: the newest source, and the last search for newer ones."""
    return Msg.of(
        N_("Information as of {date}; last checked for newer sources on {reviewed}."),
        date=SOURCES_AS_OF,
        reviewed=REVIEWED_ON,
    )


def _footer(org: str | None = None) -> list[Msg]:
    return [
        _as_of(),
        Msg.of(_DECREE, decree_date=DECREE_DATE),
        Msg(N_("This is information, not legal advice.")),
        Msg.of(N_("Where to get legal help:\n{contacts}"), contacts=Ext("legal_help", org)),
        Msg(N_("This bot is free. It never asks for documents, money or personal details.")),
    ]


def why_reply(finding: Finding, state: State) -> Reply:
    """The facts used, the rules applied and the sources behind them."""
    answers = Bullets(
        tuple(
            Pair(Msg(BY_FIELD[f].title), answer_label(f, v))
            for f, v in in_question_order(state.answers)
        )
    )
    parts = [Msg(N_("Why this result?"))]
    if answers.items:
        parts.append(Msg.of(N_("Answers used:\n{items}"), items=answers))
    parts.append(
        Msg.of(
            N_("Rules applied:\n{items}"), items=_bullets([REASON_TEXT[r] for r in finding.reasons])
        )
    )
    parts.append(
        Msg.of(
            N_("Sources (news reports and an official clarification):\n{items}"),
            items=_bullets([SOURCE_TEXT[s] for s in finding.sources]),
        )
    )
    return Reply(tuple(parts))


def share_replies(finding: Finding, application: str | list[str] | None) -> tuple[Reply, Reply]:
    """A note, then a text to forward to family: the result in neutral words, no personal data.

    It keeps what stops a family from reading it as a firm demand: the certainty, the key
    caveat, "not legal advice" and the dates the information rests on.
    """
    parts = [
        Msg.of(_DECREE, decree_date=DECREE_DATE),
        Msg(_headline(finding, Mode.NGO)),
        *explanation(finding),
    ]
    if finding.outcome is Outcome.AFFECTED:
        parts += _documents(finding, application)
    return share_note(), Reply((*parts, *share_close(finding)), standalone=True)


def share_note() -> Reply:
    """The line before a text to forward."""
    return Reply(
        (Msg(N_("Forward the next message to anyone it may help. It contains no personal data.")),)
    )


def share_close(finding: Finding) -> list[Msg]:
    """The end of every text to forward: the certainty, the key caveat, "not legal advice",
    both dates and the bot's link. A forwarded answer is read without the bot around it, so
    none of these may be left out (a relative would take it as firmer than it is)."""
    return [
        Msg(_CERTAINTY[finding.certainty.value]),
        *key_caveat(finding),
        Msg(N_("This is information, not legal advice.")),
        _as_of(),
        Msg.of(N_("Check your own case, in your language: {link}"), link=Ext("bot_link")),
    ]


#: The same texts for the result with branches (`branches.py`), said the same way.
headline = _headline
documents_parts = _documents
footer_parts = _footer
CERTAINTY_TEXT = _CERTAINTY
