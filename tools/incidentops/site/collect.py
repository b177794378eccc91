"""Everything the site shows, gathered once from the registry and its git history.

:func:`collect` reads the records (through the one :class:`Registry`), applies
the public/internal filter, and computes what the pages display: the checklist
assessment, the SLA result, git dates, time in suite. Pages and charts only
read the :class:`SiteData` it returns; a record that cannot be read or computed
becomes a note on the page, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from incidentops.lifecycle import decay
from incidentops.lifecycle.history import FileHistory, RegistryHistory
from incidentops.policy import sla
from incidentops.policy.severity import Assessment, assess
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Incident, Policy, RegressionTest
from incidentops.records.registry import Registry
from incidentops.site import public_records
from incidentops.site.decay_view import DecayInfo, decay_recommendations
from incidentops.site.markup import is_safe_name
from incidentops.site.visibility import Redaction, Visibility, VisibleRegistry, decide

OPEN_STATUSES = ("open", "mitigated")
OPEN_ACTION_STATUSES = ("open", "in_progress")
_NUMBER = re.compile(r"(\d+)")


@dataclass
class Dated:
    """Git dates of one record file (``None`` without history)."""

    created: datetime | None = None
    changed: datetime | None = None
    uncommitted: bool = False
    #: the file came with the import the policy declares: ``created`` is the import, not the record's birth
    imported: bool = False


@dataclass
class PostmortemView:
    path: str
    data: dict[str, Any]
    body: str
    dates: Dated
    redacted: list[str] = field(default_factory=list)


@dataclass
class TestView:
    id: str
    path: str
    data: dict[str, Any]
    archived: bool
    dates: Dated
    days_in_suite: int | None
    decay: DecayInfo | None = None
    #: when the test entered the suite (git, or its CREATE decision for an imported file)
    entered: datetime | None = None
    #: fields the public edition leaves out of this record (``regression.turns``, ...)
    redacted: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return str(self.data.get("state", "?"))

    @property
    def incident_id(self) -> str:
        return str(self.data.get("incident_id", ""))


@dataclass
class IncidentView:
    id: str
    path: str
    data: dict[str, Any]
    dates: Dated
    postmortem: PostmortemView | None = None
    handoff: dict[str, Any] | None = None
    handoff_path: str | None = None
    tests: list[TestView] = field(default_factory=list)
    assessment: Assessment | None = None
    assessment_error: str | None = None
    sla: sla.SlaResult | None = None
    sla_error: str | None = None
    redacted: list[str] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return str(self.data.get("severity", "?"))

    @property
    def is_open(self) -> bool:
        return self.data.get("status") in OPEN_STATUSES

    @property
    def detected(self) -> datetime | None:
        return parse_time(self.data.get("detected_at"))


@dataclass
class ActionItemView:
    incident_id: str
    item: dict[str, Any]
    due: date
    days_overdue: int


@dataclass
class RecordView:
    """An audit entry, review or release record."""

    stem: str
    path: str
    data: dict[str, Any]
    dates: Dated


@dataclass
class SiteData:
    """The registry as the site shows it."""

    root_name: str
    policy: dict[str, Any]
    models: dict[str, Any]
    as_of: datetime
    public: bool
    visibility: Visibility
    incidents: list[IncidentView]
    tests: list[TestView]
    audit: list[RecordView]
    reviews: list[RecordView]
    releases: list[RecordView]
    overdue_actions: list[ActionItemView]
    problems: list[str]
    history_note: str | None
    decay_note: str | None
    #: ``(what, text)`` of every text the public edition redacted (the last check looks for them on every page)
    redacted_texts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def git_note(self) -> str | None:
        """What a page with git-derived figures says when they are missing (None: they are there)."""
        return self.history_note

    def incident(self, incident_id: str) -> IncidentView | None:
        for view in self.incidents:
            if view.id == incident_id:
                return view
        return None

    @property
    def severity_ids(self) -> list[str]:
        return [str(level.get("id")) for level in self.policy.get("severity_levels") or []]


def parse_time(value: Any) -> datetime | None:
    """A record timestamp as an aware UTC datetime, or None when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def parse_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def id_order(value: str) -> tuple[Any, ...]:
    """Natural order: INC_9 before INC_10."""
    return tuple(int(part) if part.isdigit() else part for part in _NUMBER.split(value))


def _dates(history: RegistryHistory | None, path: str) -> Dated:
    if history is None:
        return Dated()
    found: FileHistory | None = history.get(path)
    if found is None:
        return Dated(uncommitted=True)
    return Dated(found.added_at, found.last_changed_at, found.uncommitted, found.imported)


def collect(
    registry: Registry,
    as_of: datetime,
    *,
    public: bool = False,
    history: RegistryHistory | None = None,
    history_note: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SiteData:
    """Gather every record the build shows, with the values the pages display.

    ``history`` comes from :func:`incidentops.lifecycle.history.load_history` (``None``
    when it could not be read; ``history_note`` then says why).
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    policy = registry.policy
    problems: list[str] = []

    def note(message: str) -> None:
        problems.append(message)
        if progress is not None:
            progress(message)

    unreadable: list[str] = []  # ids whose visibility is unknown: a public build never names them
    raw_incidents: list[tuple[str, str, dict[str, Any]]] = []
    for incident_id in sorted(registry.incident_ids, key=id_order):
        path = registry.incident_path(incident_id)
        data = registry.data(path)
        if data is None:
            unreadable.append(incident_id)
            if (registry.root / path).is_file():
                note(f"{path}: not shown, the file could not be read (run `incidentops check`)")
            continue
        if not is_safe_name(incident_id):
            unreadable.append(incident_id)
            note(f"{path}: not shown, the folder name {incident_id!r} cannot name a page")
            continue
        raw_incidents.append((incident_id, path, data))

    raw_tests: list[tuple[str, str, dict[str, Any]]] = []
    for test_id in sorted(registry.test_paths, key=id_order):
        for path in registry.test_paths[test_id]:
            data = registry.data(path)
            if data is None:
                unreadable.append(test_id)
                note(f"{path}: not shown, the file could not be read (run `incidentops check`)")
                continue
            if not is_safe_name(test_id):
                unreadable.append(test_id)
                note(f"{path}: not shown, the name {test_id!r} cannot name a page")
                continue
            raw_tests.append((test_id, path, data))
            break  # a duplicate id is a check error; show the first

    visibility = decide(
        public,
        ((incident_id, data) for incident_id, _, data in raw_incidents),
        ((test_id, data) for test_id, _, data in raw_tests),
        unreadable,
    )

    redaction = Redaction.from_policy(policy) if public else None
    redacted_texts: list[tuple[str, str]] = []

    def redact(kind: str, record_id: str, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        if redaction is None:
            return record, []
        shown, entries, texts = redaction.apply(kind, record_id, record)
        redacted_texts.extend((f"{entry} of {record_id}", text) for entry, text in texts)
        return shown, entries

    tests: list[TestView] = []
    for test_id, path, data in raw_tests:
        if not visibility.shows_test(test_id):
            continue
        known = history.get(path) if history is not None else None
        test = registry.typed(RegressionTest, path)
        entered = (decay.entered_suite(test, known) if test is not None and known is not None
                   and not known.uncommitted else None)
        shown_data, redacted = redact("regression", test_id, data)
        tests.append(
            TestView(
                id=test_id,
                path=path,
                data=shown_data,
                archived=path.startswith("regressions/archive/"),
                dates=_dates(history, path),
                days_in_suite=decay.days_in_suite(test, known, as_of) if test and entered and known else None,
                entered=entered,
                redacted=redacted,
            )
        )
    shown = VisibleRegistry(registry, visibility) if public else registry
    decay_by_test, decay_note = decay_recommendations(shown, history, as_of, [t.id for t in tests])
    if history is None and history_note:
        decay_note = history_note
    tests_by_incident: dict[str, list[TestView]] = {}
    for test_view in tests:
        test_view.decay = decay_by_test.get(test_view.id)
        tests_by_incident.setdefault(test_view.incident_id, []).append(test_view)

    incidents: list[IncidentView] = []
    overdue: list[ActionItemView] = []
    for incident_id, path, data in raw_incidents:
        if not visibility.shows_incident(incident_id):
            continue
        view = IncidentView(incident_id, path, data, _dates(history, path))
        _assess(view, registry.policy_record, registry.typed(Incident, path), as_of)
        view.data, view.redacted = redact("incident", incident_id, data)
        pm_path = f"incidents/{incident_id}/postmortem.md"
        pm_doc = registry.postmortem(incident_id)
        if pm_doc is not None:
            if isinstance(pm_doc.data, dict):
                front, front_redacted = redact("postmortem", incident_id, pm_doc.data)
                view.postmortem = PostmortemView(pm_path, front, pm_doc.body, _dates(history, pm_path),
                                                 front_redacted)
                overdue.extend(_overdue(incident_id, pm_doc.data, as_of))
            else:
                note(f"{pm_path}: not shown, the file could not be read (run `incidentops check`)")
        handoff_path = f"incidents/{incident_id}/handoff.yaml"
        view.handoff = registry.handoff(incident_id)
        if view.handoff is not None:
            view.handoff, handoff_redacted = redact("handoff", incident_id, view.handoff)
            view.redacted += handoff_redacted
        view.handoff_path = handoff_path if view.handoff is not None else None
        if view.handoff is None and (registry.root / handoff_path).is_file():
            note(f"{handoff_path}: not shown, the file could not be read (run `incidentops check`)")
        view.tests = tests_by_incident.get(incident_id, [])
        incidents.append(view)
    overdue.sort(key=lambda a: (a.due, id_order(a.incident_id)))

    audit = [
        RecordView(_stem(path), path, data, _dates(history, path))
        for path, data in registry.audit_entries()
        if visibility.shows_audit(data)
    ]
    audit.sort(key=lambda r: (str(r.data.get("timestamp", "")), r.path), reverse=True)
    review_view = release_view = None
    if public:
        review_view = partial(public_records.review, shown)
        release_view = public_records.release
    reviews = _records(registry, "reviews", visibility, history, note, review_view)
    reviews.sort(key=lambda r: r.stem, reverse=True)
    releases = _records(registry, "releases", visibility, history, note, release_view)
    releases.sort(key=lambda r: (str(r.data.get("decided_at", "")), r.stem), reverse=True)

    return SiteData(
        root_name=registry.root.name,
        policy=policy,
        models=registry.models,
        as_of=as_of.astimezone(UTC),
        public=public,
        visibility=visibility,
        incidents=incidents,
        tests=tests,
        audit=audit,
        reviews=reviews,
        releases=releases,
        overdue_actions=overdue,
        problems=problems,
        history_note=history_note,
        decay_note=decay_note,
        redacted_texts=redacted_texts,
    )


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".yaml")


def _records(
    registry: Registry,
    folder: str,
    visibility: Visibility,
    history: RegistryHistory | None,
    note: Callable[[str], None],
    public_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> list[RecordView]:
    views: list[RecordView] = []
    for path in registry.files_in(folder):
        data = registry.data(path)
        stem = _stem(path)
        if data is None:
            note(f"{path}: not shown, the file could not be read (run `incidentops check`)")
            continue
        if not is_safe_name(stem):
            note(f"{path}: not shown, the name {stem!r} cannot name a page")
            continue
        shown = visibility.prune(data)
        if public_view is not None:
            shown = public_view(shown)  # figures computed across records: public records only
        views.append(RecordView(stem, path, shown, _dates(history, path)))
    return views


def _assess(view: IncidentView, policy: Policy, incident: Incident | None, as_of: datetime) -> None:
    answers = view.data.get("assessment")
    incident_type = view.data.get("type")
    try:
        if not isinstance(answers, Mapping):
            raise IncidentOpsError("the incident has no checklist answers (`assessment`)")
        view.assessment = assess(answers, policy, incident_type if isinstance(incident_type, str) else None)
    except IncidentOpsError as exc:
        view.assessment_error = exc.message
    if incident is None:
        view.sla_error = "the record has errors (run `incidentops check`)"
        return
    try:
        view.sla = sla.response_result(incident, policy, as_of)
    except IncidentOpsError as exc:
        view.sla_error = exc.message


def _overdue(incident_id: str, front: Mapping[str, Any], as_of: datetime) -> list[ActionItemView]:
    today = as_of.astimezone(UTC).date()
    found: list[ActionItemView] = []
    for item in front.get("action_items") or []:
        if not isinstance(item, dict) or item.get("status") not in OPEN_ACTION_STATUSES:
            continue
        due = parse_day(item.get("due"))
        if due is not None and due < today:
            found.append(ActionItemView(incident_id, item, due, (today - due).days))
    return found
