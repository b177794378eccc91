"""The MkDocs plugin: registry pages as virtual files, live reload on record changes, sanitizing.

A thin adapter around :mod:`incidentops.site.pages`:

* ``on_files`` reads the registry and adds every page with
  ``File.generated`` (nothing is written into ``docs_dir``); on a machine with
  a spare CPU a forked worker renders the pages ahead while MkDocs builds
  them, and ``on_pre_page`` hands each page its Markdown;
* ``on_serve`` watches the record folders, so ``mkdocs serve`` rebuilds when a
  record changes;
* ``on_page_content`` and ``on_post_page`` sanitize the HTML with nh3;
* ``on_post_build`` of a public build reads every page back, with the search
  index, feed and sitemap, and fails the build when one names an internal
  record or holds PII (:mod:`incidentops.site.leaks`).

An option the plugin does not know, or an ``INCIDENTOPS_PUBLIC`` value it does
not know, is a configuration error: a misspelt ``public`` must not quietly
build the internal edition.

Configure it in mkdocs.yml::

    plugins:
      - search
      - offline
      - incidentops:
          public: false        # or INCIDENTOPS_PUBLIC=1
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config, ConfigErrors, ConfigWarnings, ValidationError
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import Finding
from incidentops.records.kinds import REGISTRY_DIRS
from incidentops.records.registry import MODELS_FILE, POLICY_FILE, Registry, resolve_root
from incidentops.site import hosting, leaks, pages, settings
from incidentops.site.collect import SiteData, collect
from incidentops.site.sanitize import DocumentCleaner, clean_content

log = get_plugin_logger(__name__)

#: progress(stage, done, total): "render" while pages are generated, "page" while MkDocs writes them
Progress = Callable[[str, int, int], None]


class PluginConfig(Config):  # type: ignore[no-untyped-call]
    """Options of the ``incidentops`` plugin in mkdocs.yml."""

    root = c.Optional(c.Type(str))
    """Registry root (the folder holding incidentops.yaml); default: the folder of mkdocs.yml."""
    public = c.Type(bool, default=False)
    """Leave out internal incidents and everything about them (also: INCIDENTOPS_PUBLIC=1)."""
    as_of = c.Optional(c.Type(str))
    """Compute SLA, ages and decay as of this date (also: INCIDENTOPS_AS_OF); default: now."""
    sanitize = c.Type(bool, default=True)
    """Sanitize every page with nh3 (leave on: records are untrusted input)."""


#: the options of PluginConfig: any other is an error, not a warning
OPTIONS = ("root", "public", "as_of", "sanitize")


class IncidentOpsPlugin(BasePlugin[PluginConfig]):  # type: ignore[no-untyped-call]
    """Generates the registry's pages at build time."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        #: a registry already loaded (and checked) by `incidentops site build`; None: read it here
        self.registry: Registry | None = None
        #: set by `incidentops site build` to show progress
        self.progress: Progress | None = None
        #: set by `incidentops site build`: where a note about missing git history goes (default: a warning)
        self.say: Callable[[str], None] | None = None
        #: what the last build showed (tests and tools read it)
        self.data: SiteData | None = None
        self._stream: pages.PageStream | None = None
        self._pending: set[str] = set()
        self._cleaner = DocumentCleaner()
        self._root: Path | None = None
        self._pages_done = 0
        self._pages_total = 0
        #: what the last public build's pages leaked (empty: nothing); see incidentops.site.leaks
        self.leaks: list[Finding] = []
        #: False: leave the report of leaks to the caller (`incidentops site build`) instead of failing
        self.raise_on_leaks = True
        self._scan: leaks.PublicScan | None = None

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None) -> tuple[ConfigErrors, ConfigWarnings]:
        errors, warnings = super().load_config(options, config_file_path)
        for key in [key for key in options if key not in OPTIONS]:
            warnings = [w for w in warnings if w[0] != key]
            errors.append((key, ValidationError(
                f"the incidentops plugin has no option {key!r} (its options: {', '.join(OPTIONS)})"
            )))
        return errors, warnings

    @property
    def public(self) -> bool:
        try:
            return settings.env_public() or bool(self.config.public)
        except IncidentOpsError as exc:
            raise PluginError(f"incidentops: {exc.message} ({exc.hint})") from exc

    def _registry_root(self, config: MkDocsConfig) -> Path:
        if self.registry is not None:
            return self.registry.root
        base = Path(config.config_file_path or ".").resolve().parent
        wanted = Path(self.config.root) if self.config.root else base
        if not wanted.is_absolute():
            wanted = base / wanted
        try:
            return resolve_root(wanted)
        except IncidentOpsError as exc:
            raise PluginError(f"incidentops: {exc.message} ({exc.hint})") from exc

    @event_priority(100)  # before the offline plugin, which would load the shim from a CDN
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self._root = self._registry_root(config)
        self.public  # noqa: B018 - a property: an unknown INCIDENTOPS_PUBLIC stops the build here
        try:
            config.site_url = settings.site_url(config.site_url)  # INCIDENTOPS_SITE_URL, e.g. from the Pages workflow
        except IncidentOpsError as exc:
            raise PluginError(f"incidentops: {exc.message} ({exc.hint})") from exc
        polyfills = [p for p in config.extra.get("polyfills", []) if "iframe-worker" not in str(p)]
        config.extra["polyfills"] = [pages.ASSET_WORKER_SHIM, *polyfills]
        if pages.ASSET_CSS not in [str(x) for x in config.extra_css]:
            config.extra_css.append(pages.ASSET_CSS)
        if pages.ASSET_JS not in [str(getattr(x, "path", x)) for x in config.extra_javascript]:
            config.extra_javascript.append(pages.ASSET_JS)  # type: ignore[arg-type]
        return config

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        assert self._root is not None
        self._close_stream()
        registry = self.registry if self.registry is not None else Registry(self._root)
        try:
            as_of = settings.parse_as_of(self.config.as_of)
            history, note = pages.read_history(self._root, as_of, registry.policy_record)
            if note and history is None:
                (self.say or log.warning)(note)
            data = collect(registry, as_of, public=self.public, history=history, history_note=note)
            renderer = pages.Renderer(data, settings.site_options(config, self._root))
            extra = renderer.extra_files()
        except IncidentOpsError as exc:
            raise PluginError(f"incidentops: {exc.message} ({exc.hint})" if exc.hint else exc.message) from exc
        for problem in data.problems:
            log.warning(problem)
        # MkDocs builds the pages in the order they are added: a worker renders them ahead.
        stream = renderer.stream(pages.spare_cpus(), self._render_progress if self.progress else None)
        sources = pages.record_sources(data)
        docs_dir = Path(config.docs_dir)
        for path in [*stream.paths, *extra]:
            if files.get_file_from_path(path) is not None:
                log.warning(f"{path}: a page in docs_dir has the name of a generated page; the generated page is left out")
                continue
            generated = File.generated(config, path, content=extra.get(path, ""))
            record = sources.get(path)
            if record is not None:
                generated.edit_uri = settings.record_edit_uri(record, docs_dir, self._root)
            if path not in extra:
                self._pending.add(path)
            files.append(generated)
        self._stream = stream
        self.data = data
        self.leaks = []
        self._scan = leaks.for_edition(data, registry, docs_dir) if data.public else None
        self._pages_total = len(files.documentation_pages())
        self._pages_done = 0
        return files

    @event_priority(100)  # the page's Markdown must be there before any plugin reads it
    def on_pre_page(self, page: Page, /, *, config: MkDocsConfig, files: Files) -> Page:
        path = page.file.src_uri
        if self._stream is not None and path in self._pending:
            self._pending.discard(path)
            page.file.content_string = self._stream.get(path)
        return page

    @event_priority(-100)  # after the search and offline plugins wrote the search index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._close_stream()
        not_found = Path(config.site_dir) / hosting.NOT_FOUND
        if not_found.is_file():
            text = not_found.read_text(encoding="utf-8")
            # MkDocs renders the 404 page without on_post_page: it is sanitized here, as every other page
            # (the repository link then no longer makes the theme call the forge's API)
            cleaned = self._cleaner.clean(text) if self.config.sanitize else text
            patched = hosting.patch_not_found(cleaned, config.site_url, bool(config.use_directory_urls))
            if patched != text:
                not_found.write_text(patched, encoding="utf-8")  # the built site, not a record
        if self._scan is None:
            return
        self.leaks = self._scan.site(Path(config.site_dir))
        if self.leaks and self.raise_on_leaks:
            raise PluginError(leak_report(self.leaks))

    def on_build_error(self, *, error: Exception) -> None:
        self._close_stream()

    def on_shutdown(self) -> None:
        self._close_stream()

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._pending = set()

    def _render_progress(self, done: int, total: int) -> None:
        self._report("render", done, total)

    @event_priority(-100)  # after every other plugin changed the content
    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        return clean_content(html) if self.config.sanitize else html

    @event_priority(-100)
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        self._pages_done += 1
        if self.progress is not None:
            self._report("page", self._pages_done, self._pages_total)
        return self._cleaner.clean(output) if self.config.sanitize else output

    def on_serve(self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Callable[..., Any]) -> LiveReloadServer:
        root = self._root or self._registry_root(config)
        for name in (POLICY_FILE, MODELS_FILE, *REGISTRY_DIRS):
            path = root / name
            if path.exists():
                server.watch(str(path))
        return server

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def leak_report(found: list[Finding], shown: int = 20) -> str:
    """The message of a public build that leaks: one line per finding (the first ``shown``)."""
    lines = [f"incidentops: {len(found)} leak(s) in the public edition: it must not be published"]
    lines += [f"  {f.location()}: [{f.rule}] {f.message}" for f in found[:shown]]
    if len(found) > shown:
        lines.append(f"  ... and {len(found) - shown} more")
    return "\n".join(lines)
