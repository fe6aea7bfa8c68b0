"""Runs a persona in a language and returns its transcript (`python -m tests.conversation.golden`
rewrites the checked-in files after a deliberate change)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.conversation import LANGUAGES
from bot.i18n import Renderer
from tests.conftest import make_renderer
from tests.conversation.harness import Chat
from tests.conversation.personas import PERSONAS, TYPED_ARMENIA, Persona

__all__ = ["GOLDEN_DIR", "golden_path", "run_persona"]

GOLDEN_DIR = Path(__file__).parent / "golden"


def golden_path(lang: str, persona: Persona) -> Path:
    """Where the transcript of `persona` in `lang` is kept."""
    return GOLDEN_DIR / lang / f"{persona.name}.txt"


async def run_persona(persona: Persona, lang: str, renderer: Renderer) -> Chat:
    """Play the persona's steps; returns the chat with its transcript."""
    chat = Chat(renderer)
    chat.log += [f"# {persona.name} ({lang}): {persona.about}", ""]
    for kind, *args in persona.steps:
        values = [a.format(lang=lang, armenia=TYPED_ARMENIA[lang]) for a in args]
        if kind == "start":
            await chat.start(values[0] if values else None)
        elif kind == "cmd":
            await chat.command(values[0])
        elif kind == "type":
            await chat.type(values[0])
        elif len(values) == 2 and values[1] == "edit":
            await chat.press(f"{values[0]}", edit=True)
        elif len(values) == 2 and values[1] == "old":
            await chat.press(values[0], old=1)
        elif len(values) == 2:
            await chat.press(values[0], old=int(values[1]))
        else:
            await chat.press(values[0])
    return chat


def main(argv: list[str]) -> int:
    """Rewrite the golden transcripts: all, or `--lang xx [--out DIR]` for one language."""
    langs = LANGUAGES
    out = GOLDEN_DIR
    if "--lang" in argv:
        langs = (argv[argv.index("--lang") + 1],)
    if "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
    renderer = make_renderer()
    for lang in langs:
        for persona in PERSONAS:
            chat = asyncio.run(run_persona(persona, lang, renderer))
            path = out / lang / f"{persona.name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(chat.text() + "\n", encoding="utf-8")
    print(f"wrote {len(langs) * len(PERSONAS)} transcripts under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
