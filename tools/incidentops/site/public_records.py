"""Reviews and release records as the public edition shows them: figures from public records only.

Dropping the rows that name a hidden incident or test (``Visibility.prune``) is
not enough for the figures the tool computed across records when it wrote
the record: a release's decision and score weigh every test of the suite, and a
review row's recommendation, its reasons and its count of similar incidents
weigh every incident. The public edition recomputes them from what it shows:

* a release record's decision, score and number of tests run come from its
  public test rows (the gate's own rules: a row with verdict ``block`` blocks,
  the score is the failed weight over the weight of the tests that ran); its
  warnings are those about public tests. Every public release page says that
  it shows what the public tests decide, whatever the record holds, so the
  sentence reveals nothing;
* a review row's similar incidents are counted again among the public
  incidents, on the quarter's first day, and its recommendation and reasons
  worked out again from the row's own factors (``incidentops.lifecycle.decay.recommend``).
  A row whose factors cannot be read loses those three fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incidentops.lifecycle.decay import (
    MODEL_CHANGES,
    UNKNOWN,
    Factors,
    IncidentTable,
    ModelChange,
    Thresholds,
    days_between,
    model_change,
    model_versions,
    parse_time,
    recommend,
    similar_incidents,
)
from incidentops.lifecycle.review import parse_quarter
from incidentops.records.errors import IncidentOpsError
from incidentops.records.registry import Registry

RELEASE_NOTE = (
    "Public edition: the decision, the score and the counts on this page are computed from the"
    " public regression tests shown here; the release gate judged the whole suite."
)
REVIEW_NOTE = (
    "Public edition: similar incidents, recommendations and their reasons are computed from"
    " public incidents only."
)
#: the fields of a review row computed across incidents
CROSS_RECORD = ("similar_incidents_12m", "recommendation", "reasons")
_RAN = ("pass", "fail", "error")


def release(data: dict[str, Any]) -> dict[str, Any]:
    """A (pruned) release record with decision, score and counts over its public rows only."""
    rows = [row for row in data.get("tests") or [] if isinstance(row, Mapping)]
    shown = {row.get("test_id") for row in rows}
    ran = [row for row in rows if row.get("outcome") in _RAN]
    ran_weight = sum(_weight(row) for row in ran)
    failed_weight = sum(_weight(row) for row in ran if _counted_as_failed(row))
    out = dict(data)
    out["tests"] = rows
    out["decision"] = "BLOCK" if any(row.get("verdict") == "block" for row in rows) else "PASS"
    out["score"] = round(failed_weight / ran_weight, 4) if ran_weight else 0.0
    out["tests_run"] = len(ran)
    for key in ("blocking", "flaky", "warnings"):
        items = data.get(key)
        out[key] = [i for i in items if isinstance(i, Mapping) and i.get("test_id") in shown] \
            if isinstance(items, list) else []
    missing = data.get("missing")
    out["missing"] = [t for t in missing if t in shown] if isinstance(missing, list) else []
    return out


def _weight(row: Mapping[str, Any]) -> float:
    value = row.get("severity_weight")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _counted_as_failed(row: Mapping[str, Any]) -> bool:
    # the gate counts a failure or an error, and for a blocking test a pass that does not
    # hold (a failed repeated run, a late refusal): such a pass is the only way to block
    if row.get("outcome") in ("fail", "error"):
        return True
    return row.get("outcome") == "pass" and row.get("blocking") is True and row.get("verdict") == "block"


def review(registry: Registry, data: dict[str, Any]) -> dict[str, Any]:
    """A (pruned) review record whose rows' cross-incident figures count public incidents only.

    ``registry`` must be the public view of the registry (``VisibleRegistry``).
    """
    rows = data.get("tests")
    if not isinstance(rows, list):
        return data
    try:
        start = parse_quarter(str(data.get("quarter")))[0]
    except IncidentOpsError:
        start = None
    thresholds = Thresholds.from_policy(registry.policy_record)
    incidents = IncidentTable.of(registry.incident_records())
    out = dict(data)
    out["tests"] = [
        _review_row(row, start, thresholds, incidents, registry) if isinstance(row, Mapping) else row
        for row in rows
    ]
    return out


def _review_row(row: Mapping[str, Any], start: Any, thresholds: Thresholds, incidents: IncidentTable,
                registry: Registry) -> dict[str, Any]:
    figures = _recompute(row, start, thresholds, incidents, registry) if start is not None else None
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key not in CROSS_RECORD:
            out[key] = value
        elif figures is not None:
            out[key] = figures[key]
    if figures is not None:
        for key in CROSS_RECORD:
            out.setdefault(key, figures[key])
    return out


def _recompute(row: Mapping[str, Any], start: Any, thresholds: Thresholds, incidents: IncidentTable,
               registry: Registry) -> dict[str, Any] | None:
    incident_id = row.get("incident_id")
    incident = incidents.get(incident_id) if isinstance(incident_id, str) else None
    age = row.get("age_days")
    if incident is None or not isinstance(age, int) or isinstance(age, bool):
        return None
    similar = similar_incidents(
        incidents, incident_id, incident.attack_vector, incident.type, start, thresholds.similar_incidents_window_days,
    )
    state = _text(row.get("state"))
    if state == "RETIRED":
        return {"similar_incidents_12m": len(similar), "recommendation": None, "reasons": []}
    version = _text(row.get("model_version"))
    current = registry.lineage.current if registry.lineage is not None else None
    recorded = row.get("model_change") if row.get("model_change") in MODEL_CHANGES else UNKNOWN
    change = model_change(model_versions(registry.lineage), version, current)
    if change.kind != recorded:
        change = ModelChange(str(recorded))
    last_review = parse_time(row.get("last_review_at"))
    since_review = days_between(last_review, start) if last_review else None
    stale = thresholds.review_stale_after_days
    since_incident = row.get("days_since_incident")
    relevant = row.get("scenario_still_relevant")
    factors = Factors(
        test_id=str(row.get("test_id")), state=state, age=age, uncommitted=False,
        severity=_text(row.get("incident_severity")),
        since_incident=since_incident if isinstance(since_incident, int) and not isinstance(since_incident, bool)
        else None,
        status=_text(row.get("attack_vector_status")),
        relevant=relevant if isinstance(relevant, bool) else None,
        version=version, current=current, change=change, similar=similar, since_review=since_review,
        review_due=age >= stale and (since_review is None or since_review >= stale),
        reverified_at=parse_time(row.get("reverified_at")),
    )
    recommendation, reasons = recommend(factors, thresholds)
    return {"similar_incidents_12m": len(similar), "recommendation": recommendation, "reasons": list(reasons)}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
