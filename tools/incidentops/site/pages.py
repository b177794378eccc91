"""The site renderer: registry -> ``{relative path: content}`` (Markdown pages, feed, assets).

One renderer serves both adapters: the MkDocs plugin (virtual pages) and
``incidentops site generate --out DIR`` (the same pages written to a folder for
engines that do not run MkDocs plugins, such as Zensical).

Pages are Jinja2 templates with autoescaping switched on explicitly (the
``.md.j2`` suffix is not covered by ``select_autoescape``). Record values reach
Markdown only through the filters of :mod:`incidentops.site.markup`; tables and
prose are raw HTML blocks with escaped text, so Markdown syntax inside a record
never turns into links or markup. Page titles in front matter are made safe
for themes that print them unescaped.
"""

from __future__ import annotations

import html
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from incidentops.lifecycle.history import (
    REGISTRY_PATHS,
    ImportDeclaration,
    RegistryHistory,
    load_history,
)
from incidentops.records.model import Policy
from incidentops.records.redact import shown as as_written
from incidentops.records.registry import Registry
from incidentops.site import body, dashboard, feed, public_records, reference, responder
from incidentops.site.collect import SiteData, collect
from incidentops.site.markup import front_matter_title, inline, plain, prose, safe_title
from incidentops.site.urls import (
    PAGE_AUDIT,
    PAGE_HOME,
    PAGE_INCIDENTS,
    PAGE_POLICY,
    PAGE_REFERENCE,
    PAGE_RELEASES,
    PAGE_REVIEWS,
    PAGE_TESTS,
    SiteOptions,
    incident_page,
    postmortem_page,
    reference_page,
    relative_url,
    release_page,
    review_page,
    test_page,
)

TEMPLATES = Path(__file__).with_name("templates")
ASSET_JS = "assets/incidentops/site.js"
ASSET_CSS = "assets/incidentops/site.css"
ASSET_WORKER_SHIM = "assets/incidentops/iframe-worker-shim.js"
FEED = "feed.xml"
ASSETS = {ASSET_JS: "site.js", ASSET_CSS: "site.css", ASSET_WORKER_SHIM: "iframe-worker-shim.js"}

def format_time(value: Any) -> str:
    """``2026-03-10T14:05:00Z`` -> ``2026-03-10 14:05 UTC``; anything else as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = plain(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        return text
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    text = plain(value)
    return text[:10] if len(text) >= 10 and text[4:5] == "-" else text


def format_minutes(value: Any) -> str:
    """Minutes as ``2 d 3 h 5 min``."""
    if not isinstance(value, int | float):
        return "-"
    minutes = int(value)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins or not (days or hours) else ""]
    return " ".join(p for p in parts if p)


def written(item: object, name: str) -> str:
    """Field ``name`` of a typed record or list item as the record writes it (``1``, not ``1.0``);
    "" when it holds no value there (absent, redacted) or there is no item."""
    return plain(as_written(item, name)) if item is not None else ""


def code_spans(value: Any) -> Markup:
    """Trusted schema prose with `backticks` as HTML: escaped text, backticks become <code>."""
    parts = plain(value).split("`")
    out = []
    for index, part in enumerate(parts):
        escaped = html.escape(part, quote=True)
        out.append(f"<code>{escaped}</code>" if index % 2 and index < len(parts) - 1 else escaped)
    return Markup("".join(out))


def severity_css(value: Any) -> str:
    text = plain(value).lower().replace("-", "")
    return text if text in {"sev0", "sev1", "sev2", "sev3"} else "sevx"


def css_token(value: Any) -> str:
    """A value reduced to a safe CSS class suffix (state, status, decision)."""
    return "".join(ch for ch in plain(value).lower() if ch.isalnum() or ch == "_")[:32] or "none"


@cache
def environment() -> Environment:
    """The Jinja2 environment of every page template (autoescape on, strict undefined)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        md=inline,
        prose=prose,
        fm_title=front_matter_title,
        safe_title=safe_title,
        time=format_time,
        day=format_date,
        minutes=format_minutes,
        code_spans=code_spans,
        sev=severity_css,
        css=css_token,
        plain=plain,
        written=written,
        linked=_linked,
        linked_prose=_linked_prose,
        linked_html=_linked_html,
        without_tables=_without_tables,
        human=responder.humanize,
        human_words=responder.human_words,
        duration=responder.duration,
    )
    env.globals.update(
        incident_page=incident_page,
        postmortem_page=postmortem_page,
        test_page=test_page,
        review_page=review_page,
        release_page=release_page,
        reference_page=reference_page,
        PAGE_HOME=PAGE_HOME,
        PAGE_INCIDENTS=PAGE_INCIDENTS,
        PAGE_TESTS=PAGE_TESTS,
        PAGE_AUDIT=PAGE_AUDIT,
        PAGE_REVIEWS=PAGE_REVIEWS,
        PAGE_RELEASES=PAGE_RELEASES,
        PAGE_POLICY=PAGE_POLICY,
        PAGE_REFERENCE=PAGE_REFERENCE,
        FEED=FEED,
        RELEASE_NOTE=public_records.RELEASE_NOTE,
        REVIEW_NOTE=public_records.REVIEW_NOTE,
        href=_href,
        edit_url=_edit_url,
        sev=severity_badge,
        state=state_badge,
        status=status_badge,
        incident_link=_incident_link,
        test_link=_test_link,
        type_label=_type_label,
        checklist_label=responder.checklist_label,
        responder_summary=_responder_summary,
        review_hint=_review_hint,
        distinct=_distinct,
    )
    return env


def _badge(css: str, text: Any) -> Markup:
    return Markup('<span class="io-badge io-c-{}">{}</span>').format(css, plain(text))


def severity_badge(value: Any) -> Markup:
    return _badge(severity_css(value), value)


def state_badge(value: Any) -> Markup:
    return _badge("state-" + css_token(value), value)


def status_badge(value: Any) -> Markup:
    return _badge("status-" + css_token(value), value)


#: what a public page shows where a record names an incident or test the edition leaves out
HIDDEN_REFERENCE = "-"


@pass_context
def _incident_link(context: Context, incident_id: str | None) -> Markup:
    visibility = context["site"].visibility
    if incident_id and visibility.shows_incident(incident_id):
        url = relative_url(incident_page(incident_id), context["page_path"], context["options"].use_directory_urls)
        return Markup('<a href="{}">{}</a>').format(url, incident_id)
    if incident_id in visibility.hidden_ids:
        return Markup(HIDDEN_REFERENCE)
    return Markup("{}").format(plain(incident_id))


@pass_context
def _test_link(context: Context, test_id: str | None) -> Markup:
    visibility = context["site"].visibility
    if test_id and visibility.shows_test(test_id):
        url = relative_url(test_page(test_id), context["page_path"], context["options"].use_directory_urls)
        return Markup('<a href="{}">{}</a>').format(url, test_id)
    if test_id in visibility.hidden_ids:
        return Markup(HIDDEN_REFERENCE)
    return Markup("{}").format(plain(test_id))


#: record ids in free text (summaries, timeline events, reasons) that become links to their pages
_RECORD_ID = re.compile(r"\b(INC_[0-9]{3,}|regression_[A-Za-z0-9_]*[A-Za-z0-9])\b")


def _link_ids(context: Context, text: str) -> str:
    """Escaped ``text`` with each id of a record shown in this edition linked to its page."""
    visibility = context["site"].visibility
    out: list[str] = []
    last = 0
    for match in _RECORD_ID.finditer(text):
        found = match.group(1)
        if found.startswith("INC_") and visibility.shows_incident(found):
            target = incident_page(found)
        elif found.startswith("regression_") and visibility.shows_test(found):
            target = test_page(found)
        else:
            continue
        url = relative_url(target, context["page_path"], context["options"].use_directory_urls)
        out.append(html.escape(text[last:match.start()], quote=True))
        out.append(f'<a class="io-id-link" href="{html.escape(url, quote=True)}">{found}</a>')
        last = match.end()
    out.append(html.escape(text[last:], quote=True))
    return "".join(out)


@pass_context
def _linked(context: Context, value: Any) -> Markup:
    """A one-line record value as escaped text, ids of shown records linked."""
    return Markup(_link_ids(context, plain(value)))


@pass_context
def _linked_prose(context: Context, value: Any, css_class: str = "io-text") -> Markup:
    """Like the ``prose`` filter (a raw HTML block of paragraphs), with the ids of shown records linked."""
    text = plain(value).strip()
    if not text:
        return Markup("")
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text)]
    inner = "".join(f"<p>{_link_ids(context, p)}</p>" for p in paragraphs if p)
    return Markup(f'<div class="{html.escape(css_class)}">{inner}</div>')


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def _link_id_match(context: Context, match: re.Match[str]) -> str:
    found = match.group(1)
    visibility = context["site"].visibility
    if found.startswith("INC_") and visibility.shows_incident(found):
        target = incident_page(found)
    elif found.startswith("regression_") and visibility.shows_test(found):
        target = test_page(found)
    else:
        return found
    url = relative_url(target, context["page_path"], context["options"].use_directory_urls)
    return f'<a class="io-id-link" href="{html.escape(url, quote=True)}">{found}</a>'


@pass_context
def _linked_html(context: Context, value: Markup) -> Markup:
    """Sanitized HTML (a postmortem body) with record ids in its text linked, except inside links."""
    out: list[str] = []
    in_link = 0
    for part in _TAG_OR_TEXT.split(str(value)):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            in_link += 1 if name == "a" else -1 if name == "/a" else 0
            out.append(part)
        elif in_link > 0:
            out.append(part)
        else:
            out.append(_RECORD_ID.sub(lambda m: _link_id_match(context, m), part))
    return Markup("".join(out))


_HTML_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL | re.IGNORECASE)
_EMPTY_BLOCK = re.compile(r'^<div class="io-md">\s*</div>$')


def _without_tables(value: Markup) -> Markup:
    """Sanitized HTML without its tables (a postmortem's hand-written copy of the recorded action items)."""
    rest = _HTML_TABLE.sub("", str(value)).strip()
    return Markup("" if _EMPTY_BLOCK.match(rest) else rest)


@pass_context
def _type_label(context: Context, type_id: str | None) -> str:
    return responder.type_label(context["site"].policy_record, type_id)


@pass_context
def _responder_summary(context: Context, incident: Any) -> responder.Summary:
    site = context["site"]
    return responder.summary(incident, site.policy_record, site.as_of)


def _distinct(values: Any) -> list[str]:
    """The distinct values of a column, in order (a column with one value is left out of compact tables)."""
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(plain(value), None)
    return list(seen)


@pass_context
def _review_hint(context: Context, severity: Any) -> str:
    return responder.review_hint(context["site"].policy_record, str(severity))


@pass_context
def _href(context: Context, target: str) -> str:
    return relative_url(target, context["page_path"], context["options"].use_directory_urls)


@pass_context
def _edit_url(context: Context, record_path: str) -> str | None:
    base = context["options"].edit_base
    return f"{base.rstrip('/')}/{record_path}" if base else None


#: below this many pages, rendering in a worker process costs more than it saves
PARALLEL_MIN_PAGES = 1500
_CHUNK = 50
_ACTIVE: Renderer | None = None  # the renderer whose jobs a forked worker renders


def _render_chunk(bounds: tuple[int, int]) -> list[str]:
    assert _ACTIVE is not None
    return [_ACTIVE.render_job(job) for job in _ACTIVE.jobs[bounds[0]:bounds[1]]]


def spare_cpus() -> int:
    """CPUs a forked worker could use, or 0 where forking is unsafe or unavailable."""
    if sys.platform != "linux" or multiprocessing.get_start_method(allow_none=True) not in (None, "fork"):
        return 0
    if threading.active_count() > 1:  # e.g. `mkdocs serve`: forking a threaded process can deadlock
        return 0
    return max(0, len(os.sched_getaffinity(0)) - 1)


class PageStream:
    """The Markdown pages of a :class:`Renderer`, handed out one by one.

    With ``workers`` (forked processes), the pages are rendered ahead, in job
    order, while the caller works on the pages it already has (MkDocs builds
    them as they come); otherwise each page is rendered when asked for.
    """

    def __init__(self, renderer: Renderer, workers: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.renderer = renderer
        self.paths = [job[0] for job in renderer.jobs]
        self._jobs = {job[0]: job for job in renderer.jobs}
        self._ready: dict[str, str] = {}
        self._done = 0
        self._progress = progress
        self._pool: Any = None
        self._results: Any = None
        self._chunks: list[tuple[int, int]] = []
        if workers > 0 and len(self.paths) >= PARALLEL_MIN_PAGES:
            global _ACTIVE
            _ACTIVE = renderer
            total = len(self.paths)
            self._chunks = [(start, min(start + _CHUNK, total)) for start in range(0, total, _CHUNK)]
            self._pool = multiprocessing.get_context("fork").Pool(workers)
            self._results = self._pool.imap(_render_chunk, self._chunks)
            self._next_chunk = 0

    def get(self, path: str) -> str:
        """The Markdown of the page at ``path`` (each page is handed out once)."""
        if path in self._ready:
            return self._ready.pop(path)
        if self._results is None:
            text = self.renderer.render_job(self._jobs[path])
            self._advance(1)
            return text
        while path not in self._ready:
            start, stop = self._chunks[self._next_chunk]
            self._next_chunk += 1
            texts = next(self._results)
            self._ready.update(zip(self.paths[start:stop], texts, strict=True))
            self._advance(stop - start)
        return self._ready.pop(path)

    def _advance(self, count: int) -> None:
        self._done += count
        if self._progress is not None and (self._done % 250 < count or self._done == len(self.paths)):
            self._progress(self._done, len(self.paths))

    def close(self) -> None:
        """Stop the worker (safe to call more than once)."""
        global _ACTIVE
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            self._results = None
        if _ACTIVE is self.renderer:
            _ACTIVE = None


class Renderer:
    """Renders the pages of one :class:`SiteData`."""

    def __init__(self, data: SiteData, options: SiteOptions) -> None:
        self.data = data
        self.options = options
        self.env = environment()
        self.dashboard = dashboard.build(data)
        self.jobs = self._jobs()

    def render(self, template: str, page_path: str, **values: Any) -> str:
        return self.env.get_template(template).render(
            page_path=page_path, options=self.options, site=self.data, dash=self.dashboard, **values
        )

    def _jobs(self) -> list[tuple[str, str, dict[str, Any]]]:
        data = self.data
        jobs: list[tuple[str, str, dict[str, Any]]] = [
            (PAGE_HOME, "home.md.j2", {}),
            (PAGE_INCIDENTS, "incidents.md.j2", {}),
            (PAGE_TESTS, "regressions.md.j2", {}),
            (PAGE_AUDIT, "audit.md.j2", {}),
            (PAGE_REVIEWS, "reviews.md.j2", {}),
            (PAGE_RELEASES, "releases.md.j2", {}),
            (PAGE_POLICY, "policy.md.j2", {}),
            (PAGE_REFERENCE, "reference.md.j2", {}),
        ]
        for incident in data.incidents:
            jobs.append((incident_page(incident.id), "incident.md.j2", {"incident": incident}))
            if incident.postmortem is not None:
                jobs.append((postmortem_page(incident.id), "postmortem.md.j2", {"incident": incident}))
        for test in data.tests:
            jobs.append((test_page(test.id), "regression.md.j2", {"test": test}))
        for kind in reference.kinds():
            jobs.append((reference_page(kind), "reference_kind.md.j2", {"kind": kind}))
        for review in data.reviews:
            jobs.append((review_page(review.stem), "review.md.j2", {"record": review}))
        for release in data.releases:
            jobs.append((release_page(release.stem), "release.md.j2", {"record": release}))
        return jobs

    def render_job(self, job: tuple[str, str, dict[str, Any]]) -> str:
        path, template, values = job
        if template == "postmortem.md.j2":
            postmortem = values["incident"].postmortem
            values = {**values, "sections": body.render(postmortem.body)}
        elif template == "reference.md.j2":
            values = {"schemas": reference.schema_tables()}
        elif template == "reference_kind.md.j2":
            values = {"schema": reference.schema_table(values["kind"])}
        return self.render(template, path, **values)

    def extra_files(self) -> dict[str, str]:
        """The files that are not pages: the feed and the assets."""
        out = {FEED: feed.render(self.data, self.options, self.env)}
        for target, name in ASSETS.items():
            out[target] = (TEMPLATES / name).read_text(encoding="utf-8")
        return out

    def stream(self, workers: int = 0, progress: Callable[[int, int], None] | None = None) -> PageStream:
        """The pages, rendered ahead by ``workers`` forked processes (0: on demand)."""
        return PageStream(self, workers, progress)

    def pages(self, progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> dict[str, str]:
        """Every generated file. Large sites render in forked workers (default: the spare CPUs)."""
        stream = self.stream(spare_cpus() + 1 if workers is None else workers, progress)
        try:
            out = {path: stream.get(path) for path in stream.paths}
        finally:
            stream.close()
        out.update(self.extra_files())
        return out


@dataclass(frozen=True)
class RenderedSite:
    """The generated files, the record each page shows, and what the pages were made from."""

    files: dict[str, str]
    sources: dict[str, str]
    data: SiteData


def record_sources(data: SiteData) -> dict[str, str]:
    """``{page path: registry path of the record it shows}`` (for "edit" links)."""
    sources: dict[str, str] = {}
    for incident in data.incidents:
        sources[incident_page(incident.id)] = incident.path
        if incident.postmortem is not None:
            sources[postmortem_page(incident.id)] = incident.postmortem.path
    for test in data.tests:
        sources[test_page(test.id)] = test.path
    for review in data.reviews:
        sources[review_page(review.stem)] = review.path
    for release in data.releases:
        sources[release_page(release.stem)] = release.path
    sources[PAGE_POLICY] = "incidentops.yaml"
    return sources


def render(
    registry: Registry,
    as_of: datetime,
    *,
    public: bool = False,
    options: SiteOptions | None = None,
    history: RegistryHistory | None = None,
    history_note: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderedSite:
    """Collect the registry and render every generated file of the site."""
    data = collect(registry, as_of, public=public, history=history, history_note=history_note)
    files = Renderer(data, options or SiteOptions()).pages(progress)
    return RenderedSite(files, record_sources(data), data)


def render_site(
    registry: Registry,
    as_of: datetime,
    *,
    public: bool = False,
    options: SiteOptions | None = None,
    history: RegistryHistory | None = None,
    history_note: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Every generated file of the site: ``{path relative to docs_dir: text}``.

    Markdown pages end in ``.md``; ``feed.xml`` and the ``assets/`` files are
    copied as they are. ``history`` is the registry's git history (see
    :func:`read_history`); ``public`` leaves out internal records everywhere.
    """
    return render(registry, as_of, public=public, options=options, history=history,
                  history_note=history_note, progress=progress).files


def read_history(root: Path, as_of: datetime, policy: Policy | None = None
                 ) -> tuple[RegistryHistory | None, str | None]:
    """The registry's git history, or ``(None, why not)`` (shallow clone, no git).

    ``policy`` (default: the registry's) may declare an import (``history``):
    files that came with it take their age from their records.
    """
    from incidentops.records.errors import IncidentOpsError

    try:
        declared = ImportDeclaration.from_policy(Registry(root).policy_record if policy is None else policy)
        history = load_history(root, REGISTRY_PATHS, as_of, imported=declared)
    except IncidentOpsError as exc:
        what = "a shallow clone" if "shallow clone" in exc.message else "git history could not be read"
        # the note is printed on pages: it names no folder of the machine that built them
        message = exc.message.removeprefix(f"{root}: ")
        detail = f"{message} ({exc.hint})" if exc.hint else message
        return None, (f"Figures from git (record dates, time in suite, decay, review due dates) are not shown:"
                      f" {what}. {detail}")
    if not history.available:
        return history, "Dates from git are not shown: the registry is not in a git repository."
    return history, None
