"""Severity assessment: the seed's five-question checklist -> a SEV level and escalation path.

The rules are data (``checklist`` in incidentops.yaml); this module only applies them,
always in the same order:

1. start from the ``harm`` answer (occurred -> SEV-1, imminent -> SEV-2, potential -> SEV-3);
2. shift by the ``scope`` answer (+1 = one level more severe, -1 = one level less);
3. shift by ``exploitable_at_scale`` when it is true;
4. when ``regulatory`` is true, raise to at least the policy minimum (SEV-1) and add
   the ``escalate_to`` teams (Legal);
5. clamp to the policy's severity list (SEV-0..SEV-3);
6. a high ``reputational_risk`` only adds an advisory ("consider SEV-0"), never a level.

Shifts are summed before the clamp, so an increase and a decrease cancel out even at the
edges of the scale (potential + internal only + exploitable at scale stays SEV-3).

Any question may be answered ``unknown``: it counts as its most severe answer (harm that
starts highest, the scope that raises most, yes for regulatory and exploitable at scale,
high reputational risk). If unsure, treat it as the higher severity.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Assessment as IncidentAssessment
from incidentops.records.model import IncidentType, Policy, SeverityLevel
from incidentops.records.registry import Registry

ANSWER_KEYS = ("harm", "scope", "regulatory", "reputational_risk", "exploitable_at_scale")
REPUTATIONAL_VALUES = ("high", "normal")
#: the answer to any checklist question when it cannot be told yet: counts as the most severe one
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Assessment:
    """The computed severity with one reason per checklist step."""

    severity: str
    reasons: list[str]
    advisories: list[str]
    escalation_path: list[str]
    response_sla_minutes: int
    clock: str


def severity_ids(policy: Policy) -> list[str]:
    """The policy's severity ids, most severe first (e.g. ``["SEV-0", ..., "SEV-3"]``)."""
    if not policy.severity_levels:
        raise IncidentOpsError(
            "incidentops.yaml: severity_levels is missing or empty",
            "list the levels most severe first, e.g. `- id: SEV-0`",
        )
    return [level.id for level in policy.severity_levels]


def severity_rank(severity: str, policy: Policy) -> int:
    """Position of ``severity`` in the policy list: 0 is the most severe (SEV-0)."""
    ids = severity_ids(policy)
    if severity not in ids:
        raise IncidentOpsError(
            f"unknown severity {severity!r}",
            _choose_hint(str(severity), ids),
        )
    return ids.index(severity)


def compare(a: str, b: str, policy: Policy) -> int:
    """Order two severities: -1 when ``a`` is more severe than ``b``, 0 when equal, 1 when less."""
    ra, rb = severity_rank(a, policy), severity_rank(b, policy)
    return (ra > rb) - (ra < rb)


def severity_level(severity: str, policy: Policy) -> SeverityLevel:
    """The policy entry (SLA, clock, escalation_adds...) for ``severity``."""
    return policy.severity_levels[severity_rank(severity, policy)]


def default_weight(policy: Policy, severity: str) -> float:
    """The policy's default severity_weight for a severity (the seed's SEV-2 example: 0.8)."""
    level = policy.level(severity)
    return level.default_weight if level is not None else 0.5


def level_entry(policy: Policy, severity: str) -> SeverityLevel | None:
    """The ``severity_levels`` entry for ``severity``, or None when the policy has no such level."""
    return policy.level(severity)


def incident_type_entry(type_id: str, policy: Policy) -> IncidentType:
    """The policy's ``incident_types`` entry for ``type_id``."""
    entry = policy.incident_type(type_id)
    if entry is None:
        raise IncidentOpsError(
            f"unknown incident type {type_id!r}",
            _choose_hint(str(type_id), [t.id for t in policy.incident_types]),
        )
    return entry


def assess(
    answers: IncidentAssessment,
    policy: Policy,
    incident_type: str | None = None,
) -> Assessment:
    """Apply the checklist in ``policy`` to the five answers of an incident.

    ``answers`` is an incident's ``assessment`` (from its record, or made from the
    answers given to ``incidentops assess``). Raises IncidentOpsError for a blank or
    unknown answer, or an unknown incident type.
    """
    checklist = policy.checklist
    ids = severity_ids(policy)
    _check_answered(answers)
    type_entry = _type_entry(incident_type, policy)

    harm_map = {"occurred": checklist.harm.occurred, "imminent": checklist.harm.imminent,
                "potential": checklist.harm.potential}
    scope_map = {"many_users": checklist.scope.many_users, "single_user": checklist.scope.single_user,
                 "internal_only": checklist.scope.internal_only}
    harm = _choice(answers, "harm", list(harm_map))
    scope = _choice(answers, "scope", list(scope_map))
    reputational = _choice(answers, "reputational_risk", list(REPUTATIONAL_VALUES))
    regulatory = _flag(answers, "regulatory")
    exploitable = _flag(answers, "exploitable_at_scale")
    unknown: list[str] = []
    if harm == UNKNOWN:
        harm = min(harm_map, key=lambda answer: _policy_rank(str(harm_map[answer]), ids, "checklist.harm"))
        unknown.append(f"harm unknown: counted as {harm}")
    if scope == UNKNOWN:
        scope = max(scope_map, key=lambda answer: int(scope_map[answer]))
        unknown.append(f"scope unknown: counted as {scope}")
    if reputational == UNKNOWN:
        reputational = "high"
        unknown.append("reputational risk unknown: counted as high")
    if regulatory is None:
        regulatory = True
        unknown.append("regulatory implications unknown: counted as yes")
    if exploitable is None:
        exploitable = True
        unknown.append("exploitable at scale unknown: counted as yes")

    reasons: list[str] = [f"{note} (if unsure, the more severe answer)" for note in unknown]
    rank = _policy_rank(harm_map[harm], ids, "checklist.harm")
    reasons.append(f"harm {harm}: start at {_describe(rank, ids)}")

    shift = int(scope_map[scope])
    rank -= shift
    reasons.append(f"scope {scope}: {_shift_words(shift)} -> {_describe(rank, ids)}")

    if exploitable:
        shift = checklist.exploitable_at_scale
        rank -= shift
        reasons.append(f"exploitable at scale: {_shift_words(shift)} -> {_describe(rank, ids)}")
    else:
        reasons.append(f"not exploitable at scale: no change -> {_describe(rank, ids)}")

    regulatory_rule = checklist.regulatory
    escalate_to: list[str] = []
    if regulatory:
        minimum = regulatory_rule.minimum
        minimum_rank = _policy_rank(minimum, ids, "checklist.regulatory.minimum")
        escalate_to = list(regulatory_rule.escalate_to)
        joined = " + ".join(escalate_to) if escalate_to else "no team"
        if rank > minimum_rank:
            rank = minimum_rank
            reasons.append(
                f"regulatory implications: raised to the minimum {minimum}, involve {joined}"
                f" -> {_describe(rank, ids)}"
            )
        else:
            reasons.append(
                f"regulatory implications: already at least {minimum}, involve {joined}"
                f" -> {_describe(rank, ids)}"
            )
    else:
        reasons.append(f"no regulatory implications: no change -> {_describe(rank, ids)}")

    clamped = min(max(rank, 0), len(ids) - 1)
    if clamped != rank:
        reasons.append(f"clamped to the scale {ids[0]}..{ids[-1]} -> {ids[clamped]}")
    else:
        reasons.append(f"within the scale {ids[0]}..{ids[-1]} -> {ids[clamped]}")
    severity = ids[clamped]

    advisories: list[str] = []
    if reputational == "high":
        advisories.append(checklist.reputational_risk_high.advisory)
        reasons.append(f"reputational risk high: advisory only -> {severity}")
    else:
        reasons.append(f"reputational risk normal: no advisory -> {severity}")

    level = severity_level(severity, policy)
    type_path = type_entry.escalation_path if type_entry else ()
    path: list[str] = []
    for team in (*type_path, *escalate_to, *level.escalation_adds):
        if team not in path:
            path.append(team)

    return Assessment(
        severity=severity,
        reasons=reasons,
        advisories=advisories,
        escalation_path=path,
        response_sla_minutes=level.response_sla_minutes,
        clock=str(level.clock),
    )


def _type_entry(type_id: str | None, policy: Policy) -> IncidentType | None:
    return None if type_id is None else incident_type_entry(type_id, policy)


def _check_answered(answers: IncidentAssessment) -> None:
    missing = unanswered(answers)
    if missing:
        raise IncidentOpsError(
            f"severity assessment: missing answer(s) {', '.join(missing)}",
            "answer all five checklist questions: " + ", ".join(ANSWER_KEYS),
        )


def unanswered(answers: IncidentAssessment) -> list[str]:
    """The checklist questions of ``answers`` that are still blank (null)."""
    return [key for key in ANSWER_KEYS if getattr(answers, key) is None]


def _choice(answers: IncidentAssessment, key: str, allowed: list[str]) -> str:
    value = getattr(answers, key)
    if value not in (*allowed, UNKNOWN):
        raise IncidentOpsError(
            f"severity assessment: {key} is {value!r}, not one of {', '.join((*allowed, UNKNOWN))}",
            _choose_hint(str(value), (*allowed, UNKNOWN)),
        )
    return str(value)


def _flag(answers: IncidentAssessment, key: str) -> bool | None:
    """True, False, or None for ``unknown``."""
    value = getattr(answers, key)
    if value == UNKNOWN:
        return None
    if value is not True and value is not False:
        raise IncidentOpsError(
            f"severity assessment: {key} is {value!r}, not true, false or unknown",
            f"write `{key}: true`, `{key}: false` or `{key}: unknown` (counts as true)",
        )
    return value is True


def _policy_rank(severity: str, ids: list[str], where: str) -> int:
    if severity not in ids:
        raise IncidentOpsError(
            f"incidentops.yaml: {where} names unknown severity {severity!r}",
            _choose_hint(severity, ids),
        )
    return ids.index(severity)


def _shift_words(shift: int) -> str:
    if shift == 0:
        return "no change"
    direction = "more" if shift > 0 else "less"
    plural = "" if abs(shift) == 1 else "s"
    return f"{abs(shift)} level{plural} {direction} severe"


def _describe(rank: int, ids: list[str]) -> str:
    if rank < 0:
        return f"beyond {ids[0]} (clamped at the end)"
    if rank >= len(ids):
        return f"beyond {ids[-1]} (clamped at the end)"
    return ids[rank]


def _choose_hint(value: str, allowed: Iterable[str]) -> str:
    options = list(allowed)
    close = difflib.get_close_matches(value, options, n=1)
    prefix = f"did you mean {close[0]!r}? " if close else ""
    return f"{prefix}use one of: {', '.join(options)}"


def known_severity(policy: Policy, severity: str) -> str | None:
    """``severity`` when the policy's scale has it, else None."""
    return severity if severity in severity_ids(policy) else None


def incident_severity(registry: Registry, incident_id: str) -> str | None:
    """The incident's severity, or None when the incident is not valid or its severity is not one the
    policy knows: no rule gives advice reasoned from a value that failed its schema."""
    incident = registry.incident_record(incident_id)
    return known_severity(registry.policy_record, incident.severity) if incident is not None else None
