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

Contributing factors (at least one) and each action item's owner, due date and status are
required by the postmortem schema (``schema.*`` findings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from incidentops.checks.blameless import (
    CAPWORD_RE,
    EMAIL_RE,
    HANDLE_RE,
    INITIAL_RE,
    NOT_PEOPLE,
    TITLED_RE,
)
from incidentops.checks.first_names import FIRST_NAMES
from incidentops.errors import IncidentOpsError
from incidentops.findings import ERROR, WARNING, Finding
from incidentops.severity import severity_ids
from incidentops.sla import parse_timestamp
from incidentops.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

OPEN_ACTION_STATES = ("open", "in_progress")
DONE_INCIDENT_STATES = ("resolved", "closed")

_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*\Z")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _postmortem_policy(ctx: CheckContext) -> Mapping[str, Any]:
    section = ctx.registry.policy.get("postmortem")
    return section if isinstance(section, Mapping) else {}


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


def _timestamp(data: Mapping[str, Any], field: str) -> Any:
    value = data.get(field)
    if value is None:
        return None
    try:
        return parse_timestamp(value, field)
    except (IncidentOpsError, TypeError, ValueError):
        return None


def late(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    hours = _postmortem_policy(ctx).get("publish_within_hours", 48)
    meeting = _timestamp(data, "meeting_at")
    if meeting is None or not isinstance(hours, int):
        return
    deadline = meeting + timedelta(hours=hours)
    published = _timestamp(data, "published_at")
    if data.get("status") == "published" and published is not None:
        if published > deadline:
            yield doc.finding(
                ("published_at",), WARNING, "postmortem.late",
                f"published {_duration(published - meeting)} after the meeting, over the"
                f" {hours}-hour deadline (meeting {data.get('meeting_at')})",
                f"publish postmortems within {hours} hours of the meeting; this one stays on record as late",
            )
        return
    if data.get("status") != "published" and ctx.as_of > deadline:
        yield doc.finding(
            ("status",), WARNING, "postmortem.late",
            f"still {str(data.get('status')).replace('_', ' ')} {_duration(ctx.as_of - meeting)} after"
            f" the meeting, over the {hours}-hour publication deadline (meeting {data.get('meeting_at')})",
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
    attendees = doc.data.get("attendees")
    if not isinstance(attendees, list):
        return
    for index, attendee in enumerate(attendees):
        if not isinstance(attendee, str):
            continue
        person = person_in(attendee)
        if person is None:
            continue
        yield doc.finding(
            ("attendees", index), ERROR, "postmortem.attendee-name",
            f"attendees: {attendee!r} names a person ({person!r}); attendees are roles",
            "write the role they attended in, such as 'Incident commander' or"
            " 'Safety on-call engineer'",
        )


def _incident_severity(ctx: CheckContext, path: str) -> str | None:
    incident = ctx.registry.incident(_folder(path))
    severity = incident.get("severity") if incident else None
    return severity if isinstance(severity, str) else None


def lightweight_not_allowed(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    if doc.data.get("review_type") != "lightweight":
        return
    severity = _incident_severity(ctx, path)
    least = severity_ids(ctx.registry.policy)[-1]
    if severity is None or severity == least:
        return
    yield doc.finding(
        ("review_type",), ERROR, "postmortem.lightweight-not-allowed",
        f"a lightweight review is allowed for {least} incidents only; {_folder(path)} is {severity}",
        "set `review_type: full` and add the full review's sections",
    )


def missing_sections(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    policy = _postmortem_policy(ctx)
    lightweight = doc.data.get("review_type") == "lightweight"
    wanted = policy.get("lightweight_sections" if lightweight else "required_sections") or []
    present = {_norm(text): level for level, _, text in headings(doc.body, doc.body_line)}
    line = doc.body_line or 1
    review = "lightweight review" if lightweight else "full review"
    for section in wanted:
        level = present.get(_norm(str(section)))
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
    status = doc.data.get("status")
    if status not in DONE_INCIDENT_STATES:
        return
    folder = _folder(path)
    if (ctx.registry.root / "incidents" / folder / "postmortem.md").is_file():
        return
    yield doc.finding(
        ("status",), ERROR, "postmortem.missing",
        f"{folder} is {status} but has no postmortem",
        f"run `incidentops new postmortem {folder}`; skipping the review of a small incident is an"
        " anti-pattern: a SEV-3 incident gets a lightweight review",
    )


def open_actions(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    if doc.data.get("status") != "closed":
        return
    postmortem = ctx.registry.postmortem(_folder(path))
    data = postmortem.data if postmortem is not None else None
    items = data.get("action_items") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return
    still_open = [
        f"{item.get('id')} ({item.get('status')})"
        for item in items
        if isinstance(item, Mapping) and item.get("status") in OPEN_ACTION_STATES
    ]
    if not still_open:
        return
    yield doc.finding(
        ("status",), ERROR, "postmortem.open-actions",
        f"closed while postmortem action items are still open: {', '.join(still_open)}",
        "finish them, or defer them (`status: deferred` with a `deferred_reason`);"
        " until then keep the incident `resolved`",
    )


RULES = {
    "postmortem": [late, attendee_names, lightweight_not_allowed, missing_sections],
    "incident": [missing_postmortem, open_actions],
}
