"""Hosting the built site on a (sub-)path: the 404 page, where a lost reader gets back on track.

MkDocs renders ``404.html`` with links from the root of ``site_url`` (``/``
without one): on a project Pages site (``https://org.github.io/<repo>/``) the
theme's stylesheets and scripts then load only when ``site_url`` names the
sub-path. The page itself says "404 - Not found" and nothing else; this
module adds what a reader needs there: a search hint and links to the main
pages, from the same root as the theme's own links.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from incidentops.site.urls import (
    PAGE_HOME,
    PAGE_INCIDENTS,
    PAGE_REFERENCE,
    PAGE_RELEASES,
    PAGE_REVIEWS,
    PAGE_TESTS,
    page_url,
)

NOT_FOUND = "404.html"
_HEADING = "<h1>404 - Not found</h1>"
MARK = 'class="io-not-found"'
LINKS = (
    (PAGE_HOME, "Dashboard"),
    (PAGE_INCIDENTS, "Incidents"),
    (PAGE_TESTS, "Regression catalog"),
    (PAGE_REVIEWS, "Quarterly reviews"),
    (PAGE_RELEASES, "Release gate"),
    (PAGE_REFERENCE, "Field reference"),
)


def root_path(site_url: str | None) -> str:
    """The path every link of the 404 page starts from: that of ``site_url``, else ``/``."""
    path = urlsplit(site_url).path if site_url else "/"
    return path if path.endswith("/") else path + "/"


def not_found_body(site_url: str | None, use_directory_urls: bool) -> str:
    """The help the 404 page gives: search, and links to the main pages."""
    root = root_path(site_url)
    items = "".join(
        f'<li><a href="{html.escape(root + page_url(src, use_directory_urls), quote=True)}">{label}</a></li>'
        for src, label in LINKS
    )
    return (
        f'<div {MARK}><p>There is no page at this address: the record may have been renamed, retired'
        " into the archive, or left out of this edition. Search the registry with the search box above"
        f" (press <kbd>/</kbd>), or go to one of these pages:</p><ul>{items}</ul></div>"
    )


def patch_not_found(page: str, site_url: str | None, use_directory_urls: bool) -> str:
    """The theme's 404 page with :func:`not_found_body` after its heading (once)."""
    if MARK in page or _HEADING not in page:
        return page
    return page.replace(_HEADING, _HEADING + not_found_body(site_url, use_directory_urls), 1)
