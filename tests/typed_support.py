"""Typed records made in memory for tests of code that takes them (records/model.py ``from_data``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from incidentops.records.model import (
    AuditEntry,
    Incident,
    Policy,
    RegressionTest,
    Release,
    from_data,
)
from incidentops.records.registry import default_policy

T = TypeVar("T")

#: the fields of a regression record that the gate and the export do not read
REGRESSION_DEFAULTS: dict[str, Any] = {
    "owner": "safety-team",
    "model_version": "aurora-3.0",
    "attack_vector_status": "viable",
    "scenario_still_relevant": True,
    "decisions": [],
}


def regression_test(data: Mapping[str, Any]) -> RegressionTest:
    """A typed regression test from ``data`` (fields it leaves out: ``REGRESSION_DEFAULTS``; None values dropped)."""
    fields = {**REGRESSION_DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    return from_data(RegressionTest, fields, f"regressions/{fields.get('test_id')}.yaml")


def policy(sections: Mapping[str, Any]) -> Policy:
    """The built-in policy with the sections of ``sections`` laid over it (one level deep; a None
    value removes the field), typed."""
    merged: dict[str, Any] = default_policy()
    for key, value in sections.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = {k: v for k, v in {**base, **value}.items() if v is not None}
        else:
            merged[key] = value
    return from_data(Policy, merged, "incidentops.yaml")


def _typed(cls: type[T], data: Mapping[str, Any], path: str) -> T:
    return from_data(cls, data, path)


def incident(incident_id: str, **fields: Any) -> Incident:
    """A typed incident ``incident_id`` with the given fields, the others those of a minimal valid record."""
    data: dict[str, Any] = {
        "id": incident_id, "title": f"Incident {incident_id}", "type": "policy_violation_isolated",
        "severity": "SEV-2", "status": "open", "visibility": "internal", "detected_at": "2026-11-01T09:00:00Z",
        "model_version": "aurora-3.0", "attack_vector": "multi_turn_reframing",
        "assessment": {"harm": "potential", "scope": "single_user", "regulatory": False,
                       "reputational_risk": "normal", "exploitable_at_scale": False},
        "escalations": [], "summary": "A summary.", "timeline": [], **fields,
    }
    return _typed(Incident, data, f"incidents/{incident_id}/incident.yaml")


def audit_entry(**fields: Any) -> AuditEntry:
    """A typed audit entry with the given fields (test_id, original_incident...)."""
    data: dict[str, Any] = {
        "action": "retire", "test_id": "regression_INC_001", "original_incident": "INC_001",
        "reason_code": "attack_obsolete", "reason": "The attack no longer works.", "approver": "safety-lead",
        "requested_by": "safety-team", "timestamp": "2026-11-01T09:00:00Z", **fields,
    }
    return _typed(AuditEntry, data, f"audit/{data['test_id']}.yaml")


#: the fields of a release record's test row that a test leaves out
RELEASE_ROW: dict[str, Any] = {
    "state": "ACTIVE", "blocking": True, "outcome": "pass", "verdict": "pass", "reason": "",
    "severity_weight": 1.0, "expected_block_turn": 3, "blocked_at_turn": None, "runs": None, "passes": None,
}


def release(data: Mapping[str, Any]) -> tuple[Release, dict[str, Any]]:
    """A typed release record and its document data, with every field ``data`` leaves out filled in."""
    full: dict[str, Any] = {
        "name": "r1", "decided_at": "2026-11-01T09:00:00Z", "decision": "PASS", "commit": None,
        "model_version": "aurora-3.0", "suite": None, "score": 0.0, "tests_run": 0, "tests": [],
        "blocking": [], "missing": [], "flaky": [], "warnings": [], **data,
    }
    full["tests"] = [{**RELEASE_ROW, **row} for row in full["tests"]]
    full["blocking"] = [{"reason": "blocks", **row} for row in full["blocking"]]
    return _typed(Release, full, "releases/r1.yaml"), full
