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

__all__ = ["SOURCES", "Certainty", "Source", "weakest"]


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
            "Belarus not covered.",
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
