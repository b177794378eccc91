"""Blameless postmortem rules: published on time, roles not people, the template's sections,
a review for every resolved incident, and no closing with open action items.

On a postmortem:

- ``postmortem.late`` (warning): published more than ``publish_within_hours`` (policy, 48)
  after the meeting, or still unpublished that long after it.
- ``postmortem.attendee-name`` (error): an attendee looks like a person's name; attendees
  are roles (responders and stakeholders).
- ``postmortem.missing-section`` (error): a level-2 heading of the template is missing
  (``required_sections``, or ``lightweight_sections`` for a lightweight review).
- ``postmortem.lightweight-not-allowed`` (error): a lightweight review of an incident that is
  not of the least severe level (SEV-3).

On an incident:

- ``postmortem.missing`` (error): a resolved or closed incident without a postmortem
  (skipping the postmortem of a "small" incident is an anti-pattern: lightweight review for all).
- ``postmortem.open-actions`` (error): a closed incident whose postmortem still has action
  items open or in progress (defer them with a reason, or keep the incident resolved).

- ``postmortem.body-mismatch`` (error): the Markdown body repeats the front matter's action
  items differently (a table with an Id column that leaves one out, adds one, or gives another
  owner, due date or status; an id such as A9 named in ``## Action items`` that the front
  matter lacks) or counts its contributing factors (the bullets of ``## Contributing
  factors``) differently from the front matter. The front matter is the record: the body may elaborate, never disagree.

Contributing factors (at least one) and each action item's owner, due date and status are
required by the postmortem schema (``schema.*`` findings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from incidentops.checks.blameless import (
    CAPWORD_RE,
    EMAIL_RE,
    HANDLE_RE,
    INITIAL_RE,
    NOT_PEOPLE,
    TITLED_RE,
)
from incidentops.checks.first_names import FIRST_NAMES
from incidentops.policy.severity import incident_severity, severity_ids
from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.model import (
    ActionItem,
    ActionStatus,
    Incident,
    Postmortem,
    PostmortemStatus,
    ReviewType,
    Status,
)
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

OPEN_ACTION_STATES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
DONE_INCIDENT_STATES = (Status.RESOLVED, Status.CLOSED)

_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*\Z")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _folder(path: str) -> str:
    return path.split("/")[1]


def _norm(text: str) -> str:
    return " ".join(text.strip().rstrip(":").split()).casefold()


def headings(body: str, first_line: int = 1) -> list[tuple[int, int, str]]:
    """(level, line, text) of the ATX headings of a Markdown body, outside code and comments."""
    found: list[tuple[int, int, str]] = []
    fence: str | None = None
    in_comment = False
    for number, line in enumerate(body.split("\n"), start=first_line):
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:
            in_comment = True
            continue
        match = _HEADING.match(line)
        if match:
            found.append((len(match.group(1)), number, match.group(2)))
    return found


def late(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    hours = ctx.registry.policy_record.postmortem.publish_within_hours
    meeting, published, source = postmortem.meeting_at, postmortem.published_at, postmortem.source
    deadline = meeting + timedelta(hours=hours)
    if postmortem.status is PostmortemStatus.PUBLISHED and published is not None:
        if published > deadline:
            yield source.finding(
                ("published_at",), WARNING, "postmortem.late",
                f"published {_duration(published - meeting)} after the meeting, over the"
                f" {hours}-hour deadline (meeting {source.text('meeting_at')})",
                f"publish postmortems within {hours} hours of the meeting; this one stays on record as late",
            )
        return
    if postmortem.status is not PostmortemStatus.PUBLISHED and ctx.as_of > deadline:
        yield source.finding(
            ("status",), WARNING, "postmortem.late",
            f"still {postmortem.status.replace('_', ' ')} {_duration(ctx.as_of - meeting)} after"
            f" the meeting, over the {hours}-hour publication deadline (meeting {source.text('meeting_at')})",
            "finish the review and set `status: published` with `published_at`",
        )


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, int(delta.total_seconds() // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def person_in(text: str) -> str | None:
    """The personal name, @handle or e-mail address in ``text``, as the blameless lint sees them."""
    for regex in (HANDLE_RE, EMAIL_RE, TITLED_RE, INITIAL_RE):
        match = regex.search(text)
        if match:
            return match.group()
    for match in CAPWORD_RE.finditer(text):
        word = match.group()
        if word.lower() not in NOT_PEOPLE and word in FIRST_NAMES:
            return word
    return None


def attendee_names(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    for index, attendee in enumerate(postmortem.attendees):
        person = person_in(attendee)
        if person is None:
            continue
        yield postmortem.source.finding(
            ("attendees", index), ERROR, "postmortem.attendee-name",
            f"attendees: {attendee!r} names a person ({person!r}); attendees are roles",
            "write the role they attended in, such as 'Incident commander' or"
            " 'Safety on-call engineer'",
        )


def lightweight_not_allowed(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None or postmortem.review_type is not ReviewType.LIGHTWEIGHT:
        return
    severity = incident_severity(ctx.registry, _folder(path))
    least = severity_ids(ctx.registry.policy_record)[-1]
    if severity is None or severity == least:
        return
    yield postmortem.source.finding(
        ("review_type",), ERROR, "postmortem.lightweight-not-allowed",
        f"a lightweight review is allowed for {least} incidents only; {_folder(path)} is {severity}",
        "set `review_type: full` and add the full review's sections",
    )


def missing_sections(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    rules = ctx.registry.policy_record.postmortem
    lightweight = postmortem.review_type is ReviewType.LIGHTWEIGHT
    wanted = rules.lightweight_sections if lightweight else rules.required_sections
    present = {_norm(text): level for level, _, text in _headings(ctx, path, doc)}
    line = doc.body_line or 1
    review = "lightweight review" if lightweight else "full review"
    for section in wanted:
        level = present.get(_norm(section))
        if level == 2:
            continue
        hint = (
            f"make it a level-2 heading: `## {section}`" if level is not None
            else f"add a `## {section}` section (the template of a {review})"
        )
        yield Finding(
            path, line, 1, ERROR, "postmortem.missing-section",
            f"the {review} has no '## {section}' section", hint,
        )


def missing_postmortem(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None or incident.status not in DONE_INCIDENT_STATES:
        return
    folder = _folder(path)
    if (ctx.registry.root / "incidents" / folder / "postmortem.md").is_file():
        return
    yield incident.source.finding(
        ("status",), ERROR, "postmortem.missing",
        f"{folder} is {incident.status} but has no postmortem",
        f"run `incidentops new postmortem {folder}`; skipping the review of a small incident is an"
        " anti-pattern: a SEV-3 incident gets a lightweight review",
    )


def open_actions(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None or incident.status is not Status.CLOSED:
        return
    postmortem = ctx.registry.postmortem_record(_folder(path))
    if postmortem is None:
        return
    still_open = [f"{item.id} ({item.status})" for item in postmortem.action_items
                  if item.status in OPEN_ACTION_STATES]
    if not still_open:
        return
    yield incident.source.finding(
        ("status",), ERROR, "postmortem.open-actions",
        f"closed while postmortem action items are still open: {', '.join(still_open)}",
        "finish them, or defer them (`status: deferred` with a `deferred_reason`);"
        " until then keep the incident `resolved`",
    )


def _headings(ctx: CheckContext, path: str, doc: Document) -> list[tuple[int, int, str]]:
    """``headings`` of a postmortem's body, read once per check for the rules that need them."""
    key = f"postmortem.headings:{path}"
    found: list[tuple[int, int, str]] | None = ctx.cache.get(key)
    if found is None:
        found = ctx.cache[key] = headings(doc.body, doc.body_line)
    return found


def _sections(ctx: CheckContext, path: str, doc: Document,
              *names: str) -> dict[str, tuple[int, list[tuple[int, str]]]]:
    """The body's level-2 sections among ``names``: name -> (heading line, [(line, text)...])."""
    wanted = {_norm(name): name for name in names}
    found = _headings(ctx, path, doc)
    lines = doc.body.split("\n")
    out: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    for position, (level, line, text) in enumerate(found):
        name = wanted.get(_norm(text))
        if level != 2 or name is None or name in out:
            continue
        end = next((later for lvl, later, _ in found[position + 1:] if lvl <= 2), doc.body_line + len(lines))
        out[name] = (line, [(number, lines[number - doc.body_line]) for number in range(line + 1, end)])
    return out


_ACTION_ID = re.compile(r"\b(A[0-9]+)\b")
_BULLET = re.compile(r"(?:[-*+]|[0-9]+[.)])[ \t]+\S")


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def _same_text(a: object, b: object) -> bool:
    return " ".join(str(a).replace("`", "").split()).casefold() == " ".join(str(b).replace("`", "").split()).casefold()


def body_mismatch(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    hint = "the front matter is the record: make the body say what it says (or leave the list to the front matter)"
    sections = _sections(ctx, path, doc, "Action items", "Contributing factors")
    section = sections.get("Action items")
    if section is not None:
        by_id = {item.id: item for item in postmortem.action_items}
        yield from _action_rows(doc, path, section, by_id, hint)
    ctx.cache.pop(f"postmortem.headings:{path}", None)  # the last rule that reads them: let them go
    factors = postmortem.contributing_factors
    section = sections.get("Contributing factors")
    if section is not None:
        bullets = [line for line, text in section[1] if _BULLET.match(text)]
        if bullets and len(bullets) != len(factors):
            yield Finding(
                path, section[0], 1, ERROR, "postmortem.body-mismatch",
                f"'## Contributing factors' lists {len(bullets)} factor(s), the front matter"
                f" `contributing_factors` {len(factors)}", hint,
            )


def _action_rows(doc: Document, path: str, section: tuple[int, list[tuple[int, str]]],
                 by_id: Mapping[str, ActionItem], hint: str) -> Iterator[Finding]:
    rows = [(line, _cells(text)) for line, text in section[1] if text.strip().startswith("|")]
    header = rows[0][1] if rows else []
    columns = {_norm(cell): index for index, cell in enumerate(header)}
    seen: dict[str, int] = {}
    if "id" in columns:
        for line, cells in rows[1:]:
            if all(set(cell) <= set("-: ") for cell in cells):
                continue  # the separator row
            item_id = cells[columns["id"]] if columns["id"] < len(cells) else ""
            seen.setdefault(item_id, line)
            item = by_id.get(item_id)
            if item is None:
                yield Finding(path, line, 1, ERROR, "postmortem.body-mismatch",
                              f"action item {item_id!r} in the body is not in the front matter `action_items`", hint)
                continue
            # the facts that are tracked; the body may word an action shorter than the front matter
            for field in ("owner", "due", "status"):
                column = columns.get(field)
                if column is None or column >= len(cells):
                    continue
                said = re.split(r"[:(]", cells[column], maxsplit=1)[0] if field == "status" else cells[column]
                if _same_text(said, item.source.text(field)):
                    continue
                yield Finding(path, line, 1, ERROR, "postmortem.body-mismatch",
                              f"action item {item_id}: the body says {field} {cells[column]!r}, the front matter"
                              f" {item.source.text(field)!r}", hint)
    else:
        for line, text in section[1]:
            for match in _ACTION_ID.finditer(text):
                seen.setdefault(match.group(1), line)
                if match.group(1) not in by_id:
                    yield Finding(path, line, match.start() + 1, ERROR, "postmortem.body-mismatch",
                                  f"action item {match.group(1)} in the body is not in the front matter"
                                  " `action_items`", hint)
    if "id" in columns:  # a table repeats the whole list: every item is in it (prose may name a few)
        for item_id in by_id:
            if item_id not in seen:
                yield doc.finding(("action_items",), ERROR, "postmortem.body-mismatch",
                                  f"action item {item_id} of the front matter is missing from '## Action items'",
                                  hint, key=True)


RULES = {
    "postmortem": [late, attendee_names, lightweight_not_allowed, missing_sections, body_mismatch],
    "incident": [missing_postmortem, open_actions],
}
