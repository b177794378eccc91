"""The last check of a public edition: no page names an internal record or holds PII.

The public edition is built from public records only, and every figure the
tool composes across records is computed from public records (see
:mod:`incidentops.site.visibility` and :mod:`incidentops.site.public_records`).
This module is the defence in depth behind that: once the pages are rendered
(``site generate``) or the whole site is built (``site build``, ``mkdocs
build``), every generated page, the search index, the feed and the sitemap are
read back and searched for

* the id of any incident or regression test the edition leaves out
  (``site.internal-id``), in any letter case and with ``_``, ``-`` or ``.``
  between its parts, in the text, in attribute values and in links, also when
  inline markup splits it;
* the text of a field the edition redacts (``site.redacted``: attack turns,
  and the fields the policy's ``public_edition.redact`` lists), found by its
  words whatever the markup or spacing between them;
* PII and credentials (``site.pii``), with the detectors of ``incidentops
  check`` (:mod:`incidentops.checks.pii`) run here on the page text, never read
  from the result cache. A value that a published record allows with a
  documented ``incidentops: allow pii.<rule> -- reason`` is allowed on the pages
  too.

A free-text mention of an internal record in a public record is not rewritten:
the build refuses, and the author rewrites the sentence. A finding names the
page and the id or the kind of data (masked as ``incidentops check`` masks
it), never the data itself.

Theme and tool assets (``assets/``) are code shipped with the tool, not pages,
and are not read.
"""

from __future__ import annotations

import bisect
import gzip
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from incidentops.checks.pii import RULES as PII_RULES
from incidentops.checks.pii import scan_text
from incidentops.records.findings import ERROR, Finding
from incidentops.records.registry import MODELS_FILE, POLICY_FILE, Registry
from incidentops.site.collect import SiteData

RULE_ID = "site.internal-id"
RULE_PII = "site.pii"
RULE_REDACTED = "site.redacted"
REDACTED_HINT = (
    "the public edition redacts this field (policy `public_edition.redact`): the text must not reach a public"
    " page; if the record's free text quotes it, rewrite that text, or publish the field for this record"
    " (`public_edition.publish`, an approved policy change)"
)
#: a redacted text is looked for by its first words; shorter texts are not distinctive enough to look for
REDACTED_WORDS = 6
MIN_REDACTED_WORDS = 4
_WORD = re.compile(r"[^\W_]+")
ID_HINT = (
    "the public edition leaves this record out, so no public page may name it: rewrite the text"
    " of the record this page shows (free text is published as written), or make the incident public"
)
#: files of a built site that are read back (a ``.gz`` file is read decompressed)
TEXT_SUFFIXES = (".html", ".htm", ".xml", ".json", ".js", ".txt", ".md", ".csv", ".svg", ".yaml", ".yml")
SKIPPED_FOLDERS = ("assets",)
#: at most this many findings per page and rule are reported (the rest are counted)
MAX_PER_PAGE = 5

_SEPARATORS = re.compile(r"[_.\-]")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|i|ins|kbd|mark|q|s|samp|small|span|strong|sub|sup|time|u"
    r"|var|wbr)\b[^>\n]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>\n]*>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_NEWLINE = re.compile("\n")
# a decoded newline would shift the lines of the views against the file
_NEWLINE_ENTITY = re.compile(r"&#0*10;|&#[xX]0*[aA];|&NewLine;")
# entities of the characters ids are made of (letters, digits, "_", "-", ".")
_ID_ENTITY = re.compile(
    r"&#0*(?:4[5689]|5[0-7]|6[5-9]|[78][0-9]|9[05789]|1[01][0-9]|12[0-2]);"
    r"|&#[xX]0*(?:2[deDE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]);|&(?:lowbar|UnderBar|period|hyphen|dash);"
)
_INDEX_PREFIX = "var __index = "
_PUBLIC_SUFFIX = " in a public record"


def _norm(value: str) -> str:
    return "_".join(_SEPARATORS.split(value.lower()))


class IdFinder:
    """Finds given ids in text: whole parts only, any case, ``_``/``-``/``.`` alike.

    ``INC_002`` is found in ``INC_002``, ``inc-002``, ``regression_INC_002`` and
    ``incidents/INC_002/``, never in ``INC_0021``.
    """

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids: dict[str, str] = {}
        for value in sorted(ids):
            if value:
                self.ids.setdefault(_norm(value), value)
        self.max_parts = max((key.count("_") + 1 for key in self.ids), default=0)
        heads = sorted({key.split("_", 1)[0] for key in self.ids}, key=len, reverse=True)
        # Candidates start at the first part of some id: one search of the lowercased text finds
        # them. The look-back comes after a head's first character, so that the search jumps from
        # one candidate character to the next (same matches, far fewer tries).
        if 0 < len(heads) <= 64 and all(heads):
            start = "|".join(
                f"{re.escape(h[0])}(?<![a-z0-9]{re.escape(h[0])}){re.escape(h[1:])}" for h in heads
            )
        else:
            start = r"(?<![a-z0-9])[a-z0-9]+"
        self.pattern = re.compile(rf"(?:{start})(?![a-z0-9])[a-z0-9_.\-]*")

    def __bool__(self) -> bool:
        return bool(self.ids)

    def find(self, text: str) -> Iterator[tuple[int, str]]:
        """``(offset, id)`` of every id found in ``text`` (offsets in ``text.lower()``)."""
        if not self.ids:
            return
        for match in self.pattern.finditer(text.lower()):
            parts = _SEPARATORS.split(match.group())
            for first in range(len(parts)):
                for last in range(first + 1, min(len(parts), first + self.max_parts) + 1):
                    found = self.ids.get("_".join(parts[first:last]))
                    if found is not None:
                        yield match.start(), found


def allowed_pii(texts: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """``(rule, message)`` of the PII that published records allow with a documented exception.

    ``texts`` are ``(path, text)`` of the records (and hand-written pages) the edition publishes.
    """
    allowed: set[tuple[str, str]] = set()
    for path, text in texts:
        if "incidentops" not in text:
            continue  # no allow comment
        reported = {(f.line, f.col, f.rule) for f in scan_text(text, path, public=True)}
        # the same text without its allow comments (same length: positions are kept)
        for f in scan_text(text.replace("incidentops:", "incidentops;"), path, public=True):
            if f.rule in PII_RULES and (f.line, f.col, f.rule) not in reported:
                allowed.add((f.rule, f.message))
    return frozenset(allowed)


@dataclass
class PublicScan:
    """What a public edition must not show: the ids it leaves out, PII other than the allowed."""

    hidden_ids: Iterable[str]
    allowed: frozenset[tuple[str, str]] = frozenset()
    #: ``(what, text)`` of the texts the edition redacts (:attr:`SiteData.redacted_texts`)
    redacted: Iterable[tuple[str, str]] = ()
    _finder: IdFinder = field(init=False)
    _redacted: dict[tuple[str, ...], list[tuple[tuple[str, ...], str]]] = field(init=False)

    def __post_init__(self) -> None:
        self._finder = IdFinder(self.hidden_ids)
        self._redacted = {}
        for what, text in self.redacted:
            words = tuple(w.lower() for w in _WORD.findall(text))
            if len(words) >= MIN_REDACTED_WORDS:
                self._redacted.setdefault(words[:REDACTED_WORDS], []).append((words, what))

    def _redactions(self, name: str, view: str) -> list[Finding]:
        """Redacted texts in ``view``: each found by its first words, then matched in full."""
        if not self._redacted:
            return []
        matches = list(_WORD.finditer(view))
        words = [m.group().lower() for m in matches]
        found: list[Finding] = []
        seen: set[tuple[str, ...]] = set()
        widths = sorted({len(key) for key in self._redacted})
        for index in range(len(words)):
            for width in widths:
                for full, what in self._redacted.get(tuple(words[index:index + width]), ()):
                    if full in seen or tuple(words[index:index + len(full)]) != full:
                        continue
                    seen.add(full)
                    line = view.count("\n", 0, matches[index].start()) + 1
                    col = matches[index].start() - (view.rfind("\n", 0, matches[index].start()) + 1) + 1
                    found.append(Finding(name, line, col, ERROR, RULE_REDACTED,
                                         f"shows the redacted {what}", REDACTED_HINT))
        return found

    # ---- one file --------------------------------------------------------------------

    def text(self, name: str, text: str) -> list[Finding]:
        """The findings of one file of the site (``name``: its path in the site)."""
        if name.endswith(".md"):
            text = _MD_ESCAPE.sub(r"\1", text)
        if name.endswith((".json", ".js")):
            entries = _search_entries(text)
            if entries is not None:
                # one text, a line per line of every entry: found lines name their entry
                lines: list[str] = []
                where: list[str] = []
                for page, value in entries:
                    for line in value.split("\n"):
                        lines.append(line)
                        where.append(page)
                return _limit([
                    replace(f, line=1, col=1, message=f"{f.message} (search entry for {where[f.line - 1]})")
                    if where[f.line - 1] else replace(f, line=1, col=1)
                    for f in self._views(name, "\n".join(lines))
                ])
        return _limit(self._views(name, text))

    def _views(self, name: str, text: str) -> list[Finding]:
        # three views, line for line with the file: as written, entities decoded, and the
        # text a reader sees (no tags, no scripts or styles, inline markup joined up)
        readable = _SCRIPT.sub(lambda m: "\n" * m.group().count("\n"), text)
        readable = html.unescape(_NEWLINE_ENTITY.sub(" ", _TAG.sub(" ", _INLINE_TAG.sub("", readable))))
        views = [text, readable]
        if _ID_ENTITY.search(text):  # an id character written as an entity, e.g. INC&#95;002 in a link
            views.append(html.unescape(_NEWLINE_ENTITY.sub(" ", text)))
        findings: dict[tuple[str, str], Finding] = {}
        for view in views:
            starts: list[int] | None = None
            for offset, found in self._finder.find(view):
                if (RULE_ID, found) in findings:
                    continue
                if starts is None:
                    starts = [0, *(m.end() for m in _NEWLINE.finditer(view.lower()))]
                index = bisect.bisect_right(starts, offset) - 1
                findings[(RULE_ID, found)] = Finding(
                    name, index + 1, offset - starts[index] + 1, ERROR, RULE_ID,
                    f"names {found}, which the public edition leaves out", ID_HINT,
                )
        for finding in self._redactions(name, readable):
            findings.setdefault((RULE_REDACTED, finding.message), finding)
        # the theme's and the pages' own marks (permalinks, separators) are no PII: an ASCII
        # text takes the detectors' fast path
        for f in scan_text(readable.replace("\u00b6", " ").replace("\u00b7", " "), name, public=True):
            if f.rule not in PII_RULES or (f.rule, f.message) in self.allowed:
                continue
            what = f.message.removesuffix(_PUBLIC_SUFFIX)
            findings.setdefault((RULE_PII, f"{f.rule} {what}"), Finding(
                name, f.line, f.col, ERROR, RULE_PII, f"{what} on a public page [{f.rule}]", PII_RULES[f.rule][1],
            ))
        return sorted(findings.values(), key=Finding.sort_key)

    # ---- many files ------------------------------------------------------------------

    def files(self, files: Mapping[str, str]) -> list[Finding]:
        """The findings of generated files (``{path: text}``, as ``site generate`` writes them)."""
        found: list[Finding] = []
        for name, text in files.items():
            if not name.startswith(tuple(f"{folder}/" for folder in SKIPPED_FOLDERS)):
                found.extend(self.text(name, text))
        return sorted(found, key=Finding.sort_key)

    def site(self, site_dir: Path) -> list[Finding]:
        """The findings of a built site: every page, the search index, the feed and the sitemap."""
        found: list[Finding] = []
        for path in sorted(site_dir.rglob("*")):
            name = path.relative_to(site_dir).as_posix()
            inner = name.removesuffix(".gz")
            if name.split("/", 1)[0] in SKIPPED_FOLDERS or not inner.endswith(TEXT_SUFFIXES):
                continue
            if not path.is_file() or path.is_symlink():
                continue
            raw = path.read_bytes()
            if name.endswith(".gz"):
                try:
                    raw = gzip.decompress(raw)
                except (OSError, EOFError):
                    continue
            found.extend(self.text(inner if name.endswith(".gz") else name, raw.decode("utf-8", "replace")))
        return sorted(set(found), key=Finding.sort_key)


def _limit(found: list[Finding]) -> list[Finding]:
    """At most MAX_PER_PAGE findings per rule for one file."""
    out: list[Finding] = []
    seen: dict[str, int] = {}
    for f in found:
        seen[f.rule] = seen.get(f.rule, 0) + 1
        if seen[f.rule] <= MAX_PER_PAGE:
            out.append(f)
    return out


def _search_entries(text: str) -> list[tuple[str, str]] | None:
    """``(page, text)`` of every string of a search index, or None when ``text`` is not one."""
    body = text.strip()
    if body.startswith(_INDEX_PREFIX):
        body = body.removeprefix(_INDEX_PREFIX).rstrip(";")
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    out: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            out.append((where, value))
        elif isinstance(value, dict):
            location = value.get("location")
            here = location if isinstance(location, str) else where
            for item in value.values():
                walk(item, here)
        elif isinstance(value, list):
            for item in value:
                walk(item, where)

    walk(data, "")
    return out


def published_paths(data: SiteData) -> list[str]:
    """Registry paths of every record the edition shows (reviews and releases included)."""
    paths = [POLICY_FILE, MODELS_FILE]
    for incident in data.incidents:
        paths.append(incident.path)
        if incident.postmortem is not None:
            paths.append(incident.postmortem.path)
        if incident.handoff_path is not None:
            paths.append(incident.handoff_path)
    paths.extend(test.path for test in data.tests)
    paths.extend(record.path for record in data.audit)
    paths.extend(record.path for record in data.reviews)
    paths.extend(record.path for record in data.releases)
    return paths


def for_edition(data: SiteData, registry: Registry, docs_dir: Path | None = None) -> PublicScan:
    """The scan of a public edition made from ``data`` (``docs_dir``: its hand-written pages)."""
    texts: list[tuple[str, str]] = []
    for path in published_paths(data):
        doc = registry.doc(path)
        if doc is not None:
            texts.append((path, doc.text))
    if docs_dir is not None and docs_dir.is_dir():
        for page in sorted(docs_dir.rglob("*")):
            if page.suffix in (".md", ".html") and page.is_file() and not page.is_symlink():
                try:
                    texts.append((page.as_posix(), page.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError):
                    continue
    return PublicScan(data.visibility.hidden_ids, allowed_pii(texts), data.redacted_texts)
