"""Escaping for record values on their way into generated Markdown.

A record value can land in three places, each with its own rule:

* inline Markdown (headings, table cells, list items): :func:`inline` escapes
  HTML *and* every character Python-Markdown would read as syntax, so a title
  such as ``[x](javascript:alert(1))`` stays text instead of becoming a link;
* a block of prose (summaries, reasons): :func:`prose` emits a raw HTML block
  with escaped paragraphs, which Markdown passes through untouched;
* a page title: :func:`safe_title` swaps the characters that matter to HTML for
  look-alikes, because themes print titles without escaping them.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

# Python-Markdown's ESCAPED_CHARS plus "|" (tables). ">" and "<" are left to HTML escaping.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
# XML 1.0 forbids these; HTML shows them as garbage. Records should never hold them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_TITLE_SWAP = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "”", "'": "’", "`": "ˋ", "\\": "∖"})
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")


def plain(value: Any) -> str:
    """A record value as plain one-line-per-line text, without control characters."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _CONTROL.sub("", str(value))


def inline(value: Any) -> Markup:
    """``value`` as inline Markdown that renders as exactly its text."""
    text = " ".join(plain(value).split())
    return Markup(html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True))


def prose(value: Any, css_class: str = "io-text") -> Markup:
    """Free text as a raw HTML block of escaped paragraphs (blank lines split paragraphs).

    The block starts and ends on its own lines so that Markdown keeps it verbatim;
    templates must leave a blank line before and after it.
    """
    text = plain(value).strip()
    if not text:
        return Markup("")
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text)]
    body = "".join(f"<p>{html.escape(p, quote=True)}</p>" for p in paragraphs if p)
    return Markup(f'<div class="{html.escape(css_class)}">{body}</div>')


def safe_title(value: Any) -> str:
    """A one-line title with no character an unescaping template could turn into markup."""
    return " ".join(plain(value).split()).translate(_TITLE_SWAP)


def front_matter_title(value: Any) -> Markup:
    """A YAML double-quoted scalar holding :func:`safe_title` of ``value``."""
    return Markup(json.dumps(safe_title(value), ensure_ascii=False))


def url_part(value: Any) -> str:
    """One path segment of a link, percent-encoded."""
    return quote(plain(value), safe="")


def is_safe_name(value: str) -> bool:
    """Whether ``value`` can name a generated page file (ids, file stems)."""
    return bool(_SAFE_NAME.match(value)) and ".." not in value
