"""Postmortem bodies: Markdown written by people, made safe before it reaches a page.

A body is split at its ATX headings (outside fenced code). Each heading stays
a Markdown heading (escaped, so it feeds the page's table of contents) and the
text under it is rendered to HTML here and sanitized with nh3, then placed in
the page as a raw HTML block. The generated Markdown is therefore safe whatever
engine builds it, including engines that run no sanitizer of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import markdown
from markupsafe import Markup

from incidentops.site.sanitize import clean_content

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "admonition", "def_list", "abbr"]


@dataclass(frozen=True)
class Section:
    """One heading of the body (level 0: text before the first heading) and its sanitized HTML."""

    level: int
    heading: str
    html: Markup


def split(body: str) -> list[tuple[int, str, str]]:
    """``(level, heading, markdown)`` per section; level-1 headings count as level 2."""
    sections: list[tuple[int, str, list[str]]] = [(0, "", [])]
    fence: str | None = None
    for line in body.splitlines():
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        heading = _HEADING.match(line) if fence is None else None
        if heading:
            sections.append((max(2, len(heading.group(1))), heading.group(2), []))
        else:
            sections[-1][2].append(line)
    return [(level, title, "\n".join(lines)) for level, title, lines in sections]


def render(body: str) -> list[Section]:
    """The body as sanitized sections, ready for a page."""
    md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    out: list[Section] = []
    for level, heading, text in split(body):
        md.reset()
        html = clean_content(md.convert(text)) if text.strip() else ""
        if level == 0 and not html:
            continue
        block = f'<div class="io-md">{one_line(html)}</div>' if html else ""
        out.append(Section(level, heading, Markup(block)))
    return out


_PRE = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)


def one_line(html: str) -> str:
    """HTML on one line (newlines in <pre> become &#10;), so Markdown keeps it as one raw block."""
    parts = _PRE.split(html)
    return "".join(
        part.replace("\n", "&#10;") if index % 2 else part.replace("\n", " ")
        for index, part in enumerate(parts)
    )
