"""The state of a registry at a glance (`incidentops status`) and one record in full (`show`).

Both read the same facts as the site's dashboard and record pages, from the same
analyses (SLA clock, action items, decay, release records), and return plain
dictionaries with stable fields, rendered as text or JSON by the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidentops.records.errors import IncidentOpsError
from incidentops.records.registry import Registry
from incidentops.records.renumber import is_provisional

OPEN_STATUSES = ("open", "mitigated")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sla(registry: Registry, data: dict[str, Any], as_of: datetime) -> dict[str, Any] | None:
    from incidentops.policy.sla import response_result

    try:
        result = response_result(data, registry.policy, as_of)
    except IncidentOpsError:
        return None
    return {"status": result.status, "clock": result.clock, "sla_minutes": result.sla_minutes,
            "elapsed_minutes": result.elapsed_minutes, "response_minutes": result.response_minutes}


def _valid(registry: Registry, path: str) -> dict[str, Any] | None:
    doc = registry.doc(path)
    return doc.data if doc is not None and doc.ok and isinstance(doc.data, dict) else None


def _decay(registry: Registry, as_of: datetime) -> tuple[list[Any], str | None]:
    from incidentops.lifecycle.decay import assess_repository

    try:
        return list(assess_repository(registry, as_of).assessments), None
    except IncidentOpsError as exc:
        return [], exc.message


def _releases(registry: Registry) -> list[tuple[str, dict[str, Any]]]:
    found = [(p, d) for p in registry.files_in("releases") if (d := _valid(registry, p)) is not None]
    return sorted(found, key=lambda item: (str(item[1].get("decided_at")), item[0]))


def _gate_summary(path: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"path": path, "name": data.get("name"), "decision": data.get("decision"),
            "decided_at": str(data.get("decided_at")), "model_version": data.get("model_version"),
            "suite": data.get("suite"), "blocking": [str(b.get("test_id")) if isinstance(b, dict) else str(b)
                                                     for b in data.get("blocking") or []]}


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
        data = _valid(registry, registry.incident_path(incident_id))
        if data is None:
            skipped.append(registry.incident_path(incident_id))
            continue
        if data.get("status") in OPEN_STATUSES:
            incidents.append({"id": incident_id, "title": data.get("title"), "severity": data.get("severity"),
                              "status": data.get("status"), "detected_at": str(data.get("detected_at")),
                              "sla": _sla(registry, data, as_of)})
    actions = open_actions(registry, as_of, overdue_only=True)
    overdue = [a.as_dict() for a in actions.items]
    suites = known_suites(registry.policy)
    section = registry.policy.get("regression")
    states = section.get("blocking_states") if isinstance(section, dict) else None
    blocking_states = set(states) if isinstance(states, list) else {"ACTIVE"}
    blocking: list[dict[str, Any]] = []
    for test_id, paths in sorted(registry.test_paths.items()):
        if is_provisional(test_id) and test_id not in provisional:
            provisional.append(test_id)
        data = _valid(registry, paths[0])
        if data is not None and data.get("state") in blocking_states and data.get("suite") in suites:
            blocking.append({"id": test_id, "incident": data.get("incident_id"), "suite": data.get("suite"),
                             "severity_weight": data.get("severity_weight")})
    assessments, decay_problem = _decay(registry, as_of)
    due = [{"id": a.test_id, "state": a.state, "age_days": a.age_days, "days_since_review": a.days_since_review,
            "recommendation": a.recommendation} for a in assessments if a.review_due]
    releases = _releases(registry)
    last_gate = _gate_summary(*releases[-1]) if releases else None
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
    audit = [p for p, d in registry.audit_entries() if record_id in (d.get("test_id"), d.get("incident_id"))]
    releases = [p for p, d in _releases(registry)
                if any(isinstance(t, dict) and t.get("test_id") == record_id for t in d.get("tests") or [])]
    reviews = [p for p in registry.files_in("reviews")
               if (d := _valid(registry, p)) is not None
               and any(isinstance(t, dict) and record_id in (t.get("test_id"), t.get("incident_id"))
                       for t in d.get("tests") or [])]
    return {"audit": audit, "releases": releases, "reviews": reviews}


def _decisions(data: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("at", "decision", "from_state", "to_state", "reason", "by", "approver")
    return [{k: (str(d.get(k)) if k == "at" else d.get(k)) for k in keys}
            for d in data.get("decisions") or [] if isinstance(d, dict)]


def show_incident(registry: Registry, incident_id: str, as_of: datetime) -> dict[str, Any]:
    path = registry.incident_path(incident_id)
    data = _valid(registry, path)
    if data is None:
        raise IncidentOpsError(f"{path} has errors, so it cannot be shown", f"run `incidentops check {path}`")
    from incidentops.policy.severity import assess

    out: dict[str, Any] = {
        "kind": "incident", "id": incident_id, "path": path,
        **{k: data.get(k) for k in ("title", "type", "severity", "status", "visibility", "model_version",
                                     "attack_vector", "reported_by", "summary")},
        **{k: (str(data[k]) if data.get(k) is not None else None)
           for k in ("detected_at", "first_response_at", "resolved_at")},
        "sla": _sla(registry, data, as_of),
        "escalations": [{"team": e.get("team"), "at": str(e.get("at"))} for e in data.get("escalations") or []
                        if isinstance(e, dict)],
        "timeline": [{"at": str(e.get("at")), "event": e.get("event")} for e in data.get("timeline") or []
                     if isinstance(e, dict)],
    }
    try:
        computed = assess(data.get("assessment") or {}, registry.policy, data.get("type"))
        out["computed_severity"] = computed.severity
    except (IncidentOpsError, KeyError, TypeError, ValueError):
        out["computed_severity"] = None
    postmortem = registry.postmortem(incident_id)
    if postmortem is not None and postmortem.ok and isinstance(postmortem.data, dict):
        pm = postmortem.data
        out["postmortem"] = {
            "path": postmortem.path, "review_type": pm.get("review_type"),
            "contributing_factors": pm.get("contributing_factors") or [],
            "action_items": [{k: (str(a.get(k)) if k == "due" else a.get(k))
                              for k in ("id", "description", "owner", "due", "status")}
                             for a in pm.get("action_items") or [] if isinstance(a, dict)],
        }
    else:
        out["postmortem"] = None if postmortem is None else {"path": postmortem.path, "errors": True}
    handoff_path = f"incidents/{incident_id}/handoff.yaml"
    out["handoff"] = handoff_path if registry.doc(handoff_path) is not None else None
    out["tests"] = [{"id": t.get("test_id"), "path": p, "state": t.get("state"), "suite": t.get("suite")}
                    for p, t in registry.tests() if t.get("incident_id") == incident_id]
    out["links"] = _links_to(registry, incident_id)
    out["provisional"] = is_provisional(incident_id)
    return out


def show_test(registry: Registry, test_id: str, as_of: datetime) -> dict[str, Any]:
    path = registry.test_path(test_id)
    assert path is not None
    data = _valid(registry, path)
    if data is None:
        raise IncidentOpsError(f"{path} has errors, so it cannot be shown", f"run `incidentops check {path}`")
    out: dict[str, Any] = {
        "kind": "test", "id": test_id, "path": path,
        **{k: data.get(k) for k in ("state", "incident_id", "suite", "scenario", "severity_weight",
                                     "expected_block_turn", "model_version", "owner")},
        "decisions": _decisions(data),
    }
    assessment = next((a for a in _decay(registry, as_of)[0] if a.test_id == test_id), None)
    out["decay"] = None if assessment is None else {
        "added_at": _stamp(assessment.added_at), "age_days": assessment.age_days,
        "recommendation": assessment.recommendation, "reasons": list(assessment.reasons),
        "review_due": assessment.review_due}
    incident = data.get("incident_id")
    out["incident"] = {"id": incident, "title": (registry.incident(incident) or {}).get("title")} if isinstance(
        incident, str) else None
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
            data = _valid(registry, registry.incident_path(incident_id)) or {}
            rows.append({"kind": "incident", "id": incident_id, "path": registry.incident_path(incident_id),
                         "severity": data.get("severity"), "status": data.get("status"), "title": data.get("title"),
                         "ok": bool(data)})
    if what in ("all", "tests"):
        for test_id, paths in sorted(registry.test_paths.items()):
            data = _valid(registry, paths[0]) or {}
            rows.append({"kind": "test", "id": test_id, "path": paths[0], "state": data.get("state"),
                         "incident": data.get("incident_id"), "suite": data.get("suite"), "ok": bool(data)})
    return rows
