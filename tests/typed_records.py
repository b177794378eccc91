"""Typed records for tests that call an analysis directly: built from a hand-made mapping.

The analyses take typed records (incidentops.records.model), never dictionaries; these
helpers fill in the fields a test does not care about, then build the record without
validation (records.model.from_data).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from incidentops.records import model
from incidentops.records.registry import default_policy


def policy(data: Mapping[str, Any]) -> model.Policy:
    """The built-in policy with ``data``'s sections in place of its own.

    A severity level or incident type given in part takes its other fields from the built-in
    entry of the same id (or from the built-in policy's last one for a new id).
    """
    base = default_policy()
    merged: dict[str, Any] = {**copy.deepcopy(base), **copy.deepcopy(dict(data))}
    for section in ("severity_levels", "incident_types"):
        known = {entry["id"]: entry for entry in base[section]}
        template = {k: v for k, v in base[section][-1].items() if k != "id"}
        merged[section] = [{**known.get(entry["id"], template), **entry} for entry in merged[section]]
    return model.from_data(model.Policy, merged, "incidentops.yaml")


INCIDENT: dict[str, Any] = {
    "id": "INC_001", "title": "An incident", "type": "policy_violation_isolated", "severity": "SEV-2",
    "status": "open", "visibility": "internal", "detected_at": "2026-03-10T14:00:00Z",
    "model_version": "m-1", "attack_vector": "av", "summary": "s", "escalations": [],
    "timeline": [{"at": "2026-03-10T14:00:00Z", "event": "detected"}],
    "assessment": {"harm": "potential", "scope": "single_user", "regulatory": False,
                   "reputational_risk": "normal", "exploitable_at_scale": False},
}


def incident(**fields: Any) -> model.Incident:
    """An incident record with ``fields`` set (the others: a plain open SEV-2)."""
    return model.from_data(model.Incident, {**copy.deepcopy(INCIDENT), **fields},
                           f"incidents/{fields.get('id', 'INC_001')}/incident.yaml")


def models(lineage: Mapping[str, Mapping[str, Any]], released: str = "2020-01-01") -> dict[str, model.Model]:
    """``{version: Model}`` from ``{version: {family, change, predecessor[, released]}}``."""
    return {version: model.from_data(model.Model, {"version": version, "released": released, **entry}, "models.yaml")
            for version, entry in lineage.items()}


def decisions(*entries: Mapping[str, Any]) -> tuple[model.Decision, ...]:
    """A test's decisions; ``to_state``, ``reason`` and ``by`` default to plain values."""
    return tuple(model.from_data(model.Decision, {"to_state": "ACTIVE", "reason": "r", "by": "b", **entry})
                 for entry in entries)


TEST: dict[str, Any] = {
    "test_id": "regression_INC_001", "incident_id": "INC_001", "suite": "model-safety-regression-suite",
    "scenario": "s", "expected_block_turn": 1, "severity_weight": 0.8, "state": "ACTIVE", "owner": "Safety team",
    "model_version": "m-1", "attack_vector_status": "viable", "scenario_still_relevant": True,
    "decisions": [{"at": "2026-01-01T00:00:00Z", "decision": "CREATE", "to_state": "ACTIVE", "reason": "r",
                   "by": "b"}],
}


def regression(**fields: Any) -> model.RegressionTest:
    """A regression test record with ``fields`` set (``decisions`` as in :func:`decisions`)."""
    data = {**copy.deepcopy(TEST), **fields}
    data["decisions"] = [{"to_state": "ACTIVE", "reason": "r", "by": "b", **d} for d in data["decisions"]]
    return model.from_data(model.RegressionTest, data, f"regressions/{data['test_id']}.yaml")
