"""The site built with Zensical, the Material team's successor to MkDocs + Material.

Zensical reads ``mkdocs.yml`` but runs no MkDocs plugin (it ignores those it
does not implement, silently), so the ``incidentops`` plugin's pages, assets
and checks would simply be missing. This engine does the plugin's work around
a Zensical build:

* the pages are rendered once (:func:`incidentops.site.pages.render`, the same
  Markdown the plugin hands MkDocs) into a private project folder, with the
  hand-written pages of ``docs_dir``;
* a configuration for that folder is derived from ``mkdocs.yml``: the
  ``incidentops`` plugin out, ``search`` and ``offline`` in (search from
  ``file://``), the site's stylesheet, script and the search worker shim
  linked, the classic (Material) look, ``site_url`` as the build resolves it;
* pages too large for Zensical's search index (it refuses a field of more
  than 16,384 token positions and stops the build) are left out of search:
  they are list pages whose every row has its own, searchable page;
* the built pages are sanitized as the plugin sanitizes them, the 404 page
  gets its links, and a public edition is scanned for leaks
  (:mod:`incidentops.site.leaks`) before anything is published.

Zensical runs as its own process (``python -m zensical build``): it has no
public Python API yet.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import Finding
from incidentops.records.registry import Registry
from incidentops.site import hosting, leaks, pages, settings
from incidentops.site.collect import SiteData
from incidentops.site.sanitize import DocumentCleaner

ENGINES = ("mkdocs", "zensical")
#: Zensical refuses a search field above this many token positions
SEARCH_TOKEN_LIMIT = 16384
#: pages estimated above this many tokens are left out of search (a margin for the estimate)
SEARCH_TOKEN_BUDGET = 12000
INSTALL_HINT = "install it with `pip install 'incidentops[zensical]'` (or `pip install zensical`)"
# Material's search separator, which Zensical uses too
_SEPARATOR = re.compile(r"[\s\-_,:!=\[\]()\\\"`/]+|\.(?!\d)")
_TAG = re.compile(r"<[^>]*>")
_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)


@dataclass
class ZensicalBuild:
    """What a Zensical build made: the site folder, what it showed, and what a public edition leaked."""

    site_dir: Path
    data: SiteData
    pages: int
    unsearchable: list[str] = field(default_factory=list)
    leaks: list[Finding] = field(default_factory=list)
    output: str = ""


class StrictWarnings(IncidentOpsError):
    """A ``--strict`` Zensical build stopped on warnings (each ``file:line:col: message``)."""

    def __init__(self, warned: list[str]) -> None:
        super().__init__(f"Zensical stopped on {len(warned)} warning(s) (--strict): {'; '.join(warned[:5])}",
                         "fix what each warning names, or build without --strict")
        self.warnings = warned


def available() -> bool:
    """Whether Zensical is installed in this Python environment."""
    return importlib.util.find_spec("zensical") is not None


def search_tokens(markdown: str) -> int:
    """About how many token positions Zensical's search index gives a page (its text, tags left out)."""
    return sum(1 for token in _SEPARATOR.split(_TAG.sub(" ", markdown)) if token)


def exclude_from_search(markdown: str) -> str:
    """The page with ``search: {exclude: true}`` in its front matter (Material's and Zensical's switch)."""
    match = _FRONT.match(markdown)
    if match is None:
        return "---\nsearch:\n  exclude: true\n---\n" + markdown
    return f"---\nsearch:\n  exclude: true\n{match.group(1)}---\n" + markdown[match.end():]


def project_config(config: Mapping[str, Any], site_url: str | None) -> dict[str, Any]:
    """The Zensical configuration of the private project folder, derived from ``mkdocs.yml``."""
    out = {key: value for key, value in config.items() if key not in ("docs_dir", "site_dir", "config_file_path")}
    out["docs_dir"] = "docs"
    out["site_dir"] = "site"
    if site_url:
        out["site_url"] = site_url
    else:
        out.pop("site_url", None)
    out["use_directory_urls"] = bool(config.get("use_directory_urls", True))
    theme = dict(config.get("theme") or {}) if isinstance(config.get("theme"), Mapping) else {"name": "material"}
    theme.setdefault("name", "material")
    theme.setdefault("variant", "classic")  # the look of Material for MkDocs, which the site's styles are made for
    out["theme"] = theme
    # The pages carry their own "edit this record" links; the theme's button would edit the generated page.
    out.pop("edit_uri", None)
    features = theme.get("features")
    if isinstance(features, list):
        theme["features"] = [f for f in features if f != "content.action.edit"]
    plugins: list[Any] = []
    for plugin in config.get("plugins") or []:
        name = plugin if isinstance(plugin, str) else next(iter(plugin), "") if isinstance(plugin, Mapping) else ""
        if name != "incidentops":
            plugins.append(plugin)
    names = [p if isinstance(p, str) else next(iter(p), "") for p in plugins if isinstance(p, str | Mapping)]
    for needed in ("search", "offline"):  # offline: search works from file://
        if needed not in names:
            plugins.append(needed)
    out["plugins"] = plugins
    out["extra_css"] = [*[c for c in config.get("extra_css") or [] if c != pages.ASSET_CSS], pages.ASSET_CSS]
    scripts = [s for s in config.get("extra_javascript") or [] if s != pages.ASSET_JS]
    out["extra_javascript"] = [*scripts, pages.ASSET_JS]
    extra = dict(config.get("extra") or {}) if isinstance(config.get("extra"), Mapping) else {}
    polyfills = [p for p in extra.get("polyfills") or [] if "iframe-worker" not in str(p)]
    extra["polyfills"] = [pages.ASSET_WORKER_SHIM, *polyfills]
    out["extra"] = extra
    return out


def build(
    registry: Registry,
    config_path: Path,
    staging: Path,
    as_of: datetime,
    *,
    public: bool = False,
    strict: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> ZensicalBuild:
    """Build the site with Zensical into ``staging`` (created; replaced if it exists).

    Raises :class:`IncidentOpsError` when Zensical is missing or its build
    fails; with ``strict``, a warning of Zensical's fails it too (its ``--strict``). A public edition that leaks is still built: the caller reads
    :attr:`ZensicalBuild.leaks` and refuses to publish it.
    """
    if not available():
        raise IncidentOpsError("the Zensical engine needs Zensical, which is not installed", INSTALL_HINT)
    config = settings.read_mkdocs_config(config_path)
    root = registry.root
    history, note = pages.read_history(root, as_of, registry.policy_record)
    if note and history is None and say is not None:
        say(note)
    options = settings.site_options(config, root)
    rendered = pages.render(
        registry, as_of, public=public, options=options, history=history, history_note=note,
        progress=(lambda done, total: progress("render", done, total)) if progress else None,
    )
    project = staging.parent / f"{staging.name}.zensical"
    shutil.rmtree(project, ignore_errors=True)
    docs = project / "docs"
    try:
        docs.mkdir(parents=True)
        docs_dir = Path(config["docs_dir"])
        if docs_dir.is_dir():
            for source in sorted(docs_dir.rglob("*")):
                relative = source.relative_to(docs_dir).as_posix()
                if source.is_file() and relative not in rendered.files:
                    target = docs / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
        unsearchable: list[str] = []
        for relative, text in rendered.files.items():
            if relative.endswith(".md") and search_tokens(text) > SEARCH_TOKEN_BUDGET:
                text = exclude_from_search(text)
                unsearchable.append(relative)
            target = docs / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        cfg = project / "mkdocs.yml"
        cfg.write_text(yaml.safe_dump(project_config(config, options.site_url), sort_keys=False), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "zensical", "build", "--clean", *(["--strict"] if strict else []), "-f", str(cfg)],
            cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            env={**os.environ, "NO_COLOR": "1", "NO_MKDOCS_2_WARNING": "1"},
        )
        output = (proc.stdout + proc.stderr).strip()
        built = project / "site"
        if proc.returncode != 0 or not (built / "index.html").is_file():
            warned = warnings(output, _shown(docs_dir, root), set(rendered.files))
            if strict and warned:
                raise StrictWarnings(warned)
            last = [line for line in output.splitlines() if line.strip()][-3:]
            raise IncidentOpsError(
                f"the Zensical build failed (exit {proc.returncode}): {' / '.join(last) or 'no output'}",
                "run the same build with `--engine mkdocs` to compare, or report the message above",
            )
        count = _finish(built, options.site_url, options.use_directory_urls, progress)
        shutil.rmtree(staging, ignore_errors=True)
        built.rename(staging)
    finally:
        shutil.rmtree(project, ignore_errors=True)
    found = leaks.for_edition(rendered.data, registry, docs_dir).site(staging) if public else []
    return ZensicalBuild(staging, rendered.data, count, unsearchable, found, output)


def _shown(folder: Path, root: Path) -> Path:
    """``folder`` as the user names it: relative to the registry root when inside it."""
    try:
        return folder.resolve().relative_to(root.resolve())
    except ValueError:
        return folder


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(r"^\s*Warning:\s*(.+?)\s*$")
_WHERE = re.compile(r"\[\s*([^\]\s]+):(\d+):(\d+)\s*\]")


def warnings(output: str, docs_dir: Path, generated: set[str]) -> list[str]:
    """Zensical's warnings as ``file:line:col: message``, the file named as the user knows it.

    Zensical prints each warning as ``Warning: <message>`` followed by a framed
    excerpt whose first line names ``[ page.md:line:col ]`` of its project folder:
    a hand-written page is named under ``docs_dir``, a generated one as such.
    """
    out: list[str] = []
    lines = [_ANSI.sub("", line) for line in output.splitlines()]
    for index, line in enumerate(lines):
        found = _WARNING.match(line)
        if not found:
            continue
        where = next((m for m in map(_WHERE.search, lines[index + 1:index + 4]) if m), None)
        if where is None:
            out.append(found.group(1))
            continue
        page, row, col = where.groups()
        name = f"the generated page {page}" if page in generated else f"{docs_dir.as_posix().rstrip('/')}/{page}"
        out.append(f"{name}:{row}:{col}: {found.group(1)}")
    return out


def _finish(site: Path, site_url: str | None, use_directory_urls: bool,
            progress: Callable[[str, int, int], None] | None) -> int:
    """Sanitize every page as the plugin does, and give the 404 page its links. Returns the page count."""
    cleaner = DocumentCleaner()
    files = sorted(p for p in site.rglob("*.html") if p.is_file() and not p.is_symlink()
                   and p.relative_to(site).parts[0] != "assets")
    for number, path in enumerate(files, start=1):
        text = path.read_text(encoding="utf-8")
        cleaned = cleaner.clean(text)
        if path.name == hosting.NOT_FOUND and path.parent == site:
            cleaned = hosting.patch_not_found(cleaned, site_url, use_directory_urls)
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8")
        if progress is not None and (number % 250 == 0 or number == len(files)):
            progress("page", number, len(files))
    return len(files)
