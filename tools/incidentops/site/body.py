"""Postmortem bodies: Markdown written by people, made safe before it reaches a page.

A body is rendered to HTML here and sanitized with nh3, then cut at its
headings. Each heading becomes a Markdown heading again (escaped, so it feeds
the page's table of contents) and the HTML under it is placed in the page as a
raw HTML block. The generated Markdown is therefore safe whatever
engine builds it, including engines that run no sanitizer of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import markdown
from markupsafe import Markup

from incidentops.site.sanitize import clean_content

EXTENSIONS = ["tables", "fenced_code", "sane_lists", "admonition", "def_list", "abbr"]


@dataclass(frozen=True)
class Section:
    """One heading of the body (level 0: text before the first heading) and its sanitized HTML."""

    level: int
    heading: str
    html: Markup


_HTML_HEADING = re.compile(r"<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_MD = markdown.Markdown(extensions=EXTENSIONS, output_format="html")


def render(body: str) -> list[Section]:
    """The body as sanitized sections, ready for a page.

    The whole body is rendered and sanitized at once, then cut at its top-level
    headings (headings inside raw HTML are cut too, which only splits a section).
    """
    _MD.reset()
    html = clean_content(_MD.convert(body))
    out: list[Section] = []
    level, heading, start = 0, "", 0
    for match in _HTML_HEADING.finditer(html):
        out.append(_section(level, heading, html[start:match.start()]))
        level = max(2, int(match.group(1)))
        heading = " ".join(unescape(_TAG.sub("", match.group(2))).split())
        start = match.end()
    out.append(_section(level, heading, html[start:]))
    return [s for s in out if s.level or s.html]


def _section(level: int, heading: str, html: str) -> Section:
    html = html.strip()
    return Section(level, heading, Markup(f'<div class="io-md">{one_line(html)}</div>' if html else ""))


_PRE = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)


def one_line(html: str) -> str:
    """HTML on one line (newlines in <pre> become &#10;), so Markdown keeps it as one raw block."""
    parts = _PRE.split(html)
    return "".join(
        part.replace("\n", "&#10;") if index % 2 else part.replace("\n", " ")
        for index, part in enumerate(parts)
    )
