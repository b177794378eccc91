"""Where each page of the site lives: page names, ``SiteOptions`` and the links between pages.

Used by the renderer (pages.py) and by everything that links to a page
(the feed, the dashboard); it uses nothing else of the site.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

PAGE_HOME = "index.md"
PAGE_INCIDENTS = "incidents/index.md"
PAGE_TESTS = "regressions/index.md"
PAGE_AUDIT = "audit.md"
PAGE_REVIEWS = "reviews/index.md"
PAGE_RELEASES = "releases/index.md"
PAGE_POLICY = "policy.md"
PAGE_REFERENCE = "reference.md"


def incident_page(incident_id: str) -> str:
    return f"incidents/{incident_id}/index.md"


def postmortem_page(incident_id: str) -> str:
    return f"incidents/{incident_id}/postmortem.md"


def test_page(test_id: str) -> str:
    return f"regressions/{test_id}.md"


def reference_page(kind: str) -> str:
    return f"reference/{kind}.md"


def review_page(stem: str) -> str:
    return f"reviews/{stem}.md"


def release_page(stem: str) -> str:
    return f"releases/{stem}.md"


@dataclass(frozen=True)
class SiteOptions:
    """How the pages link out.

    ``edit_base``: URL that registry-relative paths are appended to for "edit"
    links (e.g. ``https://github.com/org/repo/edit/main/``), or None.
    ``site_url``: absolute URL of the site (the feed links with it when set).
    ``use_directory_urls``: MkDocs' setting of the same name (links must match it).
    """

    edit_base: str | None = None
    site_url: str | None = None
    use_directory_urls: bool = False
    site_name: str = "Incident registry"


def page_url(src: str, use_directory_urls: bool) -> str:
    """The URL (relative to the site root) MkDocs gives the page built from ``src``."""
    if not src.endswith(".md"):
        return src
    stem = src[:-3]
    if not use_directory_urls:
        return stem + ".html"
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def relative_url(target_src: str, current_src: str, use_directory_urls: bool) -> str:
    """A link from the page built from ``current_src`` to ``target_src`` (plus ``#anchor``)."""
    target, _, anchor = target_src.partition("#")
    target_url = page_url(target, use_directory_urls) if target else page_url(current_src, use_directory_urls)
    current_url = page_url(current_src, use_directory_urls)
    if use_directory_urls and current_src.endswith(".md"):
        base = current_url if current_url.endswith("/") or not current_url else posixpath.dirname(current_url)
    else:
        base = posixpath.dirname(current_url)
    rel = posixpath.relpath(target_url or ".", base or ".")
    if target_url.endswith("/") and not rel.endswith("/"):
        rel = rel + "/" if rel != "." else "./"
    if use_directory_urls and rel == ".":
        rel = "./"
    return rel + (f"#{anchor}" if anchor else "")
