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

from dataclasses import replace
from datetime import datetime

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
    recommend,
    similar_incidents,
)
from incidentops.lifecycle.review import parse_quarter
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import GateVerdict, Release, ReleaseTest, Review, ReviewRow
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


def release(record: Release) -> Release:
    """A (pruned) release record with decision, score and counts over its public rows only.

    ``record`` is the pruned record (``Visibility.prune_release``).
    """
    shown = {row.test_id for row in record.tests}
    ran = [row for row in record.tests if row.outcome in _RAN]
    ran_weight = sum(row.severity_weight for row in ran)
    failed_weight = sum(row.severity_weight for row in ran if _counted_as_failed(row))
    return replace(
        record,
        decision=GateVerdict.BLOCK if any(row.verdict == "block" for row in record.tests) else GateVerdict.PASS,
        score=round(failed_weight / ran_weight, 4) if ran_weight else 0.0,
        tests_run=len(ran),
        blocking=tuple(b for b in record.blocking if b.test_id in shown),
        flaky=tuple(f for f in record.flaky if f.test_id in shown),
        warnings=tuple(w for w in record.warnings if w.test_id in shown),
        missing=tuple(t for t in record.missing if t in shown),
    )


def _counted_as_failed(row: ReleaseTest) -> bool:
    # the gate counts a failure or an error, and for a blocking test a pass that does not
    # hold (a failed repeated run, a late refusal): such a pass is the only way to block
    if row.outcome in ("fail", "error"):
        return True
    return row.outcome == "pass" and row.blocking and row.verdict == "block"


def review(registry: Registry, record: Review) -> Review:
    """A (pruned) review record whose rows' cross-incident figures count public incidents only.

    ``registry`` must be the public view of the registry (``VisibleRegistry``), ``record``
    the pruned review (``Visibility.prune_review``). A row whose figures cannot be
    worked out again has none.
    """
    try:
        start: datetime | None = parse_quarter(record.quarter)[0]
    except IncidentOpsError:
        start = None
    thresholds = Thresholds.from_policy(registry.policy_record)
    incidents = IncidentTable.of(registry.incident_records())
    rows: list[ReviewRow] = []
    for row in record.tests:
        figures = _recompute(row, start, thresholds, incidents, registry) if start is not None else None
        if figures is None:
            rows.append(replace(row, similar_incidents_12m=None, recommendation=None, reasons=()))
        else:
            similar, recommendation, reasons = figures
            rows.append(replace(row, similar_incidents_12m=similar, recommendation=recommendation, reasons=reasons))
    return replace(record, tests=tuple(rows))


def _recompute(row: ReviewRow, start: datetime, thresholds: Thresholds, incidents: IncidentTable,
               registry: Registry) -> tuple[int, str | None, tuple[str, ...]] | None:
    """(similar incidents, recommendation, reasons) of a row, from the public incidents; None if unknown."""
    incident_id, age = row.incident_id, row.age_days
    incident = incidents.get(incident_id) if incident_id is not None else None
    if incident is None or incident_id is None or age is None:
        return None
    similar = similar_incidents(incidents, incident_id, incident.attack_vector, incident.type,
                                start, thresholds.similar_incidents_window_days)
    state = str(row.state) if row.state is not None else None
    if state == "RETIRED":
        return len(similar), None, ()
    version = row.model_version or None
    lineage = registry.lineage
    current = lineage.current if lineage is not None and lineage.current else None
    recorded = row.model_change if row.model_change in MODEL_CHANGES else UNKNOWN
    change = model_change(model_versions(lineage), version, current)
    if change.kind != recorded:
        change = ModelChange(str(recorded))
    last_review = row.last_review_at
    since_review = days_between(last_review, start) if last_review else None
    stale = thresholds.review_stale_after_days
    factors = Factors(
        test_id=row.test_id, state=state, age=age, uncommitted=False,
        severity=row.incident_severity or None,
        since_incident=row.days_since_incident,
        status=str(row.attack_vector_status) if row.attack_vector_status is not None else None,
        relevant=row.scenario_still_relevant,
        version=version, current=current, change=change, similar=similar, since_review=since_review,
        review_due=age >= stale and (since_review is None or since_review >= stale),
        reverified_at=row.reverified_at,
    )
    recommendation, reasons = recommend(factors, thresholds)
    return len(similar), recommendation, tuple(reasons)
