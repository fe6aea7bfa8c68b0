"""QR codes and leaflets: the code decodes to the link with a real decoder (zbarimg), in the
PNG and SVG files (the SVG drawn by rsvg-convert) and in the leaflet rendered to a picture
(pdftoppm), in every language."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.conversation import LANGUAGES
from bot.dates import format_day
from bot.i18n import Renderer
from bot.leaflet import LEAFLET_TEXTS, leaflet_pdf

ROOT = Path(__file__).resolve().parents[1]
LINK = "https://t.me/DecreeBot?start=uz_Cyrl--ngo1"
#: Letters the leaflet's font must have: Tajik and Uzbek Cyrillic, Azerbaijani.
SPECIAL_LETTERS = "ӣӯҳқғҷўə"


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, (
        f"{name} is needed: `make test` installs it (Debian: zbar-tools, poppler-utils,"
        " librsvg2-bin)"
    )
    return found


def _decode(image: Path) -> list[str]:
    done = subprocess.run(
        [_tool("zbarimg"), "--quiet", "--raw", str(image)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.splitlines()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        check=False,
        env=env,
    )


def test_link_qr_to_stdout_is_an_svg_that_decodes_to_the_link(tmp_path: Path) -> None:
    """The issue's command: `decree-bot link … --qr /dev/stdout` prints the SVG only."""
    done = _cli(
        "link", "--lang", "uz_Cyrl", "--org", "ngo1", "--bot", "DecreeBot", "--qr", "/dev/stdout"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"<?xml")
    assert b"<svg" in done.stdout
    svg = tmp_path / "link.svg"
    svg.write_bytes(done.stdout)
    png = tmp_path / "link.png"
    subprocess.run([_tool("rsvg-convert"), str(svg), "-o", str(png)], check=True)
    assert _decode(png) == [LINK]


def test_link_qr_png_decodes_to_the_printed_link(tmp_path: Path) -> None:
    png = tmp_path / "link.png"
    done = _cli(
        "link", "--lang", "uz-Cyrl", "--org", "ngo1", "--bot", "@DecreeBot", "--qr", str(png)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == LINK
    assert png.read_bytes().startswith(b"\x89PNG")
    assert _decode(png) == [LINK]


def _render(pdf: bytes, tmp_path: Path, name: str) -> tuple[Path, str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [_tool("pdftoppm"), "-r", "100", "-png", "-singlefile", str(path), str(tmp_path / name)],
        check=True,
    )
    text = subprocess.run(
        [_tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return tmp_path / f"{name}.png", text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_leaflet_in_every_language(lang: str, tmp_path: Path, renderer: Renderer) -> None:
    """One A4 page; its picture's QR decodes to the link; its text is the language's."""
    link = f"https://t.me/DecreeBot?start={lang}--ngo1"
    day = date(2026, 12, 2)
    pdf = leaflet_pdf(
        renderer=renderer, lang=lang, link=link, bot="DecreeBot", organisation="Pomoshch", day=day
    )
    info = subprocess.run(
        [_tool("pdfinfo"), "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Pages:           1" in info
    assert "(A4)" in info
    png, text = _render(pdf, tmp_path, lang)
    assert _decode(png) == [link]
    flat = " ".join(text.split())
    for message in LEAFLET_TEXTS:
        expected = renderer.gettext(message, lang).split("{")[0].strip()
        assert " ".join(expected.split()) in flat, (lang, expected)
    assert "@DecreeBot" in flat
    assert "Pomoshch" in flat
    assert format_day(day, lang) in flat


def test_leaflet_font_has_every_letter_of_our_languages(tmp_path: Path, renderer: Renderer) -> None:
    """The letters survive into the PDF as text, so the font has them (a missing glyph would
    be dropped or replaced when the PDF is written)."""
    pdf = leaflet_pdf(
        renderer=renderer,
        lang="tg",
        link=LINK,
        bot="DecreeBot",
        organisation=SPECIAL_LETTERS,
        day=date(2026, 12, 2),
    )
    _, text = _render(pdf, tmp_path, "letters")
    assert SPECIAL_LETTERS in text


def test_leaflet_without_organisation_names_none(tmp_path: Path, renderer: Renderer) -> None:
    pdf = leaflet_pdf(
        renderer=renderer,
        lang="ru",
        link=LINK,
        bot="DecreeBot",
        organisation=None,
        day=date(2026, 12, 2),
    )
    _, text = _render(pdf, tmp_path, "plain")
    assert renderer.gettext("Shared by: {organisation}", "ru").split(":")[0] not in text


def test_leaflet_command_names_the_listed_organisation(tmp_path: Path) -> None:
    helpfile = tmp_path / "help.toml"
    helpfile.write_text(
        '[org.ngo1]\nname = "Ҳамдилӣ"\nlanguages = ["tg"]\n'
        '[org.ngo1.tg]\ntext = "+992 00 000 0000"\n',
        encoding="utf-8",
    )
    out = tmp_path / "leaflet.pdf"
    env = {"PATH": "/usr/bin:/bin", "DECREEBOT_LEGAL_HELP_FILE": str(helpfile)}
    done = _cli(
        "leaflet", "--lang", "tg", "--org", "ngo1", "--bot", "DecreeBot", "-o", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    png, text = _render(out.read_bytes(), tmp_path, "command")
    assert "Ҳамдилӣ" in text
    assert _decode(png) == ["https://t.me/DecreeBot?start=tg--ngo1"]
