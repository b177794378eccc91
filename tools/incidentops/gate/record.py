"""A gate decision as a release record (releases/<name>.yaml, release.schema.json)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from incidentops.gate.decision import GateDecision
from incidentops.records.errors import IncidentOpsError
from incidentops.records.schemas import load_schema

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_record_name(as_of: datetime, commit: str | None, model_version: str | None) -> str:
    """``20260401T120000Z_aurora-3.0``: sorts by time, says what was judged."""
    stamp = as_of.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = model_version or (commit[:12] if commit else "") or "gate"
    return f"{stamp}_{_NAME_UNSAFE.sub('-', label).strip('-.') or 'gate'}"


def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported on use: its format checkers load slowly

    schema = load_schema("release")
    if schema is None:  # pragma: no cover - the schema ships with the package
        raise RuntimeError("release.schema.json is missing from the package")
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def record(
    decision: GateDecision,
    commit: str | None,
    model_version: str | None,
    as_of: datetime,
    name: str | None = None,
) -> dict[str, Any]:
    """The release record of ``decision``, validated against release.schema.json.

    ``as_of`` (UTC-aware) is the decision time; ``name`` defaults to
    :func:`default_record_name`. Raises :class:`IncidentOpsError` when a given
    value (commit, name...) does not fit the schema.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    data: dict[str, Any] = {
        "name": name or default_record_name(as_of, commit, model_version),
        "decided_at": as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "decision": decision.decision,
        "commit": commit,
        "model_version": model_version,
        "suite": decision.suite,
        "score": round(decision.score, 4),
        "tests_run": decision.tests_run,
        "tests": [
            {
                "test_id": o.test_id,
                "state": o.state,
                "blocking": o.blocking,
                "outcome": o.outcome,
                "verdict": o.verdict,
                "reason": o.reason,
                "severity_weight": o.severity_weight,
                "expected_block_turn": o.expected_block_turn,
                "blocked_at_turn": o.blocked_at_turn,
                "runs": o.runs,
                "passes": o.passes,
                **({"model": o.model} if o.model is not None else {}),
            }
            for o in decision.per_test
        ],
        "blocking": [{"test_id": o.test_id, "reason": o.reason} for o in decision.blocking],
        "missing": list(decision.missing),
        "flaky": [
            {"test_id": f.test_id, "runs": f.runs, "passes": f.passes, "pass_rate": round(f.pass_rate, 4)}
            for f in decision.flaky
        ],
        "warnings": [{"test_id": w.test_id, "message": w.message} for w in decision.warnings],
    }
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.absolute_path) or "record"
        raise IncidentOpsError(
            f"the release record is invalid at {where}: {first.message}",
            "commit is a hex commit id (git rev-parse HEAD); name uses letters, digits, '.', '-', '_'",
        )
    return data
