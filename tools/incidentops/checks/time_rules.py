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

from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.policy.sla import time_order_problems
from incidentops.records.findings import ERROR, Finding
from incidentops.records.model import Incident, ModelLineage, Postmortem, Status, TimelineEvent
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext

RESOLVED_STATES = (Status.RESOLVED, Status.CLOSED)


def incident_time_order(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return  # a record that failed its schema: its findings say why
    for field, problem in time_order_problems(incident):
        yield incident.source.finding(
            (field,), ERROR, "incident.time-order", problem,
            "an incident is detected, then responded to, then resolved: correct the timestamp (all are UTC,"
            " the trailing Z)",
        )


def incident_status(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    status = incident.status
    if status in RESOLVED_STATES and incident.resolved_at is None:
        yield incident.source.finding(
            ("status",), ERROR, "incident.status", f"status is {status}, but there is no resolved_at",
            'record when it was resolved: `resolved_at: "YYYY-MM-DDTHH:MM:SSZ"`, or set the status it is in'
            " (open, mitigated)",
        )
    elif status in (Status.OPEN, Status.MITIGATED) and incident.resolved_at is not None:
        yield incident.source.finding(
            ("resolved_at",), ERROR, "incident.status", f"resolved_at is set, but the status is {status}",
            "set `status: resolved` (or closed once the postmortem is done), or `resolved_at: null` if it is"
            " not resolved yet",
        )


def incident_timeline(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    resolved = incident.resolved_at
    previous: TimelineEvent | None = None
    for index, entry in enumerate(incident.timeline):
        if previous is not None and entry.at < previous.at:
            yield entry.source.finding(
                ("at",), ERROR, "incident.timeline-order",
                f"timeline event {index + 1} ({entry.source.text('at')}) comes before event"
                f" {incident.timeline.index(previous) + 1} ({previous.source.text('at')}) above it",
                "list the timeline in time order, or correct the timestamp",
            )
        if resolved is not None and entry.at > resolved and not entry.after_resolution:
            yield entry.source.finding(
                ("at",), ERROR, "incident.timeline-after-resolution",
                f"timeline event {index + 1} ({entry.source.text('at')}) is after resolved_at"
                f" ({incident.source.text('resolved_at')})",
                "a follow-up after the resolution says so with `after_resolution: true`; otherwise correct"
                " the timestamp or resolved_at",
            )
        if previous is None or entry.at >= previous.at:
            previous = entry


def postmortem_time_order(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    meeting, published = postmortem.meeting_at, postmortem.published_at
    if published is not None and published < meeting:
        yield postmortem.source.finding(
            ("published_at",), ERROR, "postmortem.published-before-meeting",
            f"published_at {postmortem.source.text('published_at')} is before the meeting"
            f" ({postmortem.source.text('meeting_at')})",
            "a postmortem is published after its meeting: correct published_at or meeting_at",
        )
    incident = ctx.registry.incident_record(path.split("/")[1])
    if incident is None:
        return
    for index, item in enumerate(postmortem.action_items):
        if item.due < incident.detected_at.date():
            yield item.source.finding(
                ("due",), ERROR, "postmortem.due-before-incident",
                f"action item {item.id or index + 1} is due {item.source.text('due')}, before the incident was"
                f" detected ({incident.source.text('detected_at')})",
                "an action item comes out of the incident: give the date it is really due",
            )


def models_lineage(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    lineage = ctx.registry.typed(ModelLineage, path)
    if lineage is None:
        return
    predecessor: dict[str, str] = {}
    index_of: dict[str, int] = {}
    for index, model in enumerate(lineage.models):
        index_of.setdefault(model.version, index)
        if model.predecessor is not None:
            predecessor.setdefault(model.version, model.predecessor)
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
        yield lineage.models[index_of[first]].source.finding(
            ("predecessor",), ERROR, "models.lineage-cycle",
            "the model lineage goes round in a circle (each version, then its predecessor): "
            + " -> ".join([*order, first]),
            "each version's predecessor is an older version; the first version has `predecessor: null`",
        )


RULES = {
    "incident": [incident_time_order, incident_status, incident_timeline],
    "postmortem": [postmortem_time_order],
    "models": [models_lineage],
}
