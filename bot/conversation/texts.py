"""Sentences for the codes the rules produce: reasons, caveats, documents and sources.

Every reason and caveat code of `rules` has exactly one sentence here (a test checks), in
neutral wording that fits every mode. Official Russian terms follow in parentheses.
"""

from __future__ import annotations

from bot.conversation.replies import N_

__all__ = ["CAVEAT_TEXT", "DOCUMENT_TEXT", "REASON_TEXT", "SOURCE_TEXT"]

REASON_TEXT: dict[str, str] = {
    "decree_not_in_force": N_("On this date the decree had not yet been signed."),
    "decree_in_force": N_("The decree has applied since it was published on 5 November 2025."),
    "decree_in_force_confirmed": N_(
        "The decree has applied since 5 November 2025. In December 2025 the Interior Ministry"
        " (МВД) confirmed that the requirement is applied."
    ),
    "sex_female": N_("The requirement applies only to men."),
    "sex_male": N_("The requirement applies to men."),
    "age_under_18": N_("The requirement applies to men aged 18 to 65, so not to minors."),
    "age_in_range": N_("The requirement applies to men aged 18 to 65."),
    "age_at_upper_limit": N_(
        "The requirement applies to men aged 18 to 65. It is not clear whether a man who is"
        " exactly 65 is included."
    ),
    "age_over_65": N_("The requirement applies to men aged 18 to 65, so not to older men."),
    "age_over_65_citizenship": N_(
        "The requirement applies to men aged 18 to 65. This upper limit is confirmed for a"
        " residence permit; for citizenship fewer sources report it."
    ),
    "legal_capacity_full": N_(
        "The requirement applies to people with legal capacity (дееспособные): those whom no"
        " court has declared legally incapable."
    ),
    "legal_capacity_none": N_(
        "The requirement does not apply to people whom a court has declared legally incapable"
        " (недееспособные)."
    ),
    "citizenship_belarus": N_("Citizens of Belarus are not covered by the requirement."),
    "citizenship_ukraine": N_(
        "Separate rules apply to citizens of Ukraine. What these rules say has not been reported."
    ),
    "citizenship_kz_md_residence_permit": N_(
        "One news outlet reports that for citizens of Kazakhstan and Moldova the requirement"
        " covers only citizenship, not a residence permit. The Interior Ministry's clarification"
        " names no such exception. Please check with the migration office before you apply."
    ),
    "citizenship_kz_md_citizenship": N_(
        "For citizens of Kazakhstan and Moldova the requirement is reported to apply to"
        " citizenship applications."
    ),
    "stateless": N_("Stateless persons (лица без гражданства) are covered."),
    "citizenship_covered": N_("No source names an exception for this country."),
    "application_residence_permit": N_(
        "The requirement covers applications for a residence permit (ВНЖ)."
    ),
    "application_citizenship": N_("The requirement covers applications for Russian citizenship."),
    "grounds_long_residence_permit": N_(
        "The Interior Ministry says it covers a residence permit requested after at least a year"
        " with a temporary residence permit (РВП)."
    ),
    "grounds_long_residence": N_("Applications based on years of living in Russia are covered."),
    "grounds_family": N_(
        "Applications based on family are covered. We have not found an exact list of family"
        " grounds."
    ),
    "grounds_highly_qualified_specialist": N_(
        "One news outlet reports that highly qualified specialists (ВКС) are exempt. The"
        " Interior Ministry's clarification does not mention this. Please check with the"
        " migration office before you apply."
    ),
    "grounds_study": N_(
        "Some people who apply on the basis of study are reported to be exempt, but sources"
        " disagree on who: all students, graduates, or only graduates with honours."
    ),
    "grounds_compatriot_program": N_(
        "Only one source says that participants of the compatriot programme are exempt. This"
        " has not been confirmed."
    ),
    "grounds_other": N_("No source says whether the requirement covers these grounds."),
    "documents_residence_permit": N_("For a residence permit, one of four documents is accepted."),
    "documents_citizenship": N_(
        "For citizenship, the documents accepted are reported less clearly than for a residence"
        " permit."
    ),
    "document_held": N_("The document you chose is on the list of accepted documents."),
    "document_held_emergency_contract": N_(
        "A contract with МЧС России is on the list, but sources describe its terms less clearly"
        " than those of a contract with Минобороны России."
    ),
    "document_none": N_("You said there is none of the listed documents."),
    "document_needs_discharge_extract": N_(
        "Past service in Russia's armed forces or МЧС is proved by an extract from the order of"
        " discharge from military service (выписка из приказа об увольнении с военной службы)."
        " Please check that this extract is at hand."
    ),
    "document_foreign_military": N_(
        "A military ID, a discharge or an unfitness paper from another country's army is not on"
        " the list. No source says whether such papers count: the migration office decides."
        " Please get legal advice before you apply."
    ),
    "facts_missing": N_("Some answers are still missing."),
}

CAVEAT_TEXT: dict[str, str] = {
    "full_text_unpublished": N_(
        "We could not read the full text of the decree. This answer is based on news reports"
        " and an official clarification."
    ),
    "standard_documents_still_needed": N_(
        "The document about military service is needed in addition to the usual documents, not"
        " instead of them."
    ),
    "contract_at_least_one_year": N_("A contract must be for at least one year."),
    "unfitness_via_selection_point": N_(
        "Sources disagree on who issues the unfitness document. The Interior Ministry speaks of"
        " unfitness found when a man applies for contract service, at a selection point (пункт"
        " отбора на военную службу по контракту). Ask a lawyer before you go there."
    ),
    "citizenship_servicemen_route": N_(
        "Servicemen have a separate route to citizenship: a contract, or a discharge, after 24"
        " February 2022. Sources do not say clearly how it relates to the usual route."
    ),
    "new_citizens_military_registration": N_(
        "Men who become Russian citizens must register for military service (воинский учёт). If"
        " they do not, their citizenship can be terminated (прекращение гражданства)."
    ),
    "age_boundary": N_(
        "This age is close to a limit of the range. It is not clear on which day age is counted."
    ),
    "age_at_application": N_(
        "What counts is the age on the day of applying. For an application made at 18 or older,"
        " the requirement applies."
    ),
    "rules_not_reviewed_recently": N_(
        "These rules were last checked against the sources on {date}. They may have changed since."
    ),
    "highly_qualified_specialist_meaning": N_(
        "It is not clear whether this means only the official status of a highly qualified"
        " specialist (ВКС), with its salary threshold."
    ),
}

DOCUMENT_TEXT: dict[str, str] = {
    "military_contract": N_(
        "a contract with Russia's Defence Ministry (Минобороны России) for military service of at"
        " least one year (контракт о прохождении военной службы)"
    ),
    "emergency_contract": N_(
        "a contract for service in the rescue military units of Russia's Emergencies Ministry"
        " (контракт с МЧС России)"
    ),
    "discharge_extract": N_(
        "an extract from the order of discharge from military service in Russia's armed forces"
        " or МЧС, on reaching the age limit, at the end of service or on health grounds"
        " (выписка из приказа об увольнении с военной службы)"
    ),
    "unfitness_decision": N_(
        "a decision of a Russian selection point or военкомат that the man is unfit for military"
        " service (заключение о негодности к военной службе)"
    ),
    "service_before_2022_02_24": N_(
        "proof of service in Russia's armed forces or МЧС that ended before 24 February 2022"
    ),
    "foreign_military_document": N_(
        "a military ID, a discharge or an unfitness paper from another country's army"
    ),
}

SOURCE_TEXT: dict[str, str] = {
    "S1": N_("Radio Svoboda, investigation"),
    "S2": N_("RFE/RL, investigation in English"),
    "S3": N_("Radio Svoboda, interview with a migration lawyer"),
    "S4": N_("Interior Ministry (МВД) clarification, reported by TASS"),
    "S5": N_("News summary of the decree (news.mail.ru)"),
    "S6": N_("The decree's preamble, quoted by news.mail.ru"),
    "S7": N_("NSN news agency"),
    "S8": N_("URA.ru news agency"),
    "S9": N_("Gazeta.ru"),
    "S10": N_("Nakanune.ru"),
    "S11": N_("Kommersant newspaper"),
    "S12": N_("Life.ru and other short news reports"),
    "S13": N_("Russkaya Vesna website"),
    "S14": N_("An anonymous blog about the decree"),
    "S15": N_("News aggregator websites"),
    "L1": N_("TASS and Kommersant, on the law about military registration of new citizens"),
}
