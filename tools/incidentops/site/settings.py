"""Build settings shared by the MkDocs plugin and `incidentops site generate`.

Environment variables (read by both, so that ``mkdocs build`` honours them too):
``INCIDENTOPS_PUBLIC=1`` makes a public build; ``INCIDENTOPS_AS_OF=2026-11-27``
pins the date the figures are computed for; ``INCIDENTOPS_SITE_URL`` gives the
site's address when mkdocs.yml has no ``site_url`` (the Pages workflow passes the
one GitHub gives it). A value the tool does not know is an error, never a guess:
``INCIDENTOPS_PUBLIC=public`` must not quietly build the internal edition.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from incidentops.records import clock
from incidentops.records.errors import IncidentOpsError
from incidentops.site.urls import SiteOptions

ENV_PUBLIC = "INCIDENTOPS_PUBLIC"
ENV_AS_OF = "INCIDENTOPS_AS_OF"
ENV_SITE_URL = "INCIDENTOPS_SITE_URL"
PUBLIC_VALUES = ("1", "true", "yes", "on")
INTERNAL_VALUES = ("0", "false", "no", "off")


def parse_public(value: str | None, what: str = ENV_PUBLIC) -> bool:
    """``INCIDENTOPS_PUBLIC``: True for 1/true/yes/on, False for 0/false/no/off or unset/empty.

    Raises :class:`IncidentOpsError` naming ``what`` and the accepted values for anything else.
    """
    text = (value or "").strip().lower()
    if text in PUBLIC_VALUES:
        return True
    if not text or text in INTERNAL_VALUES:
        return False
    raise IncidentOpsError(
        f"{what}={value!r} is not a value it accepts",
        f"set {what} to {', '.join(PUBLIC_VALUES)} for the public edition,"
        f" or to {', '.join(INTERNAL_VALUES)} (or leave it unset) for the internal one",
    )


def env_public() -> bool:
    """Whether the environment asks for a public build (an unknown value is an error)."""
    return parse_public(os.environ.get(ENV_PUBLIC))


def parse_site_url(value: str | None, what: str = ENV_SITE_URL) -> str | None:
    """The site's address (``https://org.github.io/repo/``), ending in ``/``; None when unset or empty."""
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise IncidentOpsError(
            f"{what}={value!r} is not the address of a site",
            "give the absolute address the site is published at, such as https://example-org.github.io/registry/",
        )
    return text if text.endswith("/") else text + "/"


def site_url(configured: str | None, override: str | None = None) -> str | None:
    """The site URL a build uses: ``override`` (``--site-url``), else ``INCIDENTOPS_SITE_URL``, else mkdocs.yml's."""
    for value, what in ((override, "--site-url"), (os.environ.get(ENV_SITE_URL), ENV_SITE_URL),
                        (configured, "site_url")):
        found = parse_site_url(value, what)
        if found is not None:
            return found
    return None


def parse_as_of(value: str | None) -> datetime:
    """The plugin's ``as_of`` option, else ``INCIDENTOPS_AS_OF``, else now (UTC)."""
    if value:
        return clock.parse_as_of(value, what="as_of")
    return clock.parse_as_of(os.environ.get(ENV_AS_OF), what=ENV_AS_OF)


def edit_base(repo_url: str | None, edit_uri: str | None, docs_dir: Path, root: Path) -> str | None:
    """The URL that registry-relative record paths are appended to for "edit" links.

    MkDocs' ``edit_uri`` points at ``docs_dir`` in the repository (e.g.
    ``edit/main/docs/``); the records live at the registry root, usually its
    parent, so the base is ``edit_uri`` followed by the way from one to the other.
    """
    if not repo_url or not edit_uri:
        return None
    try:
        way = os.path.relpath(root.resolve(), docs_dir.resolve()).replace(os.sep, "/")
    except ValueError:  # different drives on Windows
        return None
    uri = edit_uri if edit_uri.endswith("/") else edit_uri + "/"
    joined = urljoin(repo_url.rstrip("/") + "/", uri + ("" if way == "." else way + "/"))
    return joined if joined.endswith("/") else joined + "/"


def record_edit_uri(record: str, docs_dir: Path, root: Path) -> str:
    """``record`` (registry-relative) as a path relative to ``docs_dir``, for MkDocs' edit button."""
    return os.path.relpath((root / record).resolve(), docs_dir.resolve()).replace(os.sep, "/")


class _Tolerant(yaml.SafeLoader):
    """Reads mkdocs.yml, which may hold tags such as !!python/name: (their values become None)."""


_Tolerant.add_multi_constructor("", lambda loader, suffix, node: None)


def read_mkdocs_config(path: Path) -> dict[str, Any]:
    """mkdocs.yml as data, ``docs_dir`` made absolute (tags such as ``!!python/name:`` read as None)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Tolerant)
    except (OSError, yaml.YAMLError) as exc:
        raise IncidentOpsError(f"{path}: cannot read the MkDocs configuration: {exc}", "fix the file") from exc
    if not isinstance(data, dict):
        raise IncidentOpsError(f"{path}: the MkDocs configuration is not a mapping", "fix the file")
    base = path.resolve().parent
    docs_dir = base / str(data.get("docs_dir") or "docs")
    return {**data, "docs_dir": str(docs_dir), "use_directory_urls": data.get("use_directory_urls", True)}


def site_options(config: Mapping[str, Any], root: Path) -> SiteOptions:
    """Link settings from a loaded MkDocs configuration."""
    docs_dir = Path(str(config.get("docs_dir") or "docs"))
    return SiteOptions(
        edit_base=edit_base(config.get("repo_url"), config.get("edit_uri"), docs_dir, root),
        site_url=site_url(config.get("site_url") or None),
        use_directory_urls=bool(config.get("use_directory_urls", True)),
        site_name=str(config.get("site_name") or "Incident registry"),
    )
