"""Build settings shared by the MkDocs plugin and `incidentops site generate`.

Environment variables (read by both, so that ``mkdocs build`` honours them too):
``INCIDENTOPS_PUBLIC=1`` makes a public build; ``INCIDENTOPS_AS_OF=2026-11-27``
pins the date the figures are computed for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from incidentops import clock
from incidentops.site.pages import SiteOptions

ENV_PUBLIC = "INCIDENTOPS_PUBLIC"
ENV_AS_OF = "INCIDENTOPS_AS_OF"
_TRUE = {"1", "true", "yes", "on"}


def env_public() -> bool:
    """Whether the environment asks for a public build."""
    return os.environ.get(ENV_PUBLIC, "").strip().lower() in _TRUE


def parse_as_of(value: str | None) -> datetime:
    """The plugin's ``as_of`` option, else ``INCIDENTOPS_AS_OF``, else now (UTC)."""
    return clock.parse_as_of(value or os.environ.get(ENV_AS_OF), what="as_of")


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


def site_options(config: Mapping[str, Any], root: Path) -> SiteOptions:
    """Link settings from a loaded MkDocs configuration."""
    docs_dir = Path(str(config.get("docs_dir") or "docs"))
    return SiteOptions(
        edit_base=edit_base(config.get("repo_url"), config.get("edit_uri"), docs_dir, root),
        site_url=config.get("site_url") or None,
        use_directory_urls=bool(config.get("use_directory_urls", True)),
        site_name=str(config.get("site_name") or "Incident registry"),
    )
