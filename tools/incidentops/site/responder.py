"""What a responder reads first on an incident or postmortem page, and the policy's words for values.

:func:`summary` answers, for one incident as of the build: how severe, in which
status, open for how long (or how long it lasted), how the first response went
against the SLA, which team owns it, and what has to happen next. Labels come
from the policy where it names things (severities, incident types) and from the
guide's checklist wording otherwise, never a raw ``snake_case`` value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidentops.policy import sla
from incidentops.records.model import ActionItem, Policy
from incidentops.site.collect import IncidentView

#: the severity assessment checklist's answers, in the guide's words
CHECKLIST_LABELS: Mapping[str, Mapping[str, str]] = {
    "harm": {"occurred": "Yes, harm occurred", "imminent": "No, but imminent", "potential": "No, potential only"},
    "scope": {"many_users": "Many users", "single_user": "Single user", "internal_only": "Internal only"},
    "reputational_risk": {"high": "High", "normal": "Normal", "low": "Low"},
}
STATUS_LABELS = {"in_progress": "In progress", "in_review": "In review"}
DONE_ACTIONS = ("done", "deferred", "cancelled", "wont_do")


def humanize(value: Any) -> str:
    """``single_user`` -> ``Single user``, ``ATTACK_OBSOLETE`` -> ``Attack obsolete``; booleans as yes/no.

    Ids with digits and mixed case (``SEV-2``, ``aurora-2.0``) stay as they are.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    text = str(value)
    if text in STATUS_LABELS:
        return STATUS_LABELS[text]
    if any(ch.isdigit() for ch in text):
        return text
    if (text.islower() and ("_" in text or text.isalpha())) or ("_" in text and text.replace("_", "").isalnum()):
        spaced = text.replace("_", " ").lower()
        return spaced[:1].upper() + spaced[1:]
    return text


_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def human_words(text: Any) -> str:
    """Text written by the tool (checklist reasons) with its ``snake_case`` values as words: ``many users``."""
    return _SNAKE.sub(lambda m: m.group(0).replace("_", " "), "" if text is None else str(text))


def type_label(policy: Policy, type_id: str | None) -> str:
    """The incident type's name in the policy (``Policy violation (isolated)``), else the id made readable."""
    found = policy.incident_type(type_id) if type_id else None
    return found.name if found is not None and found.name else humanize(type_id)


def severity_name(policy: Policy, severity: str) -> str:
    """``SEV-2`` -> ``Medium`` (the policy's name of the level), or empty."""
    level = policy.level(severity)
    return level.name if level is not None else ""


def checklist_label(question: str, answer: Any) -> str:
    return CHECKLIST_LABELS.get(question, {}).get(str(answer), humanize(answer))


def duration(minutes: float | None) -> str:
    """Minutes as the two largest units: ``3 d 4 h``, ``5 h 20 min``, ``45 min``."""
    if minutes is None:
        return "-"
    total = max(0, int(minutes))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


@dataclass(frozen=True)
class Summary:
    """The facts at the top of an incident page."""

    severity: str
    severity_name: str
    status: str
    is_open: bool
    #: "Open for" (still open) or "Lasted" (resolved), with its duration
    age_label: str
    age: str
    age_minutes: int
    time_to_respond: str
    sla_state: str
    sla_detail: str
    owner: str
    next_step: str


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def owner(incident: IncidentView) -> str:
    """The team that owns the incident: the first team of its escalation path that was engaged.

    The type's escalation path names the owning team (Safety team for a policy
    violation); when none of them is recorded yet, the path's first team, marked
    as not engaged.
    """
    path = incident.assessment.escalation_path if incident.assessment else []
    engaged = [e.team for e in incident.whole.escalations] if incident.whole is not None else []
    for team in path:
        if team in engaged:
            return str(team)
    if path:
        return f"{path[0]} (not engaged yet)"
    return engaged[0] if engaged else "not assigned"


def open_actions(incident: IncidentView) -> list[ActionItem]:
    record = incident.postmortem.whole if incident.postmortem is not None else None
    return [a for a in record.action_items if a.status not in DONE_ACTIONS] if record is not None else []


def review_hint(policy: Policy, severity: str) -> str:
    """Which postmortem review the incident needs (a lightweight review only where the policy allows it)."""
    rules = policy.postmortem
    full = ", ".join(rules.required_sections)
    light = ", ".join(rules.lightweight_sections)
    lowest = [level.id for level in policy.severity_levels][-1:]
    if severity in lowest and light:
        return f"a lightweight review is enough for {severity} (sections: {light})"
    return f"{severity} needs a full review" + (f" (sections: {full})" if full else "")


def next_step(incident: IncidentView, policy: Policy, as_of: datetime) -> str:
    """The one thing that has to happen next for the incident, in the order a responder works."""
    record = incident.whole
    if record is None:
        return "Fix the record: it is not valid (run `incidentops check`)."
    result = incident.sla
    status = record.status
    if record.first_response_at is None:
        if result is not None:
            left = result.sla_minutes - result.elapsed_minutes
            when = f"{duration(left)} left on the SLA" if left > 0 else f"the SLA was breached {duration(-left)} ago"
            return f"Respond: no first response is recorded ({when})."
        return "Respond: no first response is recorded."
    if status == "open":
        return "Mitigate: contain the harm, then set the status to mitigated."
    if status == "mitigated" or record.resolved_at is None:
        return "Resolve: confirm the fix holds, then record resolved_at and set the status to resolved."
    pm = incident.postmortem
    if pm is None:
        return f"Hold the postmortem review: {review_hint(policy, incident.severity)}."
    if pm.whole is None:
        return "Fix the postmortem: it is not valid (run `incidentops check`)."
    if pm.whole.status != "published":
        hours = policy.postmortem.publish_within_hours
        meeting = pm.whole.meeting_at
        if hours:
            due = meeting.timestamp() + float(hours) * 3600
            due_text = datetime.fromtimestamp(due, tz=as_of.tzinfo).strftime("%Y-%m-%d %H:%M UTC")
            return f"Publish the postmortem (due {due_text}, {hours} h after the meeting)."
        return "Publish the postmortem."
    pending = open_actions(incident)
    if pending:
        next_due = min(a.due for a in pending)
        return f"Close {len(pending)} open action item{'s' if len(pending) != 1 else ''} (next due {next_due.isoformat()})."
    if not incident.tests and incident.handoff_path is None:
        return "Hand off to the regression suite: record the handoff and its regression test."
    if status != "closed":
        return "Close the incident: every follow-up is done."
    return "Nothing pending."


def summary(incident: IncidentView, policy: Policy, as_of: datetime) -> Summary:
    record = incident.whole
    detected = incident.detected
    resolved = record.resolved_at if record is not None else None
    responded = record.first_response_at if record is not None else None
    if resolved is not None:
        age_label, minutes = "Lasted", _minutes(detected, resolved)
    else:
        age_label, minutes = "Open for", _minutes(detected, as_of)
    result = incident.sla
    if result is None:
        sla_state, sla_detail = "unknown", incident.sla_error or ""
    else:
        clock = "business-hours" if result.clock == "business" else "wall-clock"
        sla_state = {sla.MET: "Met", sla.BREACHED: "Breached"}.get(result.status, humanize(result.status))
        if result.response_minutes is not None:
            sla_detail = f"first response after {duration(result.response_minutes)} of a {duration(result.sla_minutes)} {clock} SLA"
        else:
            sla_detail = f"{duration(result.elapsed_minutes)} of a {duration(result.sla_minutes)} {clock} SLA used, no response yet"
    return Summary(
        severity=incident.severity,
        severity_name=severity_name(policy, incident.severity),
        status=humanize(record.status if record is not None else None),
        is_open=incident.is_open,
        age_label=age_label,
        age=duration(minutes),
        age_minutes=int(minutes or 0),
        time_to_respond=duration(_minutes(detected, responded)) if responded else "no response yet",
        sla_state=sla_state,
        sla_detail=sla_detail,
        owner=owner(incident),
        next_step=next_step(incident, policy, as_of),
    )
