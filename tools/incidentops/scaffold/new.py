"""Scaffolds: a new registry (`init`) and new records (`new`), rendered from templates."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Any

import jinja2

from incidentops.policy.severity import default_weight, severity_ids
from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import create_text_exclusive
from incidentops.records.kinds import check_id
from incidentops.records.model import Incident
from incidentops.records.registry import SCAFFOLD_DIR, Registry
from incidentops.records.yamlscalar import quoted, scalar

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(SCAFFOLD_DIR)),
    autoescape=False,  # YAML/Markdown output; strings are emitted with |yaml
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
# Jinja's own `tojson` escapes ' < > & as \u0027... (it is made for HTML): records are
# written as a person would write them, plain when unambiguous, double-quoted otherwise.
_ENV.filters["yaml"] = scalar
_ENV.filters["quoted"] = quoted


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render(template: str, **values: Any) -> str:
    return _ENV.get_template(template).render(**values)


def next_incident_id(registry: Registry) -> str:
    numbers = [int(m.group(1)) for name in registry.incident_ids if (m := re.fullmatch(r"INC_(\d+)", name))]
    # retired and archived ids are never reused: incidents are never deleted, so the max is enough
    return f"INC_{(max(numbers) + 1) if numbers else 1:03d}"


def schema_prefix(registry: Registry, relpath: str) -> str:
    depth = relpath.count("/")
    return "../" * depth + "schemas/"


def default_times(as_of: datetime) -> dict[str, str]:
    return {"now": _stamp(as_of), "today": as_of.strftime("%Y-%m-%d")}


def due_date(as_of: datetime, days: int = 14) -> str:
    return (as_of + timedelta(days=days)).strftime("%Y-%m-%d")


def _incident_or_fail(registry: Registry, incident_id: str) -> Incident:
    check_id("incident", incident_id)
    incident = registry.incident_record(incident_id)
    if incident is None:
        import difflib

        close = difflib.get_close_matches(incident_id, registry.incident_ids, n=1)
        exists = incident_id in registry.incident_id_set
        raise IncidentOpsError(
            f"incident {incident_id} {'has errors' if exists else 'does not exist'}",
            "run `incidentops check` to see what is wrong, and fix the incident first" if exists
            else f"did you mean {close[0]}?" if close else "run `incidentops list incidents` to see the ids",
        )
    return incident


def new_incident(registry: Registry, as_of: datetime, provisional: bool = False) -> tuple[str, str]:
    """A new incident: the next free id, or a provisional one (INC_NEW_..., numbered after merge)."""
    if provisional:
        from incidentops.records.renumber import provisional_incident_id

        incident_id = provisional_incident_id()
    else:
        incident_id = next_incident_id(registry)
    rel = f"incidents/{incident_id}/incident.yaml"
    types = [t.id for t in registry.policy_record.incident_types]
    # Until its checklist is answered an incident is of the most severe level: if unsure,
    # treat it as the higher severity (`assess --write --set-severity` lowers it).
    severity = severity_ids(registry.policy_record)[0]
    lineage = registry.lineage
    model = lineage.current if lineage is not None else next(iter(registry.model_versions), "TODO")
    text = render("incident.yaml.j2", schema_prefix=schema_prefix(registry, rel), id=incident_id,
                  types=types or ["policy_violation_isolated"], model=model, severity=severity,
                  **default_times(as_of))
    create_text_exclusive(registry.root / rel, text, root=registry.root)
    return incident_id, rel


def postmortem_text(registry: Registry, incident_id: str, as_of: datetime) -> tuple[str, str]:
    """The facilitation-ready postmortem draft for an incident, and its path."""
    incident = _incident_or_fail(registry, incident_id)
    rel = f"incidents/{incident_id}/postmortem.md"
    rules = registry.policy_record.postmortem
    lightweight = incident.severity == "SEV-3"
    sections = list(rules.lightweight_sections if lightweight else rules.required_sections) or [
        "Summary", "Timeline", "Contributing factors", "Action items"]
    teams = [e.team for e in incident.escalations if e.team]
    attendees = ["Incident commander", "Postmortem facilitator"]
    if incident.reported_by:
        attendees.append(incident.reported_by)
    for team in teams:
        role = f"{team} responder"
        if role not in attendees:
            attendees.append(role)
    timeline = [{"at": e.source.text("at"), "event": " ".join(e.event.split())} for e in incident.timeline]
    for esc in incident.escalations:
        timeline.append({"at": esc.source.text("at"), "event": f"Escalated to {esc.team}"})
    for field, event in (("detected_at", "Detected"), ("first_response_at", "First response"),
                         ("resolved_at", "Resolved")):
        if getattr(incident, field) is not None:
            timeline.append({"at": incident.source.text(field), "event": event})
    timeline = sorted({(e["at"], e["event"]): e for e in timeline}.values(), key=lambda e: e["at"])
    text = render(
        "postmortem.md.j2", schema_prefix=schema_prefix(registry, rel), incident_id=incident_id,
        review_type="lightweight" if lightweight else "full", meeting_at=_stamp(as_of + timedelta(days=1)),
        publish_hours=rules.publish_within_hours, attendees=attendees,
        owners=teams or ["Safety team"], due=due_date(as_of), sections=sections, timeline=timeline,
        summary=incident.summary.strip(),
    )
    return rel, text


def default_scenario(incident: Incident) -> str:
    """A scenario name when none is given: the incident's attack vector, as a slug."""
    return (incident.attack_vector or "scenario").replace("-", "_").lower()


def test_id_for(incident_id: str, test_id: str | None) -> str:
    """The id of a test of ``incident_id``: ``regression_<incident>`` (its first test) by default, or a
    given ``regression_<incident>_<name>`` for each further one (``name``: letters, digits, underscores)."""
    first = f"regression_{incident_id}"
    if test_id is None:
        return check_id("test", first)
    if not re.fullmatch(rf"{re.escape(first)}(_[A-Za-z0-9][A-Za-z0-9_]*)?", test_id):
        raise IncidentOpsError(
            f"--test-id {test_id!r} is not a test id of {incident_id}",
            f"a test of {incident_id} is {first} or {first}_<name>, such as {first}_roleplay_variant",
        )
    return check_id("test", test_id, "--test-id")


def regression_text(registry: Registry, incident_id: str, scenario: str | None, expected_block_turn: int,
                    as_of: datetime, by: str, turns: list[str] | None = None,
                    test_id: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """The regression test born from an incident, and its path; ``by`` made the CREATE decision.

    An incident may have several tests: the first is ``regression_<incident>``, each further one
    is named with ``test_id`` (``regression_<incident>_<name>``).
    """
    incident = _incident_or_fail(registry, incident_id)
    scenario = check_id("scenario", scenario or default_scenario(incident), "scenario name")
    given = test_id
    test_id = test_id_for(incident_id, test_id)
    if not by.strip():
        raise IncidentOpsError("the CREATE decision needs the person who made it", "pass --by NAME")
    if test_id in registry.test_paths:
        raise IncidentOpsError(
            f"{test_id} already exists ({registry.test_paths[test_id][0]})",
            "ids are never reused" + ("" if given else
                                      f"; an incident may have several tests: name the next one with"
                                      f" --test-id {test_id}_<name>"))
    severity = incident.severity
    values = {
        "test_id": test_id, "incident_id": incident_id, "scenario": scenario,
        "expected_block_turn": expected_block_turn, "weight": default_weight(registry.policy_record, severity),
        "severity": severity,
        "suite": registry.policy_record.regression.default_suite,
        "owner": ([e.team for e in incident.escalations if e.team] or ["Safety team"])[0],
        "model": incident.model_version,
        "turns": turns or [f"TODO: user turn {n} of the attack" for n in range(1, expected_block_turn + 2)],
        "by": " ".join(by.split()),
        **default_times(as_of),
    }
    rel = f"regressions/{test_id}.yaml"
    return rel, render("regression.yaml.j2", schema_prefix=schema_prefix(registry, rel), **values), values


def handoff_text(registry: Registry, incident_id: str, values: dict[str, Any]) -> tuple[str, str]:
    incident = _incident_or_fail(registry, incident_id)
    notes: list[str] = []
    actions: list[str] = []
    pm = registry.postmortem_record(incident_id)
    if pm is not None:
        notes = list(pm.contributing_factors)
        actions = [a.description for a in pm.action_items if a.description]
    rel = f"incidents/{incident_id}/handoff.yaml"
    summary = " ".join((incident.title or incident.summary).split())
    text = render("handoff.yaml.j2", schema_prefix=schema_prefix(registry, rel), summary=summary,
                  notes=notes, action_items=actions, **values)
    return rel, text


def create_handoff(registry: Registry, incident_id: str, scenario: str | None, expected_block_turn: int,
                   as_of: datetime, by: str, test_id: str | None = None) -> list[str]:
    """Create the incident's handoff.yaml and its regression test together, consistent by construction.

    ``by`` is the person making the change: it is recorded on the test's CREATE decision.
    """
    if expected_block_turn < 1:
        raise IncidentOpsError("--expected-block-turn must be 1 or more", "turns are counted from 1")
    handoff_rel = f"incidents/{incident_id}/handoff.yaml"
    if os.path.lexists(registry.root / handoff_rel):
        raise IncidentOpsError(
            f"{handoff_rel} already exists",
            f"an incident has one handoff; add a further test with `incidentops new regression {incident_id}"
            f" --test-id regression_{incident_id}_<name>`",
        )
    test_rel, test_text, values = regression_text(registry, incident_id, scenario, expected_block_turn, as_of, by,
                                                  test_id=test_id)
    handoff_rel, handoff = handoff_text(registry, incident_id, values)
    root = registry.root
    create_text_exclusive(root / test_rel, test_text, "ids are never reused: name it with --test-id", root=root)
    try:
        create_text_exclusive(root / handoff_rel, handoff, "edit it, or delete it first if it was a mistake",
                              root=root)
    except BaseException:
        (root / test_rel).unlink(missing_ok=True)
        raise
    return [handoff_rel, test_rel]
