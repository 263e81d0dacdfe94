"""Plain text and links from an HTML body (an HTML-only mail, an .htm attachment).

html.parser does the parsing; :func:`_defuse` first keeps hostile markup from
making it quadratic.  Pure, no I/O.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .charsets import SPACE_RUN


class _HTMLText(HTMLParser):
    """Plain text (script/style dropped, breaks at block elements) and hrefs."""

    BLOCK = frozenset((
        "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "ol", "p", "pre", "section", "table", "tr", "ul"))
    SKIP = frozenset(("script", "style", "title", "template", "xml"))

    def __init__(self, inline_links: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hrefs: list[str] = []
        self.seen: set[str] = set()
        self.skip = self.pre = 0
        self.inline_links = inline_links
        self.anchor: tuple[str, int] | None = None  # (href, where its words start in out)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in self.BLOCK:
            self.out.append("\n")
            self.pre += tag == "pre"
        if tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            if href and href not in self.seen:  # a set: a list lookup was quadratic
                self.seen.add(href)
                self.hrefs.append(href)
            self.anchor = (href, len(self.out)) if href.startswith(("http://", "https://")) \
                else None

    def handle_endtag(self, tag):
        if tag == "a" and self.anchor and self.inline_links:
            href, start = self.anchor
            if href.rstrip("/") not in "".join(self.out[start:]):  # "点击观看" -> "点击观看 https://…"
                self.out.append(f" {href} ")
            self.anchor = None
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.out.append("\n")
            self.pre = max(0, self.pre - (tag == "pre"))

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data if self.pre else SPACE_RUN.sub(" ", data))

    def text(self) -> str:
        lines = [line.strip(" ") for line in "".join(self.out).replace("\xa0", " ").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_NOT_A_TAG = re.compile(r"<(?!!--)(?=[^<>]*<)")  # another "<" comes before any ">"


def _defuse(html: str) -> str:
    """*html* with the "<" that open no tag written as "&lt;", and likewise every
    "<!--" after the last "-->".  html.parser rescans the rest of the document for
    each of them: quadratic, minutes for 100 KB of "<a <a <a".  Text unchanged."""
    html = _NOT_A_TAG.sub("&lt;", html)
    last = html.rfind("-->")
    return html[:last + 1] + html[last + 1:].replace("<!--", "&lt;!--")


def html_to_text(html: str, inline_links: bool = False) -> tuple[str, tuple[str, ...]]:
    """Return (plain text, hrefs in order, de-duplicated) of an HTML document; with
    *inline_links*, each web link's address follows its anchor's words in the text (unless
    they already show it)."""
    parser = _HTMLText(inline_links)
    html = _defuse(html)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser has asserted on garbage before
        return re.sub(r"<[^>]*>", " ", html).strip(), tuple(parser.hrefs)
    return parser.text(), tuple(parser.hrefs)
