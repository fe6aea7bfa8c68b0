"""Turn `parse_mode` text into what the user sees: plain text plus message entities.

Telegram rejects badly formatted text with 400 "can't parse entities", which is one of the
commonest production bugs of bots (an unescaped `.` in MarkdownV2, a stray `<` in HTML). The
fake reproduces those rejections for HTML and MarkdownV2 and strips the markup so transcripts
read like the chat. Entity offsets are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

JSON = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# A `<` that does not open or close a tag: Telegram refuses it, Python's parser would not.
_BARE_LT = re.compile(r"<(?![A-Za-z/])")
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough"}
_MD2_MARKERS["||"] = "spoiler"


class FormattingError(ValueError):
    """The text would make Telegram answer `Bad Request: can't parse entities: ...`."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _HtmlToEntities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pos = 0
        self.stack: list[tuple[str, JSON]] = []
        self.entities: list[JSON] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        attributes = dict(attrs)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise FormattingError(f'Unsupported start tag "{tag}"')
        entity: JSON = {"type": kind, "offset": self.pos}
        if tag == "a":
            entity["url"] = attributes.get("href") or ""
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> is one `pre` entity with a language.
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
            entity["type"] = ""
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise FormattingError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise FormattingError(f'Unexpected end tag "{tag}"')
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            raise FormattingError(f'Unmatched end tag "{tag}", expected "</{open_tag}>"')
        entity["length"] = self.pos - entity["offset"]
        if entity["type"] and entity["length"] > 0:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += utf16_len(data)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    if match := _BARE_LT.search(source):
        offset = len(source[: match.start()].encode())
        raise FormattingError(f"Unexpected end of name token at byte offset {offset}")
    parser = _HtmlToEntities()
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise FormattingError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
        )
    return "".join(parser.parts), sorted(parser.entities, key=lambda e: e["offset"])


class _MarkdownToEntities:
    """MarkdownV2 (strict: reserved characters must be escaped) or legacy Markdown."""

    def __init__(self, source: str, *, v2: bool) -> None:
        self.src = source
        self.v2 = v2
        self.parts: list[str] = []
        self.pos = 0
        self.open: list[tuple[str, int]] = []
        self.entities: list[JSON] = []
        self.quote: int | None = None  # start of the `>` blockquote being read

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def toggle(self, marker: str, kind: str) -> None:
        if self.open and self.open[-1][0] == marker:
            _, start = self.open.pop()
            if self.pos > start:
                self.entities.append({"type": kind, "offset": start, "length": self.pos - start})
        elif any(m == marker for m, _ in self.open):
            raise FormattingError(f"Can't find end of {kind} entity")
        else:
            self.open.append((marker, self.pos))

    def close_quote(self) -> None:
        start, self.quote = self.quote or 0, None
        length = self.pos - start - (1 if "".join(self.parts).endswith("\n") else 0)
        if length > 0:
            self.entities.append({"type": "blockquote", "offset": start, "length": length})

    def code(self, i: int) -> int:
        """Handle ``` pre ``` or ` code ` starting at i; return the index after it."""
        fence = "```" if self.src.startswith("```", i) else "`"
        end = i + len(fence)
        body: list[str] = []
        while not self.src.startswith(fence, end):
            if end >= len(self.src):
                raise FormattingError(f"Can't find end of the entity starting at byte offset {i}")
            if self.src[end] == "\\" and self.v2 and end + 1 < len(self.src):
                end += 1
            body.append(self.src[end])
            end += 1
        text = "".join(body)
        entity: JSON = {"type": "code"}
        if fence == "```":
            language, newline, rest = text.partition("\n")
            if newline and language and " " not in language:
                text, entity = rest, {"type": "pre", "language": language}
            else:
                entity = {"type": "pre"}
        entity.update(offset=self.pos, length=utf16_len(text))
        self.emit(text)
        if entity["length"]:
            self.entities.append(entity)
        return end + len(fence)

    def link_end(self, i: int) -> int:
        """At `]` closing `[text`: read `(url)` and close the text_link; return next index."""
        close = self.src.find(")", i + 2)
        if not self.src.startswith("(", i + 1) or close < 0:
            if self.v2:
                raise FormattingError("Character ']' is reserved and must be escaped")
            self.emit("]")
            return i + 1
        start = self.open.pop()[1]
        url = self.src[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
        self.entities.append(
            {"type": "text_link", "offset": start, "length": self.pos - start, "url": url}
        )
        return close + 1

    def marker_at(self, i: int) -> str | None:
        pair = self.src[i : i + 2]
        if self.v2 and pair in ("__", "||"):
            return pair
        if not self.v2 and self.open and self.src[i] != self.open[-1][0]:
            return None  # legacy Markdown does not nest: other markers are literal inside
        if self.src[i] in "*_" or (self.v2 and self.src[i] == "~"):
            return self.src[i]
        return None

    def step(self, i: int) -> int:
        """Consume the markup or character at i; return the next index."""
        src, c = self.src, self.src[i]
        line_start = i == 0 or src[i - 1] == "\n"
        if line_start and self.quote is not None and c != ">":
            self.close_quote()
        if self.v2 and line_start and c == ">":
            # `>` opening a line starts (or continues) a blockquote.
            self.quote = self.pos if self.quote is None else self.quote
            return i + 1
        if c == "\\" and i + 1 < len(src) and (self.v2 or src[i + 1] in "_*`["):
            self.emit(src[i + 1])
            return i + 2
        if c == "`":
            return self.code(i)
        if (marker := self.marker_at(i)) is not None:
            self.toggle(marker, _MD2_MARKERS[marker])
            return i + len(marker)
        if c == "[":
            self.open.append(("[", self.pos))
            return i + 1
        if c == "]" and self.open and self.open[-1][0] == "[":
            return self.link_end(i)
        if self.v2 and c in _MD2_RESERVED:
            raise FormattingError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        self.emit(c)
        return i + 1

    def run(self) -> tuple[str, list[JSON]]:
        i = 0
        while i < len(self.src):
            i = self.step(i)
        if self.quote is not None:
            self.close_quote()
        if self.open:
            marker = self.open[-1][0]
            raise FormattingError(f"Can't find end of the entity starting with {marker!r}")
        return "".join(self.parts), sorted(self.entities, key=lambda e: e["offset"])


def apply_parse_mode(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Return (visible text, entities); raise FormattingError like Telegram would."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdownv2", "markdown"):
        return _MarkdownToEntities(text, v2=mode == "markdownv2").run()
    if mode:
        raise FormattingError(f"Unsupported parse_mode {parse_mode!r}")
    return text, []
