"""Decay assessment of regression tests: is each test still worth running, and blocking?

Pure: it reads a :class:`~incidentops.records.registry.Registry`, a
:class:`~incidentops.lifecycle.history.RegistryHistory` and an explicit ``as_of``. The
factors are the operations guide's decay assessment criteria and its
"3-month relevance" table; the thresholds come from the policy's ``decay`` and
``regression`` sections.

The recommendation follows the guide's default policy:

* nothing younger than ``decay.keep_if_younger_than_days`` (time in the suite,
  from git) is recommended for deprecation unless its attack vector is patched
  or obsolete, and nothing that young is recommended for retirement;
* a test of a protected severity (SEV-0/1) stays unless its attack is patched
  (or obsolete) *and* the model architecture changed since it was written;
* still seeing similar incidents turns a deprecation or retirement into REVIEW;
* a major update or architecture change since the test's model version asks
  for re-verification (REVIEW), until a KEEP decision taken after that model's
  release records it.

Time in the suite (:func:`days_in_suite`) and the date the next review is due
are computed here, once, and every page and report shows these figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from incidentops.lifecycle.history import (
    FileHistory,
    ImportDeclaration,
    RegistryHistory,
    load_history,
)
from incidentops.records.model import (
    Decision,
    DecisionKind,
    Incident,
    Model,
    ModelLineage,
    Policy,
    RegressionTest,
    State,
)
from incidentops.records.registry import Registry

KEEP = "KEEP"
REVIEW = "REVIEW"
CONSIDER_DEPRECATION = "CONSIDER_DEPRECATION"
CONSIDER_RETIREMENT = "CONSIDER_RETIREMENT"
RECOMMENDATIONS = (KEEP, REVIEW, CONSIDER_DEPRECATION, CONSIDER_RETIREMENT)

SAME_VERSION = "same_version"
MINOR_UPDATE = "minor_update"
MAJOR_UPDATE = "major_update"
ARCHITECTURE_CHANGE = "architecture_change"
UNKNOWN = "unknown"
MODEL_CHANGES = (SAME_VERSION, MINOR_UPDATE, MAJOR_UPDATE, ARCHITECTURE_CHANGE, UNKNOWN)

NOT_VIABLE = ("patched", "obsolete")
#: decisions that count as a review of the test (CREATE does not)
REVIEW_DECISIONS = ("KEEP", "MONITOR", "ACTIVATE", "DEPRECATE", "RETIRE")
_RELEVANCE = {
    SAME_VERSION: "Definitely relevant",
    MINOR_UPDATE: "Likely relevant",
    MAJOR_UPDATE: "Re-verify, may need adjustment",
    ARCHITECTURE_CHANGE: "Test may not apply, review",
}


@dataclass(frozen=True, slots=True)
class ModelChange:
    """How the model changed between the version a test was written against and ``current``.

    ``kind`` is one of :data:`MODEL_CHANGES`; ``path`` lists the versions after
    the test's version up to ``current`` (empty for the same version or unknown).
    """

    kind: str
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The policy's decay thresholds, in days."""

    keep_if_younger_than_days: int = 365
    consider_retiring_after_days: int = 730
    similar_incidents_window_days: int = 365
    review_stale_after_days: int = 365
    relevance: Mapping[str, str] = field(default_factory=lambda: dict(_RELEVANCE))
    protected_severities: tuple[str, ...] = ("SEV-0", "SEV-1")
    lowest_severity: str | None = "SEV-3"

    @classmethod
    def from_policy(cls, policy: Policy) -> Thresholds:
        decay = policy.decay
        table = decay.model_relevance
        relevance = dict(_RELEVANCE)
        relevance.update({name: text for name, text in (
            (SAME_VERSION, table.same_version), (MINOR_UPDATE, table.minor_update),
            (MAJOR_UPDATE, table.major_update), (ARCHITECTURE_CHANGE, table.architecture_change)) if text})
        levels = policy.severity_levels
        return cls(
            keep_if_younger_than_days=decay.keep_if_younger_than_days,
            consider_retiring_after_days=decay.consider_retiring_after_days,
            similar_incidents_window_days=decay.similar_incidents_window_days,
            review_stale_after_days=decay.review_stale_after_days,
            relevance=relevance,
            protected_severities=policy.regression.protected_severities,
            lowest_severity=levels[-1].id if levels else "SEV-3",
        )


@dataclass(frozen=True, slots=True)
class Assessment:
    """The decay factors of one regression test and the recommendation they lead to.

    Times are as of the assessment's ``as_of``. ``added_at`` is when the test
    landed in the suite according to git (renames and the move into the archive
    keep it); ``uncommitted`` tests have no history yet and count as added at
    ``as_of``. ``recommendation`` is ``None`` for RETIRED tests.
    """

    test_id: str
    path: str
    state: str | None
    added_at: datetime
    age_days: int
    uncommitted: bool
    incident_id: str | None
    incident_severity: str | None
    incident_detected_at: datetime | None
    days_since_incident: int | None
    attack_vector: str | None
    attack_vector_status: str | None
    scenario_still_relevant: bool | None
    model_version: str | None
    current_model: str | None
    model_change: str
    model_relevance: str
    similar_incidents_12m: int
    similar_incident_ids: tuple[str, ...]
    last_review_at: datetime | None
    days_since_review: int | None
    review_due: bool
    recommendation: str | None
    reasons: tuple[str, ...]
    #: when the next review is due (a year in the suite, then a year after each review); None when RETIRED
    review_due_at: datetime | None = None
    #: the age starts at the CREATE decision: the file came with the import the policy declares
    imported: bool = False
    #: the KEEP decision that re-verified the test after the model change it asks about, if any
    reverified_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (timestamps as RFC 3339 strings)."""
        return {
            "test_id": self.test_id,
            "path": self.path,
            "state": self.state,
            "added_at": stamp(self.added_at),
            "age_days": self.age_days,
            "uncommitted": self.uncommitted,
            "incident_id": self.incident_id,
            "incident_severity": self.incident_severity,
            "incident_detected_at": stamp(self.incident_detected_at),
            "days_since_incident": self.days_since_incident,
            "attack_vector": self.attack_vector,
            "attack_vector_status": self.attack_vector_status,
            "scenario_still_relevant": self.scenario_still_relevant,
            "model_version": self.model_version,
            "current_model": self.current_model,
            "model_change": self.model_change,
            "model_relevance": self.model_relevance,
            "similar_incidents_12m": self.similar_incidents_12m,
            "similar_incident_ids": list(self.similar_incident_ids),
            "last_review_at": stamp(self.last_review_at),
            "days_since_review": self.days_since_review,
            "review_due": self.review_due,
            "review_due_at": stamp(self.review_due_at),
            "imported": self.imported,
            "reverified_at": stamp(self.reverified_at),
            "recommendation": self.recommendation,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class DecayReport:
    """Every assessed test, in test id order."""

    as_of: datetime
    current_model: str | None
    assessments: tuple[Assessment, ...]

    def counts(self) -> dict[str, int]:
        """Number of tests per recommendation (every recommendation listed, RETIRED ones apart)."""
        out = dict.fromkeys(RECOMMENDATIONS, 0)
        for item in self.assessments:
            if item.recommendation is not None:
                out[item.recommendation] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": stamp(self.as_of),
            "current_model": self.current_model,
            "counts": self.counts(),
            "tests": [a.as_dict() for a in self.assessments],
        }


# --- public API --------------------------------------------------------------

HISTORY_PATHS = ("regressions",)
"""The folders whose git history the decay assessment reads."""


def assess_repository(
    registry: Registry,
    as_of: datetime,
    states: Iterable[str] | None = None,
    *,
    history_progress: Callable[[int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DecayReport:
    """Read the tests' git history and assess them: :func:`assess_registry` with its inputs loaded.

    The one ``git log`` pass runs while the records are parsed, so the whole
    assessment takes about as long as git alone.
    """
    declared = ImportDeclaration.from_policy(registry.policy_record)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(
            load_history, registry.root, HISTORY_PATHS, as_of, progress=history_progress,
            imported=declared,
        )
        records = read_records(registry, progress)
        history = pending.result()
    return assess_registry(registry, history, as_of, states, records=records)


@dataclass(frozen=True, slots=True)
class Records:
    """The valid tests and incidents of a registry, typed, by path."""

    tests: Mapping[str, RegressionTest]
    incidents: Mapping[str, Incident]


def read_records(registry: Registry, progress: Callable[[int, int], None] | None = None) -> Records:
    """Every valid test and incident record, typed.

    A record that failed its schema has no typed form and is not assessed
    (`incidentops check` reports why); the records are read while git runs.
    """
    test_paths = [p for paths in registry.test_paths.values() for p in paths]
    incident_paths = [registry.incident_path(i) for i in registry.incident_ids]
    total = len(test_paths) + len(incident_paths)
    tests: dict[str, RegressionTest] = {}
    incidents: dict[str, Incident] = {}
    for number, path in enumerate([*test_paths, *incident_paths], start=1):
        if number <= len(test_paths):
            if (test := registry.typed(RegressionTest, path)) is not None:
                tests[path] = test
        elif (incident := registry.typed(Incident, path)) is not None:
            incidents[path] = incident
        if progress is not None and number % 500 == 0:
            progress(number, total)
    return Records(tests, incidents)


def model_versions(lineage: ModelLineage | None) -> dict[str, Model]:
    """The models of models.yaml by version (none when it is absent or invalid)."""
    return {m.version: m for m in lineage.models} if lineage is not None else {}


def assess_registry(
    registry: Registry,
    history: RegistryHistory,
    as_of: datetime,
    states: Iterable[str] | None = None,
    *,
    records: Records | None = None,
) -> DecayReport:
    """Assess every valid regression test of ``registry`` as of ``as_of``.

    ``states`` limits the report to tests in those states; by default every
    test but the RETIRED ones. ``records`` (from :func:`read_records`) replaces
    reading the records through the registry.
    """
    wanted = set(states) if states is not None else None
    thresholds = Thresholds.from_policy(registry.policy_record)
    lineage = registry.lineage
    current_model = lineage.current if lineage is not None else None
    models = model_versions(lineage)

    def test_of(path: str) -> RegressionTest | None:
        return records.tests.get(path) if records is not None else registry.typed(RegressionTest, path)

    def incident_of(path: str) -> Incident | None:
        return records.incidents.get(path) if records is not None else registry.typed(Incident, path)

    incidents = IncidentTable(
        (i, found) for i in registry.incident_ids if (found := incident_of(registry.incident_path(i))) is not None
    )
    paths = [(test_id, path) for test_id in sorted(registry.test_paths) for path in registry.test_paths[test_id]]
    out: list[Assessment] = []
    for test_id, path in paths:
        test = test_of(path)
        if test is None:
            continue
        if wanted is None:
            if test.state is State.RETIRED:
                continue
        elif test.state not in wanted:
            continue
        out.append(
            assess_test(
                test_id, path, test, history, as_of, thresholds,
                incidents, models, current_model,
            )
        )  # fmt: skip
    return DecayReport(as_of, current_model, tuple(out))


def assess_test(
    test_id: str,
    path: str,
    test: RegressionTest,
    history: RegistryHistory,
    as_of: datetime,
    thresholds: Thresholds,
    incidents: Mapping[str, Incident],
    models: Mapping[str, Model],
    current_model: str | None,
) -> Assessment:
    """The decay factors and recommendation of one test."""
    file_history = history.for_path(path, as_of)
    added_at = entered_suite(test, file_history)
    age = days_in_suite(test, file_history, as_of)
    state = str(test.state)
    incident_id = test.incident_id or None
    incident = incidents.get(incident_id) if incident_id else None
    severity = incident.severity if incident else None
    detected = incident.detected_at if incident else None
    since_incident = days_between(detected, as_of) if detected else None
    vector = (incident.attack_vector or None) if incident else None
    kind = (incident.type or None) if incident else None
    status = str(test.attack_vector_status)
    relevant = test.scenario_still_relevant
    version = test.model_version or None
    change = model_change(models, version, current_model)
    relevance = thresholds.relevance.get(change.kind, "Model version not in the current model's lineage, review")
    similar = similar_incidents(
        incidents, incident_id, vector, kind, as_of, thresholds.similar_incidents_window_days
    )
    last_review = last_review_at(test.decisions, as_of)
    since_review = days_between(last_review, as_of) if last_review else None
    due_at = review_due_at(added_at, last_review, thresholds.review_stale_after_days)
    review_due = state != "RETIRED" and as_of >= due_at
    reverified = reverified_at(test.decisions, change, models, as_of)

    factors = Factors(
        test_id=test_id, state=state, age=age, uncommitted=file_history.uncommitted,
        severity=severity, since_incident=since_incident, status=status, relevant=relevant,
        version=version, current=current_model, change=change, similar=similar,
        since_review=since_review, review_due=review_due, reverified_at=reverified,
    )  # fmt: skip
    if state == "RETIRED":
        recommendation: str | None = None
        reasons: tuple[str, ...] = ("RETIRED: out of the suite, archived in regressions/archive/",)
    else:
        recommendation, reasons = recommend(factors, thresholds)
    return Assessment(
        test_id=test_id,
        path=path,
        state=state,
        added_at=added_at,
        age_days=age,
        uncommitted=file_history.uncommitted,
        incident_id=incident_id,
        incident_severity=severity,
        incident_detected_at=detected,
        days_since_incident=since_incident,
        attack_vector=vector,
        attack_vector_status=status,
        scenario_still_relevant=relevant,
        model_version=version,
        current_model=current_model,
        model_change=change.kind,
        model_relevance=relevance,
        similar_incidents_12m=len(similar),
        similar_incident_ids=similar,
        last_review_at=last_review,
        days_since_review=since_review,
        review_due=review_due,
        recommendation=recommendation,
        reasons=reasons,
        review_due_at=None if state == "RETIRED" else due_at,
        imported=added_at < file_history.added_at,
        reverified_at=reverified,
    )


def entered_suite(test: RegressionTest, file_history: FileHistory) -> datetime:
    """When the test entered the suite: git's date of the file, renames and the archive kept.

    For a file that came with the import the policy declares (``history`` in
    incidentops.yaml), git only knows the import: the test's CREATE decision
    says when it entered the suite, when that is earlier. Git stays
    authoritative for every file added after the import.
    """
    if file_history.imported and not file_history.uncommitted:
        created = created_at(test.decisions)
        if created is not None and created < file_history.added_at:
            return created
    return file_history.added_at


def left_suite(test: RegressionTest) -> datetime | None:
    """When a RETIRED test left the suite (its RETIRE decision), else None."""
    if test.state is not State.RETIRED:
        return None
    stamps = [d.at for d in test.decisions if d.to_state is State.RETIRED]
    return max(stamps) if stamps else None


def days_in_suite(test: RegressionTest, file_history: FileHistory, as_of: datetime) -> int:
    """Whole days the test has been in the suite as of ``as_of`` (a RETIRED test: until it retired).

    The one definition of "time in suite": the decay assessment, the quarterly
    review, the lifecycle commands, pr-check and every page of the site use it.
    """
    end = left_suite(test)
    end = as_of if end is None or end > as_of else end
    return days_between(entered_suite(test, file_history), end)


def review_due_at(entered: datetime, last_review: datetime | None, stale_after_days: int) -> datetime:
    """When the test's next review is due: ``stale_after_days`` after it entered the suite,
    and as long after its last review decision."""
    due = entered + timedelta(days=stale_after_days)
    if last_review is not None:
        due = max(due, last_review + timedelta(days=stale_after_days))
    return due


def created_at(decisions: Sequence[Decision]) -> datetime | None:
    """The time of the test's CREATE decision (the earliest, if several), or None."""
    stamps = [d.at for d in decisions if d.decision is DecisionKind.CREATE]
    return min(stamps) if stamps else None


def reverified_at(
    decisions: Sequence[Decision], change: ModelChange, models: Mapping[str, Model], as_of: datetime
) -> datetime | None:
    """The latest KEEP decision taken after the release of the model that asks for re-verification.

    A major update or an architecture change since the test's model version
    means "re-verify the test" (the guide's 3-month relevance table); a KEEP
    decision recorded after that model was released is that re-verification.
    None when there is nothing to re-verify, no such KEEP, or the release date is unknown.
    """
    if change.kind not in (MAJOR_UPDATE, ARCHITECTURE_CHANGE):
        return None
    steps = [v for v in change.path if (m := models.get(v)) is not None and m.change in ("major", "architecture")]
    asking = steps[-1] if steps else change.path[-1] if change.path else None  # the latest such step
    asked = models.get(asking) if asking else None
    if asked is None:
        return None
    released = datetime.combine(asked.released, time(), UTC)
    keeps = [d.at for d in decisions if d.decision is DecisionKind.KEEP and released <= d.at <= as_of]
    return max(keeps) if keeps else None


def model_change(models: Mapping[str, Model], version: str | None, current: str | None) -> ModelChange:
    """Walk the lineage back from ``current`` to ``version`` and classify the change.

    A change of ``family`` or a ``change: architecture`` anywhere on the path is
    an architecture change; otherwise any ``major`` step is a major update;
    otherwise it is a minor update. A version that is not an ancestor of
    ``current`` (or an unknown one) is ``unknown``.
    """
    if not version or not current:
        return ModelChange(UNKNOWN)
    if version == current:
        return ModelChange(SAME_VERSION)
    start = models.get(version)
    if start is None:
        return ModelChange(UNKNOWN)
    steps: list[str] = []
    seen: set[str] = set()
    cursor: str | None = current
    while cursor is not None and cursor != version:
        if cursor in seen or cursor not in models:
            return ModelChange(UNKNOWN)
        seen.add(cursor)
        steps.append(cursor)
        cursor = models[cursor].predecessor
    if cursor is None:
        return ModelChange(UNKNOWN)
    steps.reverse()
    entries = [models[v] for v in steps]
    if any(e.change == "architecture" or e.family != start.family for e in entries):
        kind = ARCHITECTURE_CHANGE
    elif any(e.change == "major" for e in entries):
        kind = MAJOR_UPDATE
    else:
        kind = MINOR_UPDATE
    return ModelChange(kind, tuple(steps))


class IncidentTable(dict[str, Incident]):
    """Incidents by id, indexed by attack vector and by type on first use, so that finding
    similar incidents for every test costs one pass over the incidents, not one per test."""

    _index: tuple[dict[str, list[tuple[datetime, str]]], dict[str, list[tuple[datetime, str]]]] | None = None

    @classmethod
    def of(cls, incidents: Iterable[Incident]) -> IncidentTable:
        return cls((incident.id, incident) for incident in incidents)

    def by_vector_and_type(
        self,
    ) -> tuple[dict[str, list[tuple[datetime, str]]], dict[str, list[tuple[datetime, str]]]]:
        if self._index is None:
            by_vector: dict[str, list[tuple[datetime, str]]] = {}
            by_type: dict[str, list[tuple[datetime, str]]] = {}
            for incident_id, incident in self.items():
                by_vector.setdefault(incident.attack_vector, []).append((incident.detected_at, incident_id))
                by_type.setdefault(incident.type, []).append((incident.detected_at, incident_id))
            self._index = (by_vector, by_type)
        return self._index


def similar_incidents(
    incidents: Mapping[str, Incident],
    own: str | None,
    attack_vector: str | None,
    incident_type: str | None,
    as_of: datetime,
    window_days: int,
) -> tuple[str, ...]:
    """Other incidents with the same attack vector or type, detected in the window ending at ``as_of``."""
    if attack_vector is None and incident_type is None:
        return ()
    table = incidents if isinstance(incidents, IncidentTable) else IncidentTable(incidents)
    by_vector, by_type = table.by_vector_and_type()
    start = as_of - timedelta(days=window_days)
    candidates = [*by_vector.get(attack_vector or "", ()), *by_type.get(incident_type or "", ())]
    found = {incident_id for detected, incident_id in candidates
             if incident_id != own and start < detected <= as_of}
    return tuple(sorted(found))


def last_review_at(decisions: Sequence[Decision], as_of: datetime) -> datetime | None:
    """When the latest review decision (anything but CREATE) up to ``as_of`` was taken."""
    stamps = [d.at for d in decisions if d.decision in REVIEW_DECISIONS and d.at <= as_of]
    return max(stamps) if stamps else None


# --- the recommendation --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Factors:
    """The inputs of :func:`recommend` (ages in days; ``change`` from :func:`model_change`)."""

    test_id: str
    state: str | None
    age: int
    uncommitted: bool
    severity: str | None
    since_incident: int | None
    status: str | None
    relevant: bool | None
    version: str | None
    current: str | None
    change: ModelChange
    similar: tuple[str, ...]
    since_review: int | None
    review_due: bool
    #: a KEEP decision after the model change re-verified the test (see :func:`reverified_at`)
    reverified_at: datetime | None = None


def recommend(f: Factors, t: Thresholds) -> tuple[str, tuple[str, ...]]:
    """The recommendation for one (non-retired) test, and the reasons that led to it."""
    young = f.age < t.keep_if_younger_than_days
    protected = f.severity in t.protected_severities
    not_viable = f.status in NOT_VIABLE
    irrelevant = f.relevant is False
    arch = f.change.kind == ARCHITECTURE_CHANGE
    old_incident = f.since_incident is not None and f.since_incident > t.consider_retiring_after_days
    lowest = f.severity is not None and f.severity == t.lowest_severity

    retire: list[str] = []  # the guide's "consider retiring" column
    if not_viable:
        retire.append(f"attack vector {f.status}")
    if irrelevant:
        retire.append("scenario no longer relevant (product changed)")
    if arch:
        retire.append(f"model architecture changed since {f.version} ({_path(f.change)})")
    if lowest:
        retire.append(f"{f.severity} incident")
    if old_incident:
        retire.append(
            f"incident {f.since_incident} days ago (> {t.consider_retiring_after_days})"
        )

    age_text = (
        "no git history yet: no time in the suite"
        if f.uncommitted
        else f"in the suite for {f.age} days"
    )
    if not_viable or irrelevant:
        if young:
            candidate = CONSIDER_DEPRECATION
            retire.append(
                f"{age_text} (< {t.keep_if_younger_than_days}): too young to retire"
            )
        elif len(retire) >= 2:
            candidate = CONSIDER_RETIREMENT
        else:
            candidate = CONSIDER_DEPRECATION
    elif not young and lowest and old_incident:
        candidate = CONSIDER_DEPRECATION
    else:
        candidate = KEEP

    reasons: list[str] = []
    if candidate != KEEP:
        reasons.extend(retire)
        if f.similar:
            reasons.append(
                f"{len(f.similar)} similar incident(s) in the last {t.similar_incidents_window_days}"
                f" days ({', '.join(f.similar)}): the threat is still seen"
            )
            candidate = REVIEW
        if protected and not (not_viable and arch):
            reasons.append(
                f"{f.severity} test: SEV-0/1 tests stay unless the attack is patched and the"
                " model architecture changed"
            )
            candidate = REVIEW
        return candidate, tuple(reasons)

    # Nothing argues for removal: keep, unless something needs a human look.
    if f.change.kind in (MAJOR_UPDATE, ARCHITECTURE_CHANGE) and f.reverified_at is None:
        label = "major model update" if f.change.kind == MAJOR_UPDATE else "model architecture changed"
        reasons.append(f"{label} since {f.version} ({_path(f.change)}): re-verify the test")
    elif f.change.kind == UNKNOWN:
        reasons.append(
            f"model version {f.version or '(none)'} is not in the lineage of the current model"
            f" {f.current or '(none)'}: check the test still applies"
        )
    if f.review_due:
        last = (
            f"last reviewed {f.since_review} days ago"
            if f.since_review is not None
            else "never reviewed"
        )
        reasons.append(
            f"{age_text}, {last}: due for its review (every {t.review_stale_after_days} days)"
        )
    if reasons:
        return REVIEW, tuple(reasons)
    if young:
        reasons.append(f"{age_text} (< {t.keep_if_younger_than_days}): keep active for a year")
    if protected:
        reasons.append(f"{f.severity} test: SEV-0/1 tests stay")
    if f.status == "viable":
        reasons.append("attack still viable")
    if f.similar:
        reasons.append(
            f"{len(f.similar)} similar incident(s) in the last {t.similar_incidents_window_days} days"
        )
    if f.reverified_at is not None:
        label = "major model update" if f.change.kind == MAJOR_UPDATE else "model architecture change"
        reasons.append(f"re-verified after the {label} ({_path(f.change)}): KEEP decision of"
                       f" {f.reverified_at:%Y-%m-%d}")
    if f.change.kind in (SAME_VERSION, MINOR_UPDATE):
        reasons.append(
            "same model version" if f.change.kind == SAME_VERSION else f"minor model update since {f.version}"
        )
    return KEEP, tuple(reasons)


# --- small helpers -------------------------------------------------------------


def days_between(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end`` (0 when ``start`` is later)."""
    return max(0, int((end - start).total_seconds() // 86400))


def stamp(value: datetime | None) -> str | None:
    """A datetime as ``2026-03-10T14:05:00Z`` (UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(change: ModelChange) -> str:
    return " -> ".join(change.path) if change.path else "unknown lineage"

