"""Typed records made in memory for tests of code that takes them (records/model.py ``from_data``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incidentops.records.model import Policy, RegressionTest, from_data
from incidentops.records.registry import default_policy

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
