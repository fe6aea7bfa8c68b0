"""Draw the documents question's and the result's keyboards of each language at a phone's width.

A 360 px screen with Telegram's inline buttons: a row shares the width, labels in 15 px bold
Noto Sans (wider than Telegram's own font), a label that does not fit cut with "…" as Telegram
cuts it. It reads the golden transcripts of `father-asks-about-son`, so run
`python -m tests.conversation.golden` first. It names the labels it had to cut and writes one
PNG per keyboard, to look at.

    python tools/render_keyboards.py OUT_DIR ru tg uz uz_Cyrl az
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import fontpkg_noto_sans
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
FONT = ImageFont.truetype(
    str(Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"), 15
)
FONT.set_variation_by_name("Bold")
WIDTH, MARGIN, GAP, HEIGHT, PADDING = 360, 6, 4, 42, 8

Keyboard = list[list[str]]


def keyboards(transcript: Path) -> list[Keyboard]:
    """The keyboards of a golden transcript, in order (a keyboard row is an indented line of
    «[label]» groups)."""
    found: list[Keyboard] = []
    rows: Keyboard = []
    for line in transcript.read_text(encoding="utf-8").splitlines():
        if line.startswith("    ["):
            rows.append(re.findall(r"\[([^\]]*)\]", line))
        elif rows:
            found.append(rows)
            rows = []
    return [*found, rows] if rows else found


def shown(label: str, width: float) -> tuple[str, bool]:
    """The label as a button of `width` shows it, and whether it was cut."""
    if FONT.getlength(label) <= width:
        return label, False
    while label and FONT.getlength(label + "…") > width:
        label = label[:-1]
    return label + "…", True


def draw(rows: Keyboard, path: Path) -> list[str]:
    """Draws the keyboard to `path`; returns the labels that were cut."""
    image = Image.new("RGB", (WIDTH, 2 * MARGIN + len(rows) * (HEIGHT + GAP)), "#dfe7ee")
    pen = ImageDraw.Draw(image)
    cut: list[str] = []
    y = MARGIN
    for row in rows:
        width = (WIDTH - 2 * MARGIN - GAP * (len(row) - 1)) / len(row)
        x: float = MARGIN
        for label in row:
            pen.rounded_rectangle((x, y, x + width, y + HEIGHT), 8, fill="#5b8db8")
            text, was_cut = shown(label, width - 2 * PADDING)
            if was_cut:
                cut.append(label)
            left = x + (width - FONT.getlength(text)) / 2
            pen.text((left, y + 11), text, font=FONT, fill="white")
            x += width + GAP
        y += HEIGHT + GAP
    image.save(path)
    return cut


def main(out: Path, languages: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    cut_any = False
    for lang in languages:
        found = keyboards(ROOT / "tests/conversation/golden" / lang / "father-asks-about-son.txt")
        documents = max(found, key=len)  # the documents question has the most rows
        for name, rows in (("documents", documents), ("result", found[-1])):
            cut = draw(rows, out / f"{lang}-{name}.png")
            cut_any = cut_any or bool(cut)
            sys.stdout.write(f"{lang} {name}: {'cut: ' + ', '.join(cut) if cut else 'all whole'}\n")
    return 1 if cut_any else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
