"""Telegram's HTML parse mode: what it accepts, the errors it gives, and safe page HTML.

The rules follow https://core.telegram.org/bots/api#html-style: a fixed set of tags,
properly nested, the four named entities and numeric ones; anything else is refused with
"can't parse entities".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

SIMPLE_TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
ATTR_TAGS = {"a", "span", "tg-emoji"}
ENTITIES = {"lt", "gt", "amp", "quot"}
_SAFE_URL = re.compile(r"^(https?://|tg://|mailto:)", re.I)


@dataclass(frozen=True)
class Parsed:
    text: str  # what the reader sees
    page_html: str  # the same, as safe HTML for the sandbox page
    error: str | None


class _Parser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.stack: list[str] = []
        self.text: list[str] = []
        self.page: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def _offset(self) -> int:
        line, col = self.getpos()
        lines = self.source.split("\n")
        chars = sum(len(x) + 1 for x in lines[: line - 1]) + col
        return len(self.source[:chars].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SIMPLE_TAGS:
            kind = SIMPLE_TAGS[tag]
            if kind == "spoiler":
                self.page.append('<span class="spoiler">')
            elif kind == "blockquote":
                self.page.append("<blockquote>")
            else:
                self.page.append(f"<{kind}>")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if _SAFE_URL.match(href):
                self.page.append(f'<a href="{html.escape(href)}" target="_blank" rel="noopener">')
            else:
                self.page.append("<a>")
        elif tag == "span":
            if dict(attrs).get("class") != "tg-spoiler":
                self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
            self.page.append('<span class="spoiler">')
        elif tag == "tg-emoji":
            self.page.append("<span>")
        else:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
            self.page.append("<span>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._offset()}")
            return
        if self.stack[-1] != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._offset()}, expected "
                f'"</{self.stack[-1]}>", found "</{tag}>"'
            )
            return
        self.stack.pop()
        if tag in SIMPLE_TAGS:
            kind = SIMPLE_TAGS[tag]
            self.page.append(
                "</span>"
                if kind == "spoiler"
                else "</blockquote>"
                if kind == "blockquote"
                else f"</{kind}>"
            )
        elif tag == "a":
            self.page.append("</a>")
        else:
            self.page.append("</span>")

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._fail(f'Unsupported start tag "" at byte offset {self._offset()}')
        self.text.append(data)
        self.page.append(html.escape(data, quote=False))

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            self._fail(f'Unsupported HTML entity "&{name};" at byte offset {self._offset()}')
            return
        char = html.unescape(f"&{name};")
        self.text.append(char)
        self.page.append(html.escape(char, quote=False))

    def handle_charref(self, name: str) -> None:
        try:
            char = chr(int(name[1:], 16) if name[:1] in "xX" else int(name))
        except (ValueError, OverflowError):
            self._fail(f"Invalid character reference at byte offset {self._offset()}")
            return
        self.text.append(char)
        self.page.append(html.escape(char, quote=False))


def parse(source: str) -> Parsed:
    """Parse text sent with parse_mode HTML as Telegram would."""
    parser = _Parser(source)
    parser.feed(source)
    parser.close()
    leftover = parser.rawdata if hasattr(parser, "rawdata") else ""
    if leftover:
        offset = len(source[: len(source) - len(leftover)].encode())
        parser._fail(f'Unsupported start tag "" at byte offset {offset}')
    if parser.stack:
        parser._fail(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    # A quote is a block of its own, so the line break on either side of it is drawn by
    # the block; drawn again, "text\n\n<blockquote>" showed two blank lines, not one.
    page = "".join(parser.page).replace("\n<blockquote>", "<blockquote>")
    page = page.replace("</blockquote>\n", "</blockquote>")
    return Parsed("".join(parser.text), page, parser.error)


def plain(source: str) -> Parsed:
    """Text sent without a parse mode: shown literally."""
    return Parsed(source, html.escape(source, quote=False), None)


# Entities a person can give their own text in a Telegram client, and how the page shows
# them. (Links, mentions and the like are found by Telegram itself, not sent.)
FORMATTING = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
}


def utf16_length(text: str) -> int:
    """The length of `text` as the Bot API counts it: in UTF-16 code units, so an emoji
    outside the Basic Multilingual Plane counts two."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_starts(text: str) -> dict[int, int]:
    """Each character's offset in UTF-16 code units, mapped to its index in `text`, and
    the end; an offset in the middle of a surrogate pair is in no key."""
    starts: dict[int, int] = {}
    units = 0
    for index, char in enumerate(text):
        starts[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    starts[units] = len(text)
    return starts


def check_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Formatting entities as the Bot API gives them (type, offset, length in UTF-16 code
    units), checked against `text`: ValueError names the first that Telegram could not
    have sent. Returns them in Telegram's order (by offset, the outer one first)."""
    starts = _utf16_starts(text)
    spans: list[tuple[int, int, str]] = []
    for entity in entities:
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if kind not in FORMATTING:
            raise ValueError(f"unsupported entity type {kind!r}")
        if type(offset) is not int or type(length) is not int:
            raise ValueError("entity offset and length must be integers")
        if offset < 0 or length < 1 or offset + length not in starts or offset not in starts:
            raise ValueError(f"entity {kind} at {offset}+{length} is outside the text")
        spans.append((offset, offset + length, str(kind)))
    spans.sort(key=lambda s: (s[0], -s[1]))
    # Telegram's rule: two entities that share characters must nest, never half overlap.
    for i, (_start, end, _kind) in enumerate(spans):
        for other_start, other_end, _other in spans[i + 1 :]:
            if other_start >= end:
                break
            if other_end > end:
                raise ValueError("entities must not partly overlap")
    return [{"type": k, "offset": s, "length": e - s} for s, e, k in spans]


def entities_html(text: str, entities: list[dict[str, Any]]) -> str:
    """`text` with its (checked) formatting entities, as safe HTML for the page."""
    starts = _utf16_starts(text)
    opening: dict[int, list[tuple[int, str]]] = {}
    for entity in check_entities(text, entities):
        offset, length = entity["offset"], entity["length"]
        start, end = starts[offset], starts[offset + length]
        opening.setdefault(start, []).append((end, str(entity["type"])))
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    for index in range(len(text) + 1):
        while stack and stack[-1][0] == index:
            out.append(FORMATTING[stack.pop()[1]][1])
        for end, kind in opening.get(index, []):
            out.append(FORMATTING[kind][0])
            stack.append((end, kind))
        if index < len(text):
            out.append(html.escape(text[index], quote=False))
    return "".join(out)
