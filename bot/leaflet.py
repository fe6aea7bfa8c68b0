"""QR codes and a printable A4 leaflet for organisations that share the bot.

`decree-bot link … --qr FILE.svg|FILE.png` writes the link as a QR code (segno);
`decree-bot leaflet --lang tg --org CODE --bot NAME -o FILE.pdf` makes one A4 page in that
language (fpdf2): a large QR code, the bot's @name, what the bot answers, that it is free
and never asks for a name, documents or money, the organisation's name if the operator
listed it, and the date. The text is set in Noto Sans (shipped by the fontpkg-noto-sans
package), which has every letter of our languages: Tajik and Uzbek Cyrillic (ӣ ӯ ҳ қ ғ ҷ ў)
and Azerbaijani (ə). The package ships the variable font only; its default instance (the
regular weight) is embedded as it is, and headings are drawn with an outline to look bold,
because making a static bold instance takes fontTools about a minute.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import fontpkg_noto_sans
import segno
from fpdf import FPDF
from fpdf.enums import TextMode

from bot.conversation.replies import N_
from bot.conversation.screens import LANGUAGE_NAMES
from bot.dates import format_day
from bot.i18n import Renderer

__all__ = ["FONT", "LEAFLET_TEXTS", "leaflet_pdf", "qr_code", "write_qr"]

# fontTools reports every table it subsets at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

#: The variable Noto Sans; its default instance is the regular weight.
FONT = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"

_TITLE = N_("What does Decree (указ) No. 821 mean for you?")
_WHAT = N_(
    "This Telegram bot answers, after a few questions with buttons, whether the decree asks"
    " you or your relative for a document about military service in Russia, or about"
    " unfitness for it, for a residence permit (ВНЖ) or Russian citizenship, and which"
    " documents would do."
)
_SCAN = N_("Scan the code with your phone's camera, or find {bot} in Telegram.")
_FREE = N_("Free; it never asks for your name, documents or money.")
_SHARED_BY = N_("Shared by: {organisation}")
_PRINTED = N_("Printed on {date}.")
_NOT_ADVICE = N_("This is information, not legal advice.")
#: Every message of the leaflet, for the catalog tests.
LEAFLET_TEXTS = (_TITLE, _WHAT, _SCAN, _FREE, _SHARED_BY, _PRINTED, _NOT_ADVICE)

_PAGE_WIDTH = 210.0  # mm, A4
_MARGIN = 18.0
_QR_SIZE = 115.0  # mm: a phone reads it from across a room
_INK = (20, 20, 20)
_ACCENT = (0, 92, 153)


def qr_code(link: str) -> segno.QRCode:
    """The link as a QR code, with error correction for a creased or smudged print."""
    return segno.make_qr(link, error="q")


def write_qr(link: str, target: str) -> None:
    """Write the QR code to an .svg or .png file (`/dev/stdout` writes SVG)."""
    code = qr_code(link)
    if target.lower().endswith(".png"):
        code.save(target, kind="png", scale=10, border=4)
    else:
        code.save(target, kind="svg", scale=10, border=4, xmldecl=True, light="#fff")


def leaflet_pdf(
    *,
    renderer: Renderer,
    lang: str,
    link: str,
    bot: str,
    organisation: str | None,
    day: date,
) -> bytes:
    """One A4 page in `lang`, as PDF bytes."""
    text = renderer.gettext
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(text(_TITLE, lang))
    pdf.set_lang(lang.replace("_", "-"))
    pdf.add_font("Noto", style="", fname=FONT)
    pdf.add_page()
    width = _PAGE_WIDTH - 2 * _MARGIN
    handle = "@" + bot.lstrip("@")

    pdf.set_text_color(*_ACCENT)
    pdf.set_font("Noto", "", 26)
    with _bold(pdf, _ACCENT):
        pdf.multi_cell(width, 11, text(_TITLE, lang), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_text_color(*_INK)
    pdf.set_font("Noto", "", 14)
    pdf.multi_cell(width, 7, text(_WHAT, lang), align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    _draw_qr(pdf, qr_code(link), x=(_PAGE_WIDTH - _QR_SIZE) / 2, y=pdf.get_y(), size=_QR_SIZE)
    pdf.set_y(pdf.get_y() + _QR_SIZE + 2)

    pdf.set_font("Noto", "", 30)
    with _bold(pdf, _INK):
        pdf.cell(width, 13, handle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 12)
    pdf.cell(width, 6, link, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Noto", "", 14)
    pdf.multi_cell(
        width, 7, text(_SCAN, lang).format(bot=handle), align="C", new_x="LMARGIN", new_y="NEXT"
    )

    pdf.ln(4)
    pdf.set_fill_color(235, 243, 250)
    pdf.set_font("Noto", "", 16)
    with _bold(pdf, _INK):
        pdf.multi_cell(
            width, 10, text(_FREE, lang), align="C", fill=True, new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(2)
    pdf.set_font("Noto", "", 11)
    pdf.multi_cell(width, 6, text(_NOT_ADVICE, lang), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        width, 6, " · ".join(LANGUAGE_NAMES.values()), align="C", new_x="LMARGIN", new_y="NEXT"
    )

    pdf.set_y(-_MARGIN - (14 if organisation else 7))
    if organisation:
        pdf.set_font("Noto", "", 12)
        with _bold(pdf, _INK):
            shared = text(_SHARED_BY, lang).format(organisation=organisation)
            pdf.multi_cell(width, 7, shared, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 11)
    pdf.multi_cell(
        width,
        7,
        text(_PRINTED, lang).format(date=format_day(day, lang)),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


@contextlib.contextmanager
def _bold(pdf: FPDF, colour: tuple[int, int, int]) -> Iterator[None]:
    """Text drawn with a thin outline of its own colour: bold enough, from the one weight."""
    pdf.text_mode = TextMode.FILL_STROKE
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.45)
    try:
        yield
    finally:
        pdf.text_mode = TextMode.FILL


def _draw_qr(pdf: FPDF, code: segno.QRCode, *, x: float, y: float, size: float) -> None:
    """The code as filled rectangles (vector: sharp at any printer resolution), with its
    quiet zone of four modules left white."""
    rows = [list(row) for row in code.matrix]
    modules = len(rows) + 8
    cell = size / modules
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # A hair wider, so that neighbouring runs leave no white seam when printed.
            pdf.rect(
                x + (start + 4) * cell,
                y + (r + 4) * cell,
                (c - start) * cell + 0.01,
                cell + 0.01,
                style="F",
            )
