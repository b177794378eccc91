"""The state of a registry at a glance (`incidentops status`) and one record in full (`show`).

Both read the same facts as the site's dashboard and record pages, from the same
analyses (SLA clock, action items, decay, release records), and return plain
dictionaries with stable fields, rendered as text or JSON by the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Incident, RegressionTest, Release, State, Status, plain_number
from incidentops.records.registry import Registry
from incidentops.records.renumber import is_provisional

OPEN_STATUSES = (Status.OPEN, Status.MITIGATED)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sla(registry: Registry, incident: Incident, as_of: datetime) -> dict[str, Any] | None:
    from incidentops.policy.sla import response_result

    try:
        result = response_result(incident, registry.policy_record, as_of)
    except IncidentOpsError:
        return None
    return {"status": result.status, "clock": result.clock, "sla_minutes": result.sla_minutes,
            "elapsed_minutes": result.elapsed_minutes, "response_minutes": result.response_minutes}


def _decay(registry: Registry, as_of: datetime) -> tuple[list[Any], str | None]:
    from incidentops.lifecycle.decay import assess_repository

    try:
        return list(assess_repository(registry, as_of).assessments), None
    except IncidentOpsError as exc:
        return [], exc.message


def _releases(registry: Registry) -> list[Release]:
    return sorted(registry.release_records(), key=lambda release: (release.decided_at, release.source.path))


def _gate_summary(release: Release) -> dict[str, Any]:
    return {"path": release.source.path, "name": release.name, "decision": str(release.decision),
            "decided_at": release.source.text("decided_at"), "model_version": release.model_version,
            "suite": release.suite, "blocking": [b.test_id for b in release.blocking]}


def registry_status(registry: Registry, as_of: datetime) -> dict[str, Any]:
    """Open incidents and their SLA clock, overdue action items, blocking tests, tests due for
    review, the last gate decision, records still under a provisional id, and what needs attention."""
    from incidentops.lifecycle.ceremony import known_suites
    from incidentops.policy.actions import open_actions

    incidents: list[dict[str, Any]] = []
    provisional: list[str] = []
    skipped: list[str] = []
    for incident_id in registry.incident_ids:
        if is_provisional(incident_id):
            provisional.append(incident_id)
        incident = registry.incident_record(incident_id)
        if incident is None:
            skipped.append(registry.incident_path(incident_id))
            continue
        if incident.status in OPEN_STATUSES:
            incidents.append({"id": incident_id, "title": incident.title, "severity": incident.severity,
                              "status": str(incident.status), "detected_at": incident.source.text("detected_at"),
                              "sla": _sla(registry, incident, as_of)})
    actions = open_actions(registry, as_of, overdue_only=True)
    overdue = [a.as_dict() for a in actions.items]
    suites = known_suites(registry.policy_record)
    blocking_states = set(registry.policy_record.regression.blocking_states)
    blocking: list[dict[str, Any]] = []
    for test_id, paths in sorted(registry.test_paths.items()):
        if is_provisional(test_id) and test_id not in provisional:
            provisional.append(test_id)
        test = registry.typed(RegressionTest, paths[0])
        if test is not None and test.state in blocking_states and test.suite in suites:
            blocking.append({"id": test_id, "incident": test.incident_id, "suite": test.suite,
                             "severity_weight": plain_number(test.severity_weight)})
    assessments, decay_problem = _decay(registry, as_of)
    due = [{"id": a.test_id, "state": a.state, "age_days": a.age_days, "days_since_review": a.days_since_review,
            "recommendation": a.recommendation} for a in assessments if a.review_due]
    releases = _releases(registry)
    last_gate = _gate_summary(releases[-1]) if releases else None
    attention: list[str] = []
    breached = [i["id"] for i in incidents if i["sla"] and i["sla"]["status"] == "breached" and
                i["sla"]["response_minutes"] is None]
    if breached:
        attention.append(f"{len(breached)} open incident(s) without a response past their SLA: {', '.join(breached)}")
    if overdue:
        attention.append(f"{len(overdue)} overdue action item(s)")
    if last_gate is not None and last_gate["decision"] == "BLOCK":
        attention.append(f"the last gate decision ({last_gate['name']}) is BLOCK")
    if skipped:
        attention.append(f"{len(skipped)} incident record(s) with errors (run `incidentops check`)")
    return {
        "as_of": _stamp(as_of),
        "open_incidents": incidents,
        "overdue_actions": overdue,
        "blocking_tests": blocking,
        "review_due": due,
        "review_due_unknown": decay_problem,
        "last_gate": last_gate,
        "provisional": sorted(provisional),
        "attention": attention,
    }


# --- one record ------------------------------------------------------------------------------


def _links_to(registry: Registry, record_id: str) -> dict[str, list[str]]:
    audit = [entry.source.path for entry in registry.audit_records() if entry.test_id == record_id]
    releases = [release.source.path for release in _releases(registry)
                if any(t.test_id == record_id for t in release.tests)]
    reviews = [review.source.path for review in registry.review_records()
               if any(record_id in (row.test_id, row.incident_id) for row in review.tests)]
    return {"audit": audit, "releases": releases, "reviews": reviews}


def _decisions(test: RegressionTest) -> list[dict[str, Any]]:
    return [{"at": d.source.text("at"), "decision": str(d.decision), "from_state": _value(d.from_state),
             "to_state": str(d.to_state), "reason": d.reason, "by": d.by, "approver": d.approver}
            for d in test.decisions]


def _value(state: State | None) -> str | None:
    return None if state is None else str(state)


def _unreadable(path: str) -> IncidentOpsError:
    return IncidentOpsError(f"{path} has errors, so it cannot be shown", f"run `incidentops check {path}`")


def show_incident(registry: Registry, incident_id: str, as_of: datetime) -> dict[str, Any]:
    path = registry.incident_path(incident_id)
    incident = registry.incident_record(incident_id)
    if incident is None:
        raise _unreadable(path)
    from incidentops.policy.severity import assess

    out: dict[str, Any] = {
        "kind": "incident", "id": incident_id, "path": path,
        "title": incident.title, "type": incident.type, "severity": incident.severity,
        "status": str(incident.status), "visibility": str(incident.visibility),
        "model_version": incident.model_version, "attack_vector": incident.attack_vector,
        "reported_by": incident.reported_by, "summary": incident.summary,
        "detected_at": incident.source.text("detected_at"),
        "first_response_at": _text_or_none(incident, "first_response_at"),
        "resolved_at": _text_or_none(incident, "resolved_at"),
        "sla": _sla(registry, incident, as_of),
        "escalations": [{"team": e.team, "at": e.source.text("at")} for e in incident.escalations],
        "timeline": [{"at": e.source.text("at"), "event": e.event} for e in incident.timeline],
    }
    try:
        out["computed_severity"] = assess(incident.assessment, registry.policy_record, incident.type).severity
    except IncidentOpsError:
        out["computed_severity"] = None
    postmortem_doc = registry.postmortem(incident_id)
    postmortem = registry.postmortem_record(incident_id)
    if postmortem is not None:
        out["postmortem"] = {
            "path": postmortem.source.path, "review_type": str(postmortem.review_type),
            "contributing_factors": list(postmortem.contributing_factors),
            "action_items": [{"id": a.id, "description": a.description, "owner": a.owner,
                              "due": a.due.isoformat(), "status": str(a.status)}
                             for a in postmortem.action_items],
        }
    else:
        out["postmortem"] = None if postmortem_doc is None else {"path": postmortem_doc.path, "errors": True}
    handoff_path = f"incidents/{incident_id}/handoff.yaml"
    out["handoff"] = handoff_path if registry.doc(handoff_path) is not None else None
    out["tests"] = [{"id": t.test_id, "path": t.path, "state": str(t.state), "suite": t.suite}
                    for t in registry.test_records() if t.incident_id == incident_id]
    out["links"] = _links_to(registry, incident_id)
    out["provisional"] = is_provisional(incident_id)
    return out


def _text_or_none(incident: Incident, field: str) -> str | None:
    """A timestamp of the incident as its record writes it, or None when it has none."""
    return None if getattr(incident, field) is None else incident.source.text(field)


def show_test(registry: Registry, test_id: str, as_of: datetime) -> dict[str, Any]:
    path = registry.test_path(test_id)
    assert path is not None
    test = registry.typed(RegressionTest, path)
    if test is None:
        raise _unreadable(path)
    out: dict[str, Any] = {
        "kind": "test", "id": test_id, "path": path,
        "state": str(test.state), "incident_id": test.incident_id, "suite": test.suite,
        "scenario": test.scenario, "severity_weight": plain_number(test.severity_weight),
        "expected_block_turn": test.expected_block_turn, "model_version": test.model_version,
        "owner": test.owner,
        "decisions": _decisions(test),
    }
    assessment = next((a for a in _decay(registry, as_of)[0] if a.test_id == test_id), None)
    out["decay"] = None if assessment is None else {
        "added_at": _stamp(assessment.added_at), "age_days": assessment.age_days,
        "recommendation": assessment.recommendation, "reasons": list(assessment.reasons),
        "review_due": assessment.review_due}
    incident = registry.incident_record(test.incident_id)
    out["incident"] = {"id": test.incident_id, "title": incident.title if incident is not None else None}
    out["links"] = _links_to(registry, test_id)
    out["provisional"] = is_provisional(test_id)
    return out


def show(registry: Registry, record_id: str, as_of: datetime) -> dict[str, Any]:
    """One incident or regression test with everything its site page shows."""
    if record_id in registry.incident_id_set:
        return show_incident(registry, record_id, as_of)
    if registry.test_path(record_id) is not None:
        return show_test(registry, record_id, as_of)
    import difflib

    known = [*registry.incident_ids, *registry.test_paths]
    close = difflib.get_close_matches(record_id, known, n=1)
    raise IncidentOpsError(
        f"no incident or regression test {record_id!r} in this registry",
        f"did you mean {close[0]}?" if close else "`incidentops status` lists the open incidents and blocking tests",
    )


def list_records(registry: Registry, what: str) -> list[dict[str, Any]]:
    """Every incident and/or regression test (archived ones included), one row each."""
    rows: list[dict[str, Any]] = []
    if what in ("all", "incidents"):
        for incident_id in registry.incident_ids:
            incident = registry.incident_record(incident_id)
            rows.append({"kind": "incident", "id": incident_id, "path": registry.incident_path(incident_id),
                         "severity": incident.severity if incident else None,
                         "status": str(incident.status) if incident else None,
                         "title": incident.title if incident else None, "ok": incident is not None})
    if what in ("all", "tests"):
        for test_id, paths in sorted(registry.test_paths.items()):
            test = registry.typed(RegressionTest, paths[0])
            rows.append({"kind": "test", "id": test_id, "path": paths[0],
                         "state": str(test.state) if test else None,
                         "incident": test.incident_id if test else None,
                         "suite": test.suite if test else None, "ok": test is not None})
    return rows
