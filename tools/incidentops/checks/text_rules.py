"""Text rules: blameless language in narratives, and the PII scan of every record file.

Blameless lint (``blameless.*``, see checks/blameless.py) runs on a postmortem's Markdown
body and its contributing factors and action item descriptions, and on an incident's
title, ``summary`` and timeline events. Each finding points at the word in the file:
a YAML string is linted where it is written (for a block scalar such as ``summary: |``
the text starts on the next line).

The PII scan (``pii.*``, see checks/pii.py) reads every record file's raw text. Its
findings are errors in a public record and warnings in an internal one: an incident's
``visibility``; a postmortem or handoff takes its incident's; a regression test or an
audit entry counts as public unless its incident is internal; a scenario counts as public
unless every test that uses it belongs to an internal incident; everything else (policy,
models, reviews, releases) is public.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from incidentops.checks.blameless import lint_text
from incidentops.checks.cache import RESULT_CACHE
from incidentops.checks.pii import scan_text
from incidentops.records.findings import Finding
from incidentops.records.kinds import kind_of
from incidentops.records.model import AuditEntry, RegressionTest
from incidentops.records.yamlio import Document, Path_

if TYPE_CHECKING:
    from incidentops.checks import CheckContext
    from incidentops.checks.cache import ResultCache


def _quoted_end(rest: str) -> int | None:
    """Index just past the closing quote of the quoted scalar ``rest`` starts with, if on this line."""
    quote = rest[0]
    index = 1
    while index < len(rest):
        char = rest[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and rest[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return None


def scalar_source(doc: Document, path: Path_, lines: list[str] | None = None) -> tuple[int, str] | None:
    """The source of the string at ``path`` as (first line, text), columns as in the file.

    Everything on those lines that is not part of the string is blanked, so a finding on
    the returned text has the file's line (counting from the first line) and column.
    Returns None when ``path`` holds no string. ``lines`` is ``doc.text.split("\\n")``
    when the caller already has it (several strings of one record).
    """
    value = doc.string(path)
    if value is None or path not in doc.values:
        return None
    line, col = doc.values[path]
    if lines is None:
        lines = doc.text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    source = lines[line - 1]
    start = col - 1
    rest = source[start:]
    parent = _parent_indent(doc, path, source, start)
    if rest[:1] in ("|", ">"):  # block scalar: the text starts on the next line
        return line + 1, "\n".join(_continuation(lines, line, parent))
    if rest[:1] in ("'", '"'):
        end = _quoted_end(rest)
        if end is not None:
            return line, " " * start + rest[:end]
    elif "\n" not in value and rest.startswith(value):
        return line, " " * start + value
    # a plain or quoted string continued on the following, more indented lines
    return line, "\n".join([" " * start + rest, *_continuation(lines, line, parent)])


def _parent_indent(doc: Document, path: Path_, source: str, start: int) -> int:
    """Indentation of the node holding the string: continuation lines are indented more."""
    if path in doc.keys:
        return doc.keys[path][1] - 1
    dash = source.rfind("-", 0, start)
    return dash if dash >= 0 else start


def _continuation(lines: list[str], line: int, parent: int) -> list[str]:
    out: list[str] = []
    for text in lines[line:]:
        if text.strip() and len(text) - len(text.lstrip(" ")) <= parent:
            break
        out.append(text)
    while out and not out[-1].strip():
        out.pop()
    return out


def _lint_value(doc: Document, path: str, where: Path_, lines: list[str]) -> list[Finding]:
    located = scalar_source(doc, where, lines)
    if located is None:
        return []
    first_line, text = located
    return lint_text(text, path, first_line)


def _cached(
    ctx: CheckContext, rule: str, path: str, doc: Document, variant: str, compute: Callable[[], Iterable[Finding]]
) -> list[Finding]:
    """``compute()``, or its result from the last run when the file's text is the same (see checks/cache.py)."""
    store: ResultCache | None = ctx.cache.get(RESULT_CACHE)
    if store is None:
        return list(compute())
    found = store.get(rule, path, doc.text, variant)
    if found is None:
        found = list(compute())
        store.put(rule, path, doc.text, variant, found)
    return found


def blameless_incident(ctx: CheckContext, path: str, doc: Document) -> list[Finding]:
    return _cached(ctx, "blameless-incident", path, doc, "", lambda: _blameless_incident(doc, path))


def blameless_postmortem(ctx: CheckContext, path: str, doc: Document) -> list[Finding]:
    return _cached(ctx, "blameless-postmortem", path, doc, "", lambda: _blameless_postmortem(doc, path))


def _blameless_incident(doc: Document, path: str) -> Iterator[Finding]:
    lines = doc.text.split("\n")
    for field in ("title", "summary"):
        yield from _lint_value(doc, path, (field,), lines)
    for index in range(doc.count(("timeline",))):
        yield from _lint_value(doc, path, ("timeline", index, "event"), lines)


def _blameless_postmortem(doc: Document, path: str) -> Iterator[Finding]:
    lines = doc.text.split("\n")
    for index in range(doc.count(("contributing_factors",))):
        yield from _lint_value(doc, path, ("contributing_factors", index), lines)
    for index in range(doc.count(("action_items",))):
        yield from _lint_value(doc, path, ("action_items", index, "description"), lines)
    if doc.body:
        yield from lint_text(doc.body, path, doc.body_line)


def _incident_public(ctx: CheckContext, incident_id: str | None) -> bool:
    """An incident's records are public unless the incident, valid, says `visibility: internal`.

    An id that is not known, or an incident that fails its schema, counts as public: PII near
    a record nobody can place is an error, never only a warning.
    """
    incident = ctx.registry.incident_record(incident_id) if incident_id is not None else None
    return incident is None or incident.public


def _scenario_public(ctx: CheckContext, path: str) -> bool:
    key = "text.scenario-incidents"
    users: dict[str, list[str]] | None = ctx.cache.get(key)
    if users is None:
        users = {}
        for test in ctx.registry.test_records():
            if test.scenario_file is not None:
                users.setdefault(test.scenario_file.lstrip("./"), []).append(test.incident_id)
        ctx.cache[key] = users
    incidents = users.get(path, [])
    return not incidents or any(_incident_public(ctx, inc) for inc in incidents)


def is_public(ctx: CheckContext, path: str, doc: Document) -> bool:
    """Whether the record at ``path`` is published (PII there is an error, not a warning).

    A record that fails its schema is judged by what can be placed without it: an incident
    by itself counts as public; a test or an audit entry as its (valid) incident is.
    """
    kind = kind_of(path)
    name = kind.name if kind else None
    if name == "incident":
        return _incident_public(ctx, path.split("/")[1])
    if name in ("postmortem", "handoff"):
        return _incident_public(ctx, path.split("/")[1])
    if name == "regression":
        test = ctx.registry.typed(RegressionTest, path)
        return _incident_public(ctx, test.incident_id if test is not None else None)
    if name == "audit":
        entry = ctx.registry.typed(AuditEntry, path)
        return _incident_public(ctx, entry.original_incident if entry is not None else None)
    if name == "scenario":
        return _scenario_public(ctx, path)
    return True


def pii_scan(ctx: CheckContext, path: str, doc: Document) -> list[Finding]:
    public = is_public(ctx, path, doc)
    return _cached(
        ctx, "pii", path, doc, "public" if public else "internal", lambda: scan_text(doc.text, path, 1, public=public)
    )


RULES = {
    "incident": [blameless_incident],
    "postmortem": [blameless_postmortem],
    "*": [pii_scan],
}
