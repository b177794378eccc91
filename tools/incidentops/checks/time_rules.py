"""Records that cannot contradict themselves: moments in order, status that matches them, lineage without cycles.

On an incident:

- ``incident.time-order`` (error): ``first_response_at`` or ``resolved_at`` before
  ``detected_at``, or ``resolved_at`` before ``first_response_at``.
- ``incident.status`` (error): ``resolved`` or ``closed`` without ``resolved_at``; ``open`` or
  ``mitigated`` with one.
- ``incident.timeline-order`` (error): a timeline event dated before the one above it.
- ``incident.timeline-after-resolution`` (error): an event after ``resolved_at`` that does not
  say so with ``after_resolution: true``.

On a postmortem:

- ``postmortem.published-before-meeting`` (error): ``published_at`` before ``meeting_at``.
- ``postmortem.due-before-incident`` (error): an action item due before its incident was detected.

On models.yaml:

- ``models.lineage-cycle`` (error): following ``predecessor`` from a version comes back to it.

Values that failed their schema (a timestamp that does not parse) are left to the
``schema.*`` findings: no rule here reasons from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from incidentops.policy.sla import parse_timestamp, time_order_problems
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR, Finding
from incidentops.records.model import Incident
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

RESOLVED_STATES = ("resolved", "closed")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value, "timestamp")
    except (IncidentOpsError, TypeError, ValueError):
        return None


def incident_time_order(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return  # a record that failed its schema: its findings say why
    for field, problem in time_order_problems(incident):
        yield doc.finding(
            (field,), ERROR, "incident.time-order", problem,
            "an incident is detected, then responded to, then resolved: correct the timestamp (all are UTC,"
            " the trailing Z)",
        )


def incident_status(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    status = data.get("status")
    resolved = data.get("resolved_at")
    if status in RESOLVED_STATES and resolved is None:
        yield doc.finding(
            ("status",), ERROR, "incident.status", f"status is {status}, but there is no resolved_at",
            'record when it was resolved: `resolved_at: "YYYY-MM-DDTHH:MM:SSZ"`, or set the status it is in'
            " (open, mitigated)",
        )
    elif status in ("open", "mitigated") and isinstance(resolved, str) and _moment(resolved) is not None:
        yield doc.finding(
            ("resolved_at",), ERROR, "incident.status", f"resolved_at is set, but the status is {status}",
            "set `status: resolved` (or closed once the postmortem is done), or `resolved_at: null` if it is"
            " not resolved yet",
        )


def incident_timeline(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    timeline = data.get("timeline")
    if not isinstance(timeline, list):
        return
    resolved = _moment(data.get("resolved_at"))
    previous: tuple[datetime, int] | None = None
    for index, entry in enumerate(timeline):
        when = _moment(entry.get("at")) if isinstance(entry, Mapping) else None
        if when is None:
            continue
        if previous is not None and when < previous[0]:
            yield doc.finding(
                ("timeline", index, "at"), ERROR, "incident.timeline-order",
                f"timeline event {index + 1} ({entry.get('at')}) comes before event {previous[1] + 1}"
                f" ({timeline[previous[1]].get('at')}) above it",
                "list the timeline in time order, or correct the timestamp",
            )
        if resolved is not None and when > resolved and entry.get("after_resolution") is not True:
            yield doc.finding(
                ("timeline", index, "at"), ERROR, "incident.timeline-after-resolution",
                f"timeline event {index + 1} ({entry.get('at')}) is after resolved_at ({data.get('resolved_at')})",
                "a follow-up after the resolution says so with `after_resolution: true`; otherwise correct"
                " the timestamp or resolved_at",
            )
        if previous is None or when >= previous[0]:
            previous = (when, index)


def postmortem_time_order(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    meeting, published = _moment(data.get("meeting_at")), _moment(data.get("published_at"))
    if meeting is not None and published is not None and published < meeting:
        yield doc.finding(
            ("published_at",), ERROR, "postmortem.published-before-meeting",
            f"published_at {data.get('published_at')} is before the meeting ({data.get('meeting_at')})",
            "a postmortem is published after its meeting: correct published_at or meeting_at",
        )
    incident = ctx.registry.incident(path.split("/")[1])
    detected = _moment(incident.get("detected_at")) if incident else None
    items = data.get("action_items")
    if detected is None or not isinstance(items, list):
        return
    for index, item in enumerate(items):
        due = item.get("due") if isinstance(item, Mapping) else None
        try:
            day = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError:
            continue
        if day is not None and day < detected.date():
            yield doc.finding(
                ("action_items", index, "due"), ERROR, "postmortem.due-before-incident",
                f"action item {item.get('id') or index + 1} is due {due}, before the incident was detected"
                f" ({incident.get('detected_at') if incident else ''})",
                "an action item comes out of the incident: give the date it is really due",
            )


def models_lineage(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    models = doc.data.get("models")
    if not isinstance(models, list):
        return
    predecessor: dict[str, str] = {}
    index_of: dict[str, int] = {}
    for index, model in enumerate(models):
        if isinstance(model, Mapping) and isinstance(model.get("version"), str):
            index_of.setdefault(model["version"], index)
            if isinstance(model.get("predecessor"), str):
                predecessor.setdefault(model["version"], model["predecessor"])
    reported: set[str] = set()
    for start in predecessor:
        chain = [start]
        while chain[-1] in predecessor and predecessor[chain[-1]] not in chain:
            chain.append(predecessor[chain[-1]])
        if chain[-1] not in predecessor or predecessor[chain[-1]] not in chain:
            continue
        cycle = chain[chain.index(predecessor[chain[-1]]):]
        if reported & set(cycle):
            continue
        reported.update(cycle)
        first = min(cycle, key=lambda version: index_of[version])  # report it once, at the listed first
        order = cycle[cycle.index(first):] + cycle[:cycle.index(first)]
        yield doc.finding(
            ("models", index_of[first], "predecessor"), ERROR, "models.lineage-cycle",
            "the model lineage goes round in a circle (each version, then its predecessor): "
            + " -> ".join([*order, first]),
            "each version's predecessor is an older version; the first version has `predecessor: null`",
        )


RULES = {
    "incident": [incident_time_order, incident_status, incident_timeline],
    "postmortem": [postmortem_time_order],
    "models": [models_lineage],
}
