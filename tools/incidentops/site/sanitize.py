"""HTML sanitizing with nh3: page content, and whole pages after the theme rendered them.

Two allowlists:

* ``CONTENT``: what a page body may hold: Python-Markdown's output (tables,
  admonitions, footnotes, highlighted code, permalinks) and the site's inline
  SVG charts. No scripts, no event handlers, no ``javascript:`` URLs, no images
  from other hosts (browsing must not reach the network).
* ``DOCUMENT``: the content allowlist extended with Material's page chrome
  (header, navigation drawer, search form, palette toggle, icons), which keeps
  the ids of the theme's own controls (``__drawer``, ``__palette_0``...) that
  page content may never take. The theme's
  own ``<script>`` elements outside the article are set aside before cleaning
  and put back afterwards; everything else goes through nh3 (the article
  itself was cleaned with the content allowlist). The repository
  link stays, but loses the hook that makes the theme call the forge's API:
  browsing the site makes no request to another host.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import nh3

SVG_TAGS = frozenset({"svg", "g", "rect", "line", "text", "tspan", "title", "desc", "path", "polyline", "circle"})
CONTENT_TAGS = frozenset(nh3.ALLOWED_TAGS) | SVG_TAGS | {"figure", "figcaption", "section", "input"}
DOCUMENT_TAGS = CONTENT_TAGS | {"header", "nav", "main", "label", "form", "button", "input", "aside", "footer"}

_SVG_ATTRS = {
    "svg": {"viewBox", "viewbox", "xmlns", "role", "width", "height", "focusable", "preserveAspectRatio"},
    "rect": {"x", "y", "width", "height", "rx", "ry"},
    "line": {"x1", "x2", "y1", "y2"},
    "text": {"x", "y", "dx", "dy", "text-anchor", "dominant-baseline"},
    "tspan": {"x", "y", "dx", "dy"},
    "path": {"d", "fill-rule", "clip-rule"},
    "polyline": {"points"},
    "circle": {"cx", "cy", "r"},
}
CONTENT_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title", "lang", "dir", "role", "hidden"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},
    "time": {"datetime"},
    **_SVG_ATTRS,
}
DOCUMENT_ATTRIBUTES: dict[str, set[str]] = {
    **CONTENT_ATTRIBUTES,
    "*": CONTENT_ATTRIBUTES["*"] | {"tabindex"},
    "a": {"href", "name", "rel", "target", "hreflang"},
    "input": {"type", "checked", "disabled", "name", "placeholder", "autocomplete", "autocapitalize",
              "autocorrect", "spellcheck", "required", "value", "for"},
    "label": {"for"},
    "form": {"name"},
    "button": {"type", "name", "value"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_ABSOLUTE = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|\\\\)")


#: the ids Material gives its own controls: the drawer, search and TOC toggles, the palette's radio
#: buttons and the navigation's section toggles. Its labels point at them (``<label for="__drawer">``):
#: without them the menu never opens and the palette toggle does nothing.
_THEME_ID = re.compile(r"^__(?:drawer|search|toc|consent|palette_\d{1,2}|nav_\d{1,3}(?:_\d{1,3}){0,4}(?:_label)?)$")


def _filter(input_allowed: bool, chrome: bool) -> Callable[[str, str, str], str | None]:
    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src" and _ABSOLUTE.match(value):
            return None  # an image from another host would be a network request
        if attribute == "id" and value.startswith("__") and not (chrome and _THEME_ID.match(value)):
            return None  # the theme's own element ids (__drawer, __palette_0...) are not the content's to take
        if element == "input" and attribute == "type" and not input_allowed and value != "checkbox":
            return None
        if attribute == "data-md-component" and value == "source":
            return None  # the theme would fetch the repository's stars from the forge's API
        return value

    return keep


_CONTENT_FILTER = _filter(input_allowed=False, chrome=False)
_DOCUMENT_FILTER = _filter(input_allowed=True, chrome=True)


def clean_content(fragment: str) -> str:
    """Sanitize a page's content HTML (what Markdown produced)."""
    return nh3.clean(
        fragment,
        tags=set(CONTENT_TAGS),
        attributes=CONTENT_ATTRIBUTES,
        attribute_filter=_CONTENT_FILTER,
        generic_attribute_prefixes={"aria-", "data-io-"},
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def clean_body(fragment: str) -> str:
    """Sanitize the inside of a page's <body> (content plus the theme's chrome)."""
    return nh3.clean(
        fragment,
        tags=set(DOCUMENT_TAGS),
        attributes=DOCUMENT_ATTRIBUTES,
        attribute_filter=_DOCUMENT_FILTER,
        generic_attribute_prefixes={"aria-", "data-"},
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=False,
    )


_BODY = re.compile(r"(<body\b[^>]*>)(.*)(</body>)", re.DOTALL | re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.DOTALL | re.IGNORECASE)
_ARTICLE = re.compile(r"<article\b.*?</article\s*>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"(<title>)(.*?)(</title>)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


@dataclass
class DocumentCleaner:
    """Sanitizes whole pages; one instance per build (its placeholder token is random)."""

    token: str = ""

    def __post_init__(self) -> None:
        if not self.token:
            self.token = "iokeep" + secrets.token_hex(12)

    def clean(self, page: str) -> str:
        """``page`` with a plain-text <title> and a sanitized <body> (theme scripts kept).

        The article (the page content) was sanitized with the stricter content
        allowlist already (:func:`clean_content`, in ``on_page_content``): it is
        set aside like the theme's scripts, minus any script, so that each part
        of the page goes through nh3 once.
        """
        page = _TITLE.sub(lambda m: m.group(1) + _plain_title(m.group(2)) + m.group(3), page, count=1)
        match = _BODY.search(page)
        if match is None:
            return page
        kept: list[str] = []

        def stash(text: str) -> str:
            kept.append(text)
            return f"{self.token}x{len(kept) - 1}x"

        inner = _ARTICLE.sub(lambda m: stash(_SCRIPT.sub("", m.group(0))), match.group(2))
        inner = _SCRIPT.sub(lambda m: stash(m.group(0)), inner)
        cleaned = clean_body(inner)
        for index in range(len(kept) - 1, -1, -1):
            cleaned = cleaned.replace(f"{self.token}x{index}x", kept[index], 1)
        return page[: match.start(2)] + cleaned + page[match.end(2):]


def _plain_title(text: str) -> str:
    return html.escape(html.unescape(_TAG.sub("", text)).strip(), quote=False)
