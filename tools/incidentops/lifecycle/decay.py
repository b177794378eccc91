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

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentops.lifecycle.history import (
    FileHistory,
    ImportDeclaration,
    RegistryHistory,
    load_history,
)
from incidentops.records.fsio import FsProblem, read_registry_file
from incidentops.records.registry import Registry
from incidentops.records.yamlio import MAX_BYTES, load_bytes

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

_DEFAULTS = {
    "keep_if_younger_than_days": 365,
    "consider_retiring_after_days": 730,
    "similar_incidents_window_days": 365,
    "review_stale_after_days": 365,
}
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
    def from_policy(cls, policy: Mapping[str, Any]) -> Thresholds:
        decay = policy.get("decay") if isinstance(policy.get("decay"), dict) else {}
        assert isinstance(decay, dict)
        days = {name: _int(decay.get(name), default) for name, default in _DEFAULTS.items()}
        relevance = dict(_RELEVANCE)
        table = decay.get("model_relevance")
        if isinstance(table, dict):
            relevance.update({k: str(v) for k, v in table.items() if k in relevance and v})
        regression = policy.get("regression") if isinstance(policy.get("regression"), dict) else {}
        assert isinstance(regression, dict)
        protected = regression.get("protected_severities", ["SEV-0", "SEV-1"])
        levels = [str(s.get("id")) for s in policy.get("severity_levels", []) or [] if isinstance(s, dict)]
        return cls(
            relevance=relevance,
            protected_severities=tuple(str(s) for s in protected or []),
            lowest_severity=levels[-1] if levels else "SEV-3",
            **days,
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
    declared = ImportDeclaration.from_policy(registry.policy)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(
            load_history, registry.root, HISTORY_PATHS, as_of, progress=history_progress,
            imported=declared,
        )
        records = read_records(registry, progress)
        history = pending.result()
    return assess_registry(registry, history, as_of, states, records=records)


def read_records(
    registry: Registry, progress: Callable[[int, int], None] | None = None
) -> dict[str, dict[str, Any]]:
    """Every test and incident record, parsed but not schema-validated: ``{path: data}``.

    The assessment reads each field defensively, so a record with schema
    errors (which `incidentops check` reports) is still assessed; skipping
    validation keeps the run close to the time of the git log alone.
    """
    paths = [p for test_paths in registry.test_paths.values() for p in test_paths]
    paths += [registry.incident_path(i) for i in registry.incident_ids]
    out: dict[str, dict[str, Any]] = {}
    for number, path in enumerate(paths, start=1):
        try:
            raw = read_registry_file(registry.root, path, MAX_BYTES)
        except (OSError, FsProblem):
            continue  # a link, FIFO or unreadable file: `incidentops check` reports it
        if raw is None:
            continue
        data = load_bytes(raw, path).data
        if isinstance(data, dict):
            out[path] = data
        if progress is not None and number % 500 == 0:
            progress(number, len(paths))
    return out


def assess_registry(
    registry: Registry,
    history: RegistryHistory,
    as_of: datetime,
    states: Iterable[str] | None = None,
    *,
    records: Mapping[str, dict[str, Any]] | None = None,
) -> DecayReport:
    """Assess every regression test of ``registry`` as of ``as_of``.

    ``states`` limits the report to tests in those states; by default every
    test but the RETIRED ones. ``records`` (from :func:`read_records`) replaces
    reading the records through the registry.
    """
    wanted = set(states) if states is not None else None
    policy = registry.policy
    thresholds = Thresholds.from_policy(policy)
    current = registry.models.get("current")
    current_model = current if isinstance(current, str) else None

    def data_of(path: str) -> dict[str, Any] | None:
        return records.get(path) if records is not None else registry.data(path)

    incidents = IncidentTable(
        (i, found) for i in registry.incident_ids if (found := data_of(registry.incident_path(i))) is not None
    )
    paths = [(test_id, path) for test_id in sorted(registry.test_paths) for path in registry.test_paths[test_id]]
    out: list[Assessment] = []
    for test_id, path in paths:
        data = data_of(path)
        if data is None:
            continue
        state = data.get("state") if isinstance(data.get("state"), str) else None
        if wanted is None:
            if state == "RETIRED":
                continue
        elif state not in wanted:
            continue
        out.append(
            assess_test(
                test_id, path, data, history, as_of, thresholds,
                incidents, registry.model_versions, current_model,
            )
        )  # fmt: skip
    return DecayReport(as_of, current_model, tuple(out))


def assess_test(
    test_id: str,
    path: str,
    data: Mapping[str, Any],
    history: RegistryHistory,
    as_of: datetime,
    thresholds: Thresholds,
    incidents: Mapping[str, Mapping[str, Any]],
    models: Mapping[str, Mapping[str, Any]],
    current_model: str | None,
) -> Assessment:
    """The decay factors and recommendation of one test (``data`` is its record)."""
    file_history = history.for_path(path, as_of)
    added_at = entered_suite(data, file_history)
    age = days_in_suite(data, file_history, as_of)
    state = data.get("state") if isinstance(data.get("state"), str) else None
    incident_id = _str(data.get("incident_id"))
    incident = incidents.get(incident_id) if incident_id else None
    severity = _str(incident.get("severity")) if incident else None
    detected = parse_time(incident.get("detected_at")) if incident else None
    since_incident = days_between(detected, as_of) if detected else None
    vector = _str(incident.get("attack_vector")) if incident else None
    kind = _str(incident.get("type")) if incident else None
    status = _str(data.get("attack_vector_status"))
    relevant = data.get("scenario_still_relevant")
    relevant = relevant if isinstance(relevant, bool) else None
    version = _str(data.get("model_version"))
    change = model_change(models, version, current_model)
    relevance = thresholds.relevance.get(change.kind, "Model version not in the current model's lineage, review")
    similar = similar_incidents(
        incidents, incident_id, vector, kind, as_of, thresholds.similar_incidents_window_days
    )
    last_review = last_review_at(data.get("decisions"), as_of)
    since_review = days_between(last_review, as_of) if last_review else None
    due_at = review_due_at(added_at, last_review, thresholds.review_stale_after_days)
    review_due = state != "RETIRED" and as_of >= due_at
    reverified = reverified_at(data.get("decisions"), change, models, as_of)

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


def entered_suite(data: Mapping[str, Any], file_history: FileHistory) -> datetime:
    """When the test entered the suite: git's date of the file, renames and the archive kept.

    For a file that came with the import the policy declares (``history`` in
    incidentops.yaml), git only knows the import: the test's CREATE decision
    says when it entered the suite, when that is earlier. Git stays
    authoritative for every file added after the import.
    """
    if file_history.imported and not file_history.uncommitted:
        created = created_at(data.get("decisions"))
        if created is not None and created < file_history.added_at:
            return created
    return file_history.added_at


def left_suite(data: Mapping[str, Any]) -> datetime | None:
    """When a RETIRED test left the suite (its RETIRE decision), else None."""
    if data.get("state") != "RETIRED":
        return None
    stamps = [when for item in data.get("decisions") or [] if isinstance(item, dict)
              and item.get("to_state") == "RETIRED" and (when := parse_time(item.get("at"))) is not None]
    return max(stamps) if stamps else None


def days_in_suite(data: Mapping[str, Any], file_history: FileHistory, as_of: datetime) -> int:
    """Whole days the test has been in the suite as of ``as_of`` (a RETIRED test: until it retired).

    The one definition of "time in suite": the decay assessment, the quarterly
    review, the lifecycle commands, pr-check and every page of the site use it.
    """
    end = left_suite(data)
    end = as_of if end is None or end > as_of else end
    return days_between(entered_suite(data, file_history), end)


def review_due_at(entered: datetime, last_review: datetime | None, stale_after_days: int) -> datetime:
    """When the test's next review is due: ``stale_after_days`` after it entered the suite,
    and as long after its last review decision."""
    due = entered + timedelta(days=stale_after_days)
    if last_review is not None:
        due = max(due, last_review + timedelta(days=stale_after_days))
    return due


def created_at(decisions: object) -> datetime | None:
    """The time of the test's CREATE decision (the earliest, if several), or None."""
    if not isinstance(decisions, list):
        return None
    stamps = [when for item in decisions if isinstance(item, dict) and item.get("decision") == "CREATE"
              and (when := parse_time(item.get("at"))) is not None]
    return min(stamps) if stamps else None


def reverified_at(
    decisions: object, change: ModelChange, models: Mapping[str, Mapping[str, Any]], as_of: datetime
) -> datetime | None:
    """The latest KEEP decision taken after the release of the model that asks for re-verification.

    A major update or an architecture change since the test's model version
    means "re-verify the test" (the guide's 3-month relevance table); a KEEP
    decision recorded after that model was released is that re-verification.
    None when there is nothing to re-verify, no such KEEP, or the release date is unknown.
    """
    if change.kind not in (MAJOR_UPDATE, ARCHITECTURE_CHANGE) or not isinstance(decisions, list):
        return None
    steps = [v for v in change.path if (models.get(v) or {}).get("change") in ("major", "architecture")]
    asking = steps[-1] if steps else change.path[-1] if change.path else None  # the latest such step
    released = parse_time((models.get(asking) or {}).get("released")) if asking else None
    if released is None:
        return None
    keeps = [when for item in decisions if isinstance(item, dict) and item.get("decision") == "KEEP"
             and (when := parse_time(item.get("at"))) is not None and released <= when <= as_of]
    return max(keeps) if keeps else None


def model_change(
    models: Mapping[str, Mapping[str, Any]], version: str | None, current: str | None
) -> ModelChange:
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
        pred = models[cursor].get("predecessor")
        cursor = pred if isinstance(pred, str) else None
    if cursor is None:
        return ModelChange(UNKNOWN)
    steps.reverse()
    family = start.get("family")
    entries = [models[v] for v in steps]
    if any(e.get("change") == "architecture" or e.get("family") != family for e in entries):
        kind = ARCHITECTURE_CHANGE
    elif any(e.get("change") == "major" for e in entries):
        kind = MAJOR_UPDATE
    else:
        kind = MINOR_UPDATE
    return ModelChange(kind, tuple(steps))


class IncidentTable(dict[str, Mapping[str, Any]]):
    """Incidents by id, indexed by attack vector and by type on first use, so that finding
    similar incidents for every test costs one pass over the incidents, not one per test."""

    _index: tuple[dict[str, list[tuple[datetime, str]]], dict[str, list[tuple[datetime, str]]]] | None = None

    def by_vector_and_type(
        self,
    ) -> tuple[dict[str, list[tuple[datetime, str]]], dict[str, list[tuple[datetime, str]]]]:
        if self._index is None:
            by_vector: dict[str, list[tuple[datetime, str]]] = {}
            by_type: dict[str, list[tuple[datetime, str]]] = {}
            for incident_id, data in self.items():
                detected = parse_time(data.get("detected_at"))
                if detected is None:
                    continue
                if isinstance(data.get("attack_vector"), str):
                    by_vector.setdefault(data["attack_vector"], []).append((detected, incident_id))
                if isinstance(data.get("type"), str):
                    by_type.setdefault(data["type"], []).append((detected, incident_id))
            self._index = (by_vector, by_type)
        return self._index


def similar_incidents(
    incidents: Mapping[str, Mapping[str, Any]],
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


def last_review_at(decisions: object, as_of: datetime) -> datetime | None:
    """When the latest review decision (anything but CREATE) up to ``as_of`` was taken."""
    latest: datetime | None = None
    if not isinstance(decisions, list):
        return None
    for item in decisions:
        if not isinstance(item, dict) or item.get("decision") not in REVIEW_DECISIONS:
            continue
        when = parse_time(item.get("at"))
        if when is not None and when <= as_of and (latest is None or when > latest):
            latest = when
    return latest


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


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (or date) from a record, as an aware datetime; None if absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def stamp(value: datetime | None) -> str | None:
    """A datetime as ``2026-03-10T14:05:00Z`` (UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(change: ModelChange) -> str:
    return " -> ".join(change.path) if change.path else "unknown lineage"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
