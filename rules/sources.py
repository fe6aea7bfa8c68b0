"""The public sources the rules rest on, each with its date and how far we trust it.

The full text of Decree No. 821 and its two regulations could not be read when these rules
were written, so every rule rests on reports about the decree. Confidence follows the
project's factsheet: high = two independent sources agree or the decree text is quoted;
medium = one reputable outlet (or one family of outlets); low = a blog, an aggregator, a
partisan outlet or an unclear passage. Versions of one RFE/RL story count as one source.

URLs are for maintainers. The bot never shows them: several outlets are blocked or banned in
Russia and following such a link can put a user at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = [
    "REVIEWED_ON",
    "SEARCHES",
    "SOURCES",
    "SOURCES_AS_OF",
    "Certainty",
    "Search",
    "Source",
    "weakest",
]


class Certainty(StrEnum):
    """How sure we are of a statement, from the sources it rests on."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


_RANK = {Certainty.LOW: 0, Certainty.MEDIUM: 1, Certainty.HIGH: 2}


def weakest(levels: tuple[Certainty, ...]) -> Certainty:
    """The lowest certainty among `levels` (a chain is as strong as its weakest link)."""
    return min(levels, key=_RANK.__getitem__, default=Certainty.LOW)


@dataclass(frozen=True, slots=True)
class Source:
    """One public source: what it is, when it appeared and what it supports."""

    id: str
    title: str
    published: date | None
    url: str
    supports: str
    confidence: Certainty
    #: True for outlets that Russia has blocked or designated; never shown as a link.
    restricted_in_russia: bool = False


_H, _M, _L = Certainty.HIGH, Certainty.MEDIUM, Certainty.LOW

SOURCES: dict[str, Source] = {
    s.id: s
    for s in (
        Source(
            "S1",
            "Radio Svoboda, «Система» investigation",
            date(2025, 12, 12),
            "https://www.svoboda.org/a/migranty-voina-systema/33621409.html",
            "The requirement for ordinary male applicants; grounds of long residence and family;"
            " reported cases.",
            _M,
            restricted_in_russia=True,
        ),
        Source(
            "S2",
            "RFE/RL, English version of the «Система» investigation",
            date(2025, 12, 12),
            "https://www.rferl.org/a/putin-decree-russian-citizensip-residence-permit/33621628.html",
            "Exemptions (Belarus, highly qualified specialists, study), Kazakhstan and Moldova"
            " (citizenship only), Ukraine (separate rules), documents for citizenship.",
            _M,
            restricted_in_russia=True,
        ),
        Source(
            "S3",
            "Radio Svoboda talk show with a migration lawyer",
            date(2025, 12, 12),
            "https://www.svoboda.org/a/za-pasport-rf-pridetsya-povoevatj/33621790.html",
            "Grounds covered; students and returning compatriots exempt.",
            _M,
            restricted_in_russia=True,
        ),
        Source(
            "S4",
            "Interior Ministry (МВД) clarification, reported by TASS via news.mail.ru",
            date(2025, 12, 13),
            "https://news.mail.ru/politics/69081855/",
            "Men 18–65 with legal capacity, foreign citizens and stateless persons; residence"
            " permit after a year on a temporary residence permit; the accepted documents.",
            _H,
        ),
        Source(
            "S5",
            "news.mail.ru summary of the decree",
            date(2025, 11, 5),
            "https://news.mail.ru/politics/68599744/",
            "The decree's two regulations; Belarus; the discharge extract and the selection-point"
            " decision; orders to the Defence Ministry and МЧС.",
            _H,
        ),
        Source(
            "S6",
            "news.mail.ru, the decree's preamble",
            date(2025, 11, 5),
            "https://news.mail.ru/society/68599100/",
            "Legal basis; foreign citizens and stateless persons.",
            _H,
        ),
        Source(
            "S7",
            "NSN",
            date(2025, 11, 5),
            "https://nsn.fm/society/putin-utverdil-uproschennyi-poryadok-polucheniya-grazhdanstva-dlya-uchastnikov-svo",
            "Entry into force on publication; men 18–65 with legal capacity; the route for"
            " contract servicemen.",
            _M,
        ),
        Source(
            "S8",
            "URA.ru",
            date(2025, 11, 5),
            "https://ura.news/news/1053030726",
            "Publication; the route for contract servicemen and relatives.",
            _M,
        ),
        Source(
            "S9",
            "Gazeta.ru",
            date(2025, 11, 5),
            "https://www.gazeta.ru/social/news/2025/11/05/27113432.shtml",
            "Publication; Belarus not covered; the discharge extract.",
            _M,
        ),
        Source(
            "S10",
            "Nakanune.ru",
            date(2025, 11, 6),
            "https://www.nakanune.ru/news/2025/11/6/22845071/",
            "Belarus not covered; men aged 18 to 65 under the citizenship regulation (legal audit"
            " of December 2026, part B5).",
            _M,
        ),
        Source(
            "S11",
            "Kommersant",
            date(2025, 11, 5),
            "https://www.kommersant.ru/doc/8180732",
            "Earlier decrees repealed; the route for contract servicemen.",
            _M,
        ),
        Source(
            "S12",
            "Life.ru, Radio 1, Moskva agency",
            date(2025, 11, 5),
            "https://life.ru/p/1806906",
            "The operative clause; the route for contract servicemen.",
            _H,
        ),
        Source(
            "S13",
            "Russkaya Vesna",
            date(2025, 11, 27),
            "https://m.rusvesna.su/news/1764279929",
            "Women and minors not affected; only honours graduates exempt.",
            _L,
        ),
        Source(
            "S14",
            "Anonymous explainer blog",
            date(2025, 11, 28),
            "https://decree821.blogspot.com",
            "Age range; unfitness certificates.",
            _L,
        ),
        Source(
            "S15",
            "Aggregator rewrites of the RFE/RL story",
            None,
            "https://atlantisthemes.com/?p=25398",
            "Age range; a contract of at least a year.",
            _L,
        ),
        Source(
            "L1",
            "TASS and Kommersant: law on military registration of new citizens",
            date(2024, 8, 8),
            "https://tass.ru/obschestvo/21563419",
            "New citizens must register for military service or may lose citizenship.",
            _H,
        ),
    )
}

#: The newest source the rules rest on: the Interior Ministry's clarification (S4).
SOURCES_AS_OF = date(2025, 12, 13)

#: The day a maintainer last searched for sources newer than SOURCES_AS_OF (see SEARCHES).
#: Stamp it only after searching; answers given long after it carry a caveat and lose certainty.
REVIEWED_ON = date(2026, 12, 2)


@dataclass(frozen=True, slots=True)
class Search:
    """One search for newer sources: where, what was asked, and what came back."""

    corpus: str
    query: str
    found: str


#: The searches behind REVIEWED_ON, made on that day with the project's search tool (stored
#: public pages, documentation and issue threads; no live web). The stored pages seem to end
#: in about March 2026, so "nothing new" means nothing new *there*: check
#: publication.pravo.gov.ru and the Interior Ministry's site before relying on a rule.
SEARCHES: tuple[Search, ...] = (
    Search(
        "pages",
        "указ 821 военная служба ВНЖ",
        "Only known items: S1, S13, S14 (blog, 28 Nov 2025). Nothing dated after 13 Dec 2025.",
    ),
    Search(
        "pages",
        "указ 821 разъяснение МВД иностранцы контракт",
        "Nothing on Decree 821; unrelated Interior Ministry drafts (2024).",
    ),
    Search(
        "pages",
        "decree 821 residence permit military service foreigners 2026",
        "Only the S14 blog and older items on earlier decrees (2023, 2024).",
    ),
    Search(
        "pages",
        "указ 821 МЧС контракт вид на жительство",
        "Nothing on Decree 821; МЧС housing orders unrelated to it.",
    ),
    Search(
        "pages",
        "иностранцы ВНЖ контракт с Минобороны справка о негодности 2026",
        "S4 (13 Dec 2025), S5, S1, the S14 blog; RBC of 5 Nov 2025 also says the decree takes"
        " effect on publication (not yet cited; it would support decree_in_force). An undated"
        " local Interior Ministry page on contract service in general. Nothing newer.",
    ),
    Search(
        "pages",
        "Указ Президента 821 изменения продление временный порядок гражданство",
        "No amendment, extension or end date; only the 5 Nov 2025 announcement (S12).",
    ),
    Search(
        "pages",
        "указ 821 Казахстан Молдова вид на жительство исключение",
        "No source on Kazakhstan or Moldova under Decree 821 beyond S2; only Kazakhstan's own"
        " residence rules (March 2026), which are unrelated.",
    ),
    Search(
        "pages",
        "военный билет иностранного государства служба в армии своей страны ВНЖ указ 821",
        "No source says whether papers from another country's army count. S4 repeated.",
    ),
    Search(
        "pages",
        "migrants Russia residence permit army contract requirement Tajik Uzbek 2026 news",
        "Republications of S2 (13 Dec 2025) and aggregators (S15). Nothing newer.",
    ),
    Search(
        "docs",
        "decree 821 Russia foreigners army contract residence permit",
        "Nothing relevant: general pages on Law 115-ФЗ and unrelated gists.",
    ),
    Search(
        "issues",
        "указ 821 ВНЖ военная служба",
        "Nothing relevant: unrelated issue threads.",
    ),
)
