"""Severity policy rules of an incident: declared vs computed severity, escalations, SLA.

- ``severity.unanswered`` (error): a checklist question of ``assessment`` is still blank. Until
  it is answered the severity is not known; ``unknown`` is an answer, and counts as the more
  severe option.
- ``severity.under-declared`` (error): the declared severity is less severe than the one the
  checklist computes from ``assessment``, and no ``severity_override`` (reason + approver)
  records the decision. If unsure, treat it as the higher severity.
- ``severity.outside-type-range`` (warning): the declared severity lies outside the incident
  type's ``typical_severity`` and ``severity_rationale`` does not say why.
- ``severity.consider-sev0`` (warning): high reputational risk on an incident that is not the
  most severe level: the checklist's "consider SEV-0" advisory, until ``severity_rationale``
  records why the declared severity stands.
- ``escalation.missing`` (error): one finding per team the incident had to escalate to but did
  not: the type's escalation path, Legal when there are regulatory implications, and what the
  declared severity adds (All hands for SEV-0, On-call for SEV-1).
- ``sla.breached`` (warning): the first response came later than the severity's response SLA
  (business minutes for SEV-2), or has not come and the SLA has run out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.policy.severity import (
    UNKNOWN,
    Assessment,
    assess,
    compare,
    incident_type_entry,
    severity_ids,
    severity_level,
    unanswered,
)
from incidentops.policy.sla import BREACHED, response_result
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.model import Incident, IncidentType
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks import CheckContext


def computed_assessment(ctx: CheckContext, incident: Incident) -> Assessment | None:
    """The checklist result for an incident's ``assessment`` (None while a question is unanswered).

    The incident type only adds escalation teams, so an unknown type does not stop the
    severity from being computed (``ref.type`` reports the type).
    """
    key = f"severity.assessment:{incident.source.path}"
    if key in ctx.cache:
        cached: Assessment | None = ctx.cache[key]
        return cached
    result: Assessment | None
    try:
        result = assess(incident.assessment, ctx.registry.policy_record, None)
    except IncidentOpsError:
        result = None
    ctx.cache[key] = result
    return result


def _declared(ctx: CheckContext, incident: Incident) -> str | None:
    """The declared severity when the policy knows it (the schema lists SEV-0..3; a policy may hold fewer)."""
    return incident.severity if incident.severity in severity_ids(ctx.registry.policy_record) else None


def _type_entry(ctx: CheckContext, incident: Incident) -> IncidentType | None:
    try:
        return incident_type_entry(incident.type, ctx.registry.policy_record)
    except IncidentOpsError:
        return None


def _has_override(incident: Incident) -> bool:
    override = incident.severity_override
    return override is not None and bool(override.reason.strip()) and bool(override.approver.strip())


def _has_rationale(incident: Incident) -> bool:
    return bool((incident.severity_rationale or "").strip())


_QUESTIONS = {
    "harm": ("1. Harm occurred?", "occurred, imminent or potential"),
    "scope": ("2. Scope of impact?", "many_users, single_user or internal_only"),
    "regulatory": ("3. Regulatory implications?", "true or false"),
    "reputational_risk": ("4. Reputational risk?", "high or normal"),
    "exploitable_at_scale": ("5. Exploitable at scale?", "true or false"),
}


def unanswered_questions(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    for key in unanswered(incident.assessment):
        question, options = _QUESTIONS[key]
        yield incident.assessment.source.finding(
            (key,), ERROR, "severity.unanswered",
            f"assessment.{key}: '{question}' is not answered, so the severity is not known",
            f"answer {options}, or `unknown` (counts as the more severe answer); or run"
            f" `incidentops assess --write {incident.id} --set-severity`",
        )


def under_declared(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    declared = _declared(ctx, incident)
    computed = computed_assessment(ctx, incident)
    if declared is None or computed is None or _has_override(incident):
        return
    if compare(declared, computed.severity, ctx.registry.policy_record) <= 0:
        return
    yield incident.source.finding(
        ("severity",), ERROR, "severity.under-declared",
        f"severity: declared {declared}, but the severity assessment computes {computed.severity}"
        f" ({'; '.join(_decisive_reasons(computed))})",
        f"declare `severity: {computed.severity}` (if unsure, treat it as the higher severity), or"
        " record the decision as `severity_override: {reason: ..., approver: <role>}`",
    )


def _decisive_reasons(computed: Assessment) -> list[str]:
    """The checklist steps that changed something, for a short message."""
    kept = [r for r in computed.reasons if "no change" not in r and not r.startswith(("within the scale", "reputational"))]
    return kept or computed.reasons[:1]


def outside_type_range(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    declared = _declared(ctx, incident)
    entry = _type_entry(ctx, incident)
    if declared is None or entry is None:
        return
    typical = list(entry.typical_severity)
    if not typical or declared in typical or _has_rationale(incident):
        return
    name = entry.name or entry.id
    yield incident.source.finding(
        ("severity",), WARNING, "severity.outside-type-range",
        f"severity: {declared} is outside the typical severity of {name} ({'/'.join(typical)})",
        "say why in `severity_rationale: ...`, or check the incident type and severity",
    )


def consider_sev0(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    declared = _declared(ctx, incident)
    computed = computed_assessment(ctx, incident)
    if declared is None or computed is None or not computed.advisories:
        return
    most_severe = severity_ids(ctx.registry.policy_record)[0]
    if declared == most_severe or _has_rationale(incident):
        return
    yield incident.source.finding(
        ("assessment", "reputational_risk"), WARNING, "severity.consider-sev0",
        f"{'; '.join(computed.advisories)} (declared {declared})",
        f"the incident commander decides: declare {most_severe}, or keep {declared}"
        " and record why in `severity_rationale`",
    )


def _norm(team: str) -> str:
    return " ".join(team.split()).casefold()


def required_escalations(ctx: CheckContext, incident: Incident) -> list[tuple[str, str]]:
    """(team, why) pairs an incident must escalate to, in policy order, without duplicates."""
    policy = ctx.registry.policy_record
    required: list[tuple[str, str]] = []
    entry = _type_entry(ctx, incident)
    if entry is not None:
        for team in entry.escalation_path:
            required.append((team, f"the escalation path of {entry.name or entry.id}"))
    if incident.assessment.regulatory in (True, UNKNOWN):  # unknown counts as yes
        for team in policy.checklist.regulatory.escalate_to:
            required.append((team, "regulatory implications"))
    declared = _declared(ctx, incident)
    if declared is not None:
        level = severity_level(declared, policy)
        mode = level.response_mode
        for team in level.escalation_adds:
            required.append((team, f"{declared}{f' ({mode})' if mode else ''}"))
    unique: dict[str, tuple[str, list[str]]] = {}
    for team, why in required:
        unique.setdefault(_norm(team), (team, []))[1].append(why)
    return [(team, " and ".join(whys)) for team, whys in unique.values()]


def missing_escalations(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    teams = {_norm(escalation.team) for escalation in incident.escalations}
    for team, why in required_escalations(ctx, incident):
        if _norm(team) in teams:
            continue
        yield incident.source.finding(
            ("escalations",), ERROR, "escalation.missing",
            f"escalations: no escalation to {team}, required by {why}",
            f"add `- team: {team}` with `at:` the time {team} was engaged",
            key=True,
        )


def sla_breached(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None or _declared(ctx, incident) is None:
        return  # a record that failed its schema: its findings say why
    if incident.detected_at > ctx.as_of:
        return
    try:
        result = response_result(incident, ctx.registry.policy_record, ctx.as_of)
    except IncidentOpsError:
        return  # timestamps out of order are incident.time-order findings
    if result.status != BREACHED:
        return
    unit = "business minutes" if result.clock == "business" else "minutes"
    if result.response_minutes is not None:
        message = (
            f"{result.severity} first response took {result.response_minutes} {unit},"
            f" over the {result.sla_minutes}-minute response SLA"
        )
        where: tuple[str, ...] = ("first_response_at",)
    else:
        message = (
            f"{result.severity} has no first response after {result.elapsed_minutes} {unit};"
            f" the response SLA is {result.sla_minutes} minutes"
        )
        where = ("first_response_at",) if ("first_response_at",) in doc.keys else ("detected_at",)
    yield incident.source.finding(
        where, WARNING, "sla.breached", message,
        "record `first_response_at` if someone responded; a breach stays on record:"
        " discuss it in the postmortem",
    )


RULES = {
    "incident": [unanswered_questions, under_declared, outside_type_range, consider_sev0, missing_escalations, sla_breached],
}
