"""Everything the site shows, gathered once from the registry and its git history.

:func:`collect` reads the records (through the one :class:`Registry`), applies
the public/internal filter, and computes what the pages display: the checklist
assessment, the SLA result, git dates, time in suite. Pages and charts only
read the :class:`SiteData` it returns; a record that cannot be read or computed
becomes a note on the page, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from incidentops.lifecycle import decay
from incidentops.lifecycle.history import FileHistory, RegistryHistory
from incidentops.policy import sla
from incidentops.policy.severity import Assessment, assess
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import Finding
from incidentops.records.model import (
    ActionItem,
    AuditEntry,
    Handoff,
    Incident,
    ModelLineage,
    Policy,
    Postmortem,
    RegressionTest,
    Release,
    Review,
)
from incidentops.records.redact import shown as as_written
from incidentops.records.registry import Registry
from incidentops.site import public_records
from incidentops.site.decay_view import DecayInfo, decay_recommendations
from incidentops.site.markup import is_safe_name
from incidentops.site.visibility import Redaction, Visibility, VisibleRegistry, decide

R = TypeVar("R", AuditEntry, Review, Release)
T = TypeVar("T")

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


@dataclass(frozen=True)
class Invalid:
    """A record that did not validate, as the internal edition shows it: what is wrong, and its text."""

    #: ``path:line:col: message`` of each error its validation found
    findings: tuple[str, ...]
    #: the file as written
    text: str


@dataclass
class PostmortemView:
    path: str
    #: the record as the page shows it (the public edition's redactions applied);
    #: None: it did not validate (``invalid`` says why; analyses skip it)
    record: Postmortem | None
    dates: Dated
    redacted: list[str] = field(default_factory=list)
    invalid: Invalid | None = None
    #: the record before the public edition's redactions: what the analyses (next step, overdue items) read
    whole: Postmortem | None = None

    @property
    def body(self) -> str:
        return self.record.body if self.record is not None else ""


@dataclass
class TestView:
    id: str
    path: str
    #: the record as the page shows it (the public edition's redactions applied);
    #: None: it did not validate (``invalid`` says why; analyses skip it)
    record: RegressionTest | None
    archived: bool
    dates: Dated
    days_in_suite: int | None
    decay: DecayInfo | None = None
    #: when the test entered the suite (git, or its CREATE decision for an imported file)
    entered: datetime | None = None
    #: fields the public edition leaves out of this record (``regression.turns``, ...)
    redacted: list[str] = field(default_factory=list)
    invalid: Invalid | None = None

    @property
    def state(self) -> str:
        return str(self.record.state) if self.record is not None else "?"

    @property
    def incident_id(self) -> str:
        """The incident the test is born from ("" when the record did not validate: it is not known)."""
        return self.record.incident_id if self.record is not None else ""


@dataclass
class IncidentView:
    id: str
    path: str
    #: the record as the page shows it (the public edition's redactions applied);
    #: None: it did not validate (``invalid`` says why; analyses skip it)
    record: Incident | None
    dates: Dated
    postmortem: PostmortemView | None = None
    #: the handoff as the page shows it (None: there is none, or it did not validate: ``handoff_invalid``)
    handoff: Handoff | None = None
    handoff_invalid: Invalid | None = None
    handoff_path: str | None = None
    tests: list[TestView] = field(default_factory=list)
    assessment: Assessment | None = None
    assessment_error: str | None = None
    sla: sla.SlaResult | None = None
    sla_error: str | None = None
    redacted: list[str] = field(default_factory=list)
    invalid: Invalid | None = None
    #: the record before the public edition's redactions: what the analyses (SLA, age, next step) read;
    #: a text they write from a redacted field is found by the public edition's last check (``site.redacted``)
    whole: Incident | None = None

    @property
    def severity(self) -> str:
        return self.record.severity if self.record is not None else "?"

    @property
    def is_open(self) -> bool:
        return self.whole is not None and self.whole.status in OPEN_STATUSES

    @property
    def detected(self) -> datetime | None:
        return self.whole.detected_at.astimezone(UTC) if self.whole is not None else None


@dataclass
class ActionItemView:
    incident_id: str
    item: ActionItem
    due: date
    days_overdue: int


@dataclass
class RecordView(Generic[R]):
    """An audit entry, review or release record."""

    stem: str
    path: str
    #: the record (a public edition's: without the rows naming hidden records, figures over public ones);
    #: None: it did not validate (``invalid`` says why)
    record: R | None
    dates: Dated
    invalid: Invalid | None = None


@dataclass
class SiteData:
    """The registry as the site shows it."""

    root_name: str
    policy_record: Policy
    #: models.yaml (None when absent or not valid)
    lineage: ModelLineage | None
    as_of: datetime
    public: bool
    visibility: Visibility
    incidents: list[IncidentView]
    tests: list[TestView]
    audit: list[RecordView[AuditEntry]]
    reviews: list[RecordView[Review]]
    releases: list[RecordView[Release]]
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
        return [level.id for level in self.policy_record.severity_levels]


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
    when it could not be read; ``history_note`` then says why). A record that did
    not validate has no typed form: the internal edition shows it as written (for a
    preview while it is being fixed; analyses leave it out), a public edition leaves
    it out with a note, since what it may show is unknown.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    policy = registry.policy_record
    problems: list[str] = []

    def note(message: str) -> None:
        problems.append(message)
        if progress is not None:
            progress(message)

    unreadable: list[str] = []  # ids whose visibility is unknown: a public build never names them
    unverified: list[str] = []  # ids of records that did not validate, shown as written (internal edition)
    raw_incidents: list[tuple[str, str, Incident | None, Invalid | None]] = []
    for incident_id in sorted(registry.incident_ids, key=id_order):
        path = registry.incident_path(incident_id)
        found = _shown(registry, Incident, path, public)
        if found is None:
            unreadable.append(incident_id)
            if (registry.root / path).is_file():
                note(_not_shown(registry, path))
            continue
        if not is_safe_name(incident_id):
            unreadable.append(incident_id)
            note(f"{path}: not shown, the folder name {incident_id!r} cannot name a page")
            continue
        if found[0] is None:
            unverified.append(incident_id)
        raw_incidents.append((incident_id, path, *found))

    raw_tests: list[tuple[str, str, RegressionTest | None, Invalid | None]] = []
    for test_id in sorted(registry.test_paths, key=id_order):
        for path in registry.test_paths[test_id]:
            found_test = _shown(registry, RegressionTest, path, public)
            if found_test is None:
                unreadable.append(test_id)
                note(_not_shown(registry, path))
                continue
            if not is_safe_name(test_id):
                unreadable.append(test_id)
                note(f"{path}: not shown, the name {test_id!r} cannot name a page")
                continue
            if found_test[0] is None:
                unverified.append(test_id)
            raw_tests.append((test_id, path, *found_test))
            break  # a duplicate id is a check error; show the first

    visibility = decide(
        public,
        ((incident_id, record) for incident_id, _, record, _ in raw_incidents if record is not None),
        ((test_id, record) for test_id, _, record, _ in raw_tests if record is not None),
        unreadable,
        unverified,
    )

    redaction = Redaction.from_policy(policy) if public else None
    redacted_texts: list[tuple[str, str]] = []

    def redact(kind: str, record_id: str, record: T | None) -> tuple[T | None, list[str]]:
        if redaction is None or record is None:
            return record, []
        shown, entries, texts = redaction.apply(kind, record_id, record)
        redacted_texts.extend((f"{entry} of {record_id}", text) for entry, text in texts)
        return shown, entries

    tests: list[TestView] = []
    for test_id, path, test, invalid in raw_tests:
        if not visibility.shows_test(test_id):
            continue
        known = history.get(path) if history is not None else None
        entered = (decay.entered_suite(test, known)
                   if test is not None and known is not None and not known.uncommitted else None)
        shown_test, redacted = redact("regression", test_id, test)
        tests.append(
            TestView(
                id=test_id,
                path=path,
                record=shown_test,
                archived=path.startswith("regressions/archive/"),
                dates=_dates(history, path),
                days_in_suite=decay.days_in_suite(test, known, as_of) if test and entered is not None and known else None,
                entered=entered,
                redacted=redacted,
                invalid=invalid,
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
    for incident_id, path, incident, invalid in raw_incidents:
        if not visibility.shows_incident(incident_id):
            continue
        view = IncidentView(incident_id, path, incident, _dates(history, path), invalid=invalid, whole=incident)
        _assess(view, policy, as_of)  # from the whole record: the redactions only change what the page prints
        view.record, view.redacted = redact("incident", incident_id, incident)
        pm_path = f"incidents/{incident_id}/postmortem.md"
        pm = _shown(registry, Postmortem, pm_path, public)
        if pm is not None:
            postmortem, pm_invalid = pm
            shown_pm, pm_redacted = redact("postmortem", incident_id, postmortem)
            view.postmortem = PostmortemView(pm_path, shown_pm, _dates(history, pm_path), pm_redacted, pm_invalid,
                                             postmortem)
            if postmortem is not None:
                overdue.extend(_overdue(incident_id, postmortem, as_of))
        elif registry.postmortem(incident_id) is not None:
            note(_not_shown(registry, pm_path))
        handoff_path = f"incidents/{incident_id}/handoff.yaml"
        handoff = _shown(registry, Handoff, handoff_path, public)
        if handoff is not None:
            view.handoff, handoff_redacted = redact("handoff", incident_id, handoff[0])
            view.handoff_invalid = handoff[1]
            view.redacted += handoff_redacted
            view.handoff_path = handoff_path
        elif (registry.root / handoff_path).is_file():
            note(_not_shown(registry, handoff_path))
        view.tests = tests_by_incident.get(incident_id, [])
        incidents.append(view)
    overdue.sort(key=lambda a: (a.due, id_order(a.incident_id)))

    audit = [view for view in _records(registry, AuditEntry, "audit", history, note, public)
             if view.record is None or visibility.shows_audit(view.record)]
    audit.sort(key=lambda r: (_written(r.record, "timestamp"), r.path), reverse=True)
    reviews = _records(registry, Review, "reviews", history, note, public)
    releases = _records(registry, Release, "releases", history, note, public)
    if public:  # every record of a public edition is typed (_shown)
        reviews = [replace(r, record=public_records.review(shown, visibility.prune_review(r.record)))
                   for r in reviews if r.record is not None]
        releases = [replace(r, record=public_records.release(visibility.prune_release(r.record)))
                    for r in releases if r.record is not None]
    reviews.sort(key=lambda r: r.stem, reverse=True)
    releases.sort(key=lambda r: (_written(r.record, "decided_at"), r.stem), reverse=True)

    return SiteData(
        root_name=registry.root.name,
        policy_record=policy,
        lineage=registry.lineage,
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


def _shown(registry: Registry, cls: type[T], path: str, public: bool) -> tuple[T | None, Invalid | None] | None:
    """The typed record at ``path`` as a page shows it; None when it is not shown.

    A record that did not validate has no typed form: the internal edition shows
    what is wrong with it and its text (``(None, Invalid)``), a public edition
    leaves it out.
    """
    doc = registry.doc(path)
    if doc is None or doc.data is None:
        return None
    record = registry.typed(cls, path)
    if record is not None:
        return record, None
    if public:
        return None
    return None, _invalid(registry, path)


def _invalid(registry: Registry, path: str) -> Invalid:
    doc = registry.doc(path)
    assert doc is not None  # _shown read it
    errors = tuple(f"{f.location()}: {f.message}" for f in sorted(doc.findings, key=Finding.sort_key) if f.is_error)
    # a record can pass its schema and still lack the shape its kind needs (a schema less strict than the type)
    return Invalid(errors or (f"{path}:1:1: the record does not have the fields its kind needs",), doc.text)


def _written(record: object, name: str) -> str:
    """A field as the record writes it, for sorting by the text ("" for a record that did not validate)."""
    return (as_written(record, name) or "") if record is not None else ""


def _not_shown(registry: Registry, path: str) -> str:
    doc = registry.doc(path)
    if doc is not None and doc.data is not None:
        return f"{path}: not shown, the record is not valid (run `incidentops check`)"
    return f"{path}: not shown, the file could not be read (run `incidentops check`)"


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".yaml")


def _records(
    registry: Registry,
    cls: type[R],
    folder: str,
    history: RegistryHistory | None,
    note: Callable[[str], None],
    public: bool,
) -> list[RecordView[R]]:
    views: list[RecordView[R]] = []
    for path in registry.files_in(folder):
        found = _shown(registry, cls, path, public)
        stem = _stem(path)
        if found is None:
            note(_not_shown(registry, path))
            continue
        if not is_safe_name(stem):
            note(f"{path}: not shown, the name {stem!r} cannot name a page")
            continue
        views.append(RecordView(stem, path, found[0], _dates(history, path), found[1]))
    return views


NOT_VALID = "the record is not valid (run `incidentops check`)"


def _assess(view: IncidentView, policy: Policy, as_of: datetime) -> None:
    if view.record is None:
        view.assessment_error = view.sla_error = NOT_VALID
        return
    try:
        view.assessment = assess(view.record.assessment, policy, view.record.type)
    except IncidentOpsError as exc:
        view.assessment_error = exc.message
    try:
        view.sla = sla.response_result(view.record, policy, as_of)
    except IncidentOpsError as exc:
        view.sla_error = exc.message


def _overdue(incident_id: str, postmortem: Postmortem, as_of: datetime) -> Iterator[ActionItemView]:
    today = as_of.astimezone(UTC).date()
    for item in postmortem.action_items:
        if item.status in OPEN_ACTION_STATUSES and item.due < today:
            yield ActionItemView(incident_id, item, item.due, (today - item.due).days)
