"""Typed records: each kind of record as a frozen dataclass, built once from a schema-valid document.

A record that passed its schema (``Document.ok``) is turned into its dataclass by
:func:`build`: timestamps become aware datetimes, dates become dates, closed sets
of values become enums, lists become tuples. The builder is the only code that
looks at the shape of a record's raw data; a record that failed validation has
no typed form (:func:`build` returns None) and every analysis that needs one
skips it, because ``check`` has already reported why.

Every record, and every item of its lists, keeps where it came from
(:class:`Source`): ``test.source.finding(("state",), ...)`` or
``decision.source.where("at")`` give the line and column of a field for a
finding, as the document itself would.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from incidentops.records.findings import Finding
from incidentops.records.yamlio import Document, Path_


class State(StrEnum):
    ACTIVE = "ACTIVE"
    MONITORING = "MONITORING"
    DEPRECATED = "DEPRECATED"
    RETIRED = "RETIRED"


class DecisionKind(StrEnum):
    CREATE = "CREATE"
    KEEP = "KEEP"
    MONITOR = "MONITOR"
    ACTIVATE = "ACTIVATE"
    DEPRECATE = "DEPRECATE"
    RETIRE = "RETIRE"


class Status(StrEnum):
    OPEN = "open"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Visibility(StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


class AttackVectorStatus(StrEnum):
    VIABLE = "viable"
    PATCHED = "patched"
    OBSOLETE = "obsolete"


class PostmortemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


class ReviewType(StrEnum):
    FULL = "full"
    LIGHTWEIGHT = "lightweight"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DEFERRED = "deferred"


class ModelChange(StrEnum):
    INITIAL = "initial"
    MINOR = "minor"
    MAJOR = "major"
    ARCHITECTURE = "architecture"


class Clock(StrEnum):
    WALL = "wall"
    BUSINESS = "business"


class GateVerdict(StrEnum):
    PASS = "PASS"
    BLOCK = "BLOCK"


# ---- where a record came from -------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """The document a record (or one item of it) was built from, and the item's path in it."""

    doc: Document = field(compare=False, repr=False)
    prefix: Path_ = ()

    @property
    def path(self) -> str:
        return self.doc.path

    def where(self, *path: str | int, key: bool = False) -> tuple[int, int]:
        """Line and column of the field at ``path`` below this item (its nearest parent if absent)."""
        return self.doc.where((*self.prefix, *path), key=key)

    def finding(self, path: Path_, level: str, rule: str, message: str, hint: str = "", *,
                key: bool = False) -> Finding:
        return self.doc.finding((*self.prefix, *path), level, rule, message, hint, key=key)

    def has(self, *path: str | int) -> bool:
        """Whether the record writes the field at ``path`` below this item (as opposed to leaving it out)."""
        return (*self.prefix, *path) in self.doc.values

    def text(self, *path: str | int) -> str:
        """The value at ``path`` below this item as the record writes it (a timestamp's own spelling)."""
        return str(self.doc.value((*self.prefix, *path)))


def _source() -> Any:
    return field(default=None, compare=False, repr=False, metadata={"source": True})


# ---- incidents and what hangs off them ------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    harm: str | None
    scope: str | None
    regulatory: bool | str | None
    reputational_risk: str | None
    exploitable_at_scale: bool | str | None
    source: Source = _source()


@dataclass(frozen=True)
class Approval:
    """A severity override or a test's override: why, and who approved it."""

    reason: str
    approver: str
    source: Source = _source()


@dataclass(frozen=True)
class Escalation:
    team: str
    at: datetime
    source: Source = _source()


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    event: str
    after_resolution: bool = False
    source: Source = _source()


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    type: str
    severity: str
    status: Status
    visibility: Visibility
    detected_at: datetime
    model_version: str
    attack_vector: str
    assessment: Assessment
    escalations: tuple[Escalation, ...]
    summary: str
    timeline: tuple[TimelineEvent, ...]
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reported_by: str | None = None
    severity_override: Approval | None = None
    severity_rationale: str | None = None
    tags: tuple[str, ...] = ()
    source: Source = _source()

    @property
    def public(self) -> bool:
        return self.visibility is Visibility.PUBLIC


@dataclass(frozen=True)
class ActionItem:
    id: str
    description: str
    owner: str
    due: date
    status: ActionStatus
    deferred_reason: str | None = None
    tracker: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class Postmortem:
    incident: str
    status: PostmortemStatus
    review_type: ReviewType
    meeting_at: datetime
    attendees: tuple[str, ...]
    contributing_factors: tuple[str, ...]
    action_items: tuple[ActionItem, ...]
    published_at: datetime | None = None
    body: str = field(default="", metadata={"body": True})
    source: Source = _source()


@dataclass(frozen=True)
class HandoffTest:
    test_id: str
    scenario: str
    expected_block_turn: int
    severity_weight: float
    source: Source = _source()


@dataclass(frozen=True)
class Handoff:
    incident_id: str
    severity: str
    incident_summary: str
    regression_test: HandoffTest
    notes: tuple[str, ...]
    action_items: tuple[str, ...]
    source: Source = _source()


# ---- regression tests ------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    passes: int
    runs: int
    source: Source = _source()


@dataclass(frozen=True)
class Decision:
    at: datetime
    decision: DecisionKind
    to_state: State
    reason: str
    by: str
    from_state: State | None = None
    approver: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class RegressionTest:
    test_id: str
    incident_id: str
    suite: str
    scenario: str
    expected_block_turn: int
    severity_weight: float
    state: State
    owner: str
    model_version: str
    attack_vector_status: AttackVectorStatus
    scenario_still_relevant: bool
    decisions: tuple[Decision, ...]
    turns: tuple[str, ...] = ()
    scenario_file: str | None = None
    pass_threshold: Threshold | None = None
    override: Approval | None = None
    source: Source = _source()

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def archived(self) -> bool:
        return "/archive/" in f"/{self.source.path}"


@dataclass(frozen=True)
class AuditEntry:
    action: str
    test_id: str
    original_incident: str
    reason_code: str
    reason: str
    approver: str
    requested_by: str
    timestamp: datetime
    source: Source = _source()


@dataclass(frozen=True)
class Scenario:
    """A scenario file (``scenarios/*.yaml``): the user turns a test can point at."""

    turns: tuple[str, ...]
    scenario: str | None = None
    description: str | None = None
    source: Source = _source()


# ---- reviews and releases ------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    test_id: str
    decision: str | None
    incident_id: str | None = None
    incident_severity: str | None = None
    state: State | None = None
    added_at: datetime | None = None
    reverified_at: datetime | None = None
    age_days: int | None = None
    days_since_incident: int | None = None
    model_version: str | None = None
    model_change: str | None = None
    model_relevance: str | None = None
    attack_vector_status: AttackVectorStatus | None = None
    scenario_still_relevant: bool | None = None
    similar_incidents_12m: int | None = None
    last_review_at: datetime | None = None
    recommendation: str | None = None
    reasons: tuple[str, ...] = ()
    justification: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    approver: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class Review:
    quarter: str
    status: str
    tests: tuple[ReviewRow, ...]
    quarter_start: date | None = None
    generated_at: datetime | None = None
    minimum_age_days: int | None = None
    completed_at: datetime | None = None
    notes: str | None = None
    source: Source = _source()

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass(frozen=True)
class ReleaseTest:
    test_id: str
    state: State
    blocking: bool
    outcome: str
    verdict: str
    reason: str
    severity_weight: float
    expected_block_turn: int | None
    blocked_at_turn: int | None
    runs: int | None
    passes: int | None
    model: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class Blocker:
    test_id: str
    reason: str
    source: Source = _source()


@dataclass(frozen=True)
class Flaky:
    test_id: str
    runs: int
    passes: int
    pass_rate: float
    source: Source = _source()


@dataclass(frozen=True)
class ReleaseWarning:
    test_id: str | None
    message: str
    source: Source = _source()


@dataclass(frozen=True)
class Release:
    name: str
    decided_at: datetime
    decision: GateVerdict
    commit: str | None
    model_version: str | None
    suite: str | None
    score: float
    tests_run: int
    tests: tuple[ReleaseTest, ...]
    blocking: tuple[Blocker, ...]
    missing: tuple[str, ...]
    flaky: tuple[Flaky, ...]
    warnings: tuple[ReleaseWarning, ...]
    source: Source = _source()


# ---- models.yaml ------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    version: str
    released: date
    family: str
    change: ModelChange
    predecessor: str | None
    notes: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class ModelLineage:
    current: str
    models: tuple[Model, ...]
    source: Source = _source()

    def version(self, name: str) -> Model | None:
        return next((m for m in self.models if m.version == name), None)


# ---- the policy ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityLevel:
    id: str
    name: str
    definition: str
    response_sla_minutes: int
    response_mode: str
    clock: Clock
    escalation_adds: tuple[str, ...]
    default_weight: float
    weight_range: tuple[float, ...]
    source: Source = _source()


@dataclass(frozen=True)
class IncidentType:
    id: str
    name: str
    typical_severity: tuple[str, ...]
    escalation_path: tuple[str, ...]
    source: Source = _source()


@dataclass(frozen=True)
class HarmRule:
    occurred: str
    imminent: str
    potential: str
    source: Source = _source()


@dataclass(frozen=True)
class ScopeRule:
    many_users: int
    single_user: int
    internal_only: int
    source: Source = _source()


@dataclass(frozen=True)
class RegulatoryRule:
    minimum: str
    escalate_to: tuple[str, ...]
    source: Source = _source()


@dataclass(frozen=True)
class AdvisoryRule:
    advisory: str
    source: Source = _source()


@dataclass(frozen=True)
class Checklist:
    harm: HarmRule
    scope: ScopeRule
    exploitable_at_scale: int
    regulatory: RegulatoryRule
    reputational_risk_high: AdvisoryRule
    source: Source = _source()


@dataclass(frozen=True)
class BusinessHours:
    timezone: str
    working_days: tuple[str, ...]
    start: str
    end: str
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class PostmortemRules:
    publish_within_hours: int
    required_sections: tuple[str, ...]
    lightweight_sections: tuple[str, ...]
    source: Source = _source()


@dataclass(frozen=True)
class RegressionRules:
    default_suite: str
    states: tuple[State, ...]
    blocking_states: tuple[State, ...]
    run_states: tuple[State, ...]
    transitions: Mapping[State, tuple[State, ...]]
    minimum_age_days: int
    protected_severities: tuple[str, ...]
    retirement_reason_codes: tuple[str, ...]
    suites: tuple[str, ...] = ()
    source: Source = _source()


@dataclass(frozen=True)
class ModelRelevance:
    same_version: str
    minor_update: str
    major_update: str
    architecture_change: str
    source: Source = _source()


@dataclass(frozen=True)
class DecayRules:
    keep_if_younger_than_days: int
    consider_retiring_after_days: int
    similar_incidents_window_days: int
    review_stale_after_days: int
    model_relevance: ModelRelevance
    source: Source = _source()


@dataclass(frozen=True)
class PassRateBand:
    min: float
    max: float
    source: Source = _source()


@dataclass(frozen=True)
class GateRules:
    flaky_pass_rate: PassRateBand
    pass_threshold: Threshold | None = None
    source: Source = _source()


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    source: Source = _source()


@dataclass(frozen=True)
class Notifications:
    stakeholders: tuple[str, ...]
    webhooks: tuple[Webhook, ...]
    source: Source = _source()


@dataclass(frozen=True)
class HistoryDeclaration:
    imported_before: datetime | None = None
    import_commit: str | None = None
    source: Source = _source()


@dataclass(frozen=True)
class PublicEdition:
    redact: tuple[str, ...] | None = None
    publish: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Source = _source()


@dataclass(frozen=True)
class Policy:
    version: int
    severity_levels: tuple[SeverityLevel, ...]
    incident_types: tuple[IncidentType, ...]
    checklist: Checklist
    business_hours: BusinessHours
    postmortem: PostmortemRules
    regression: RegressionRules
    decay: DecayRules
    gate: GateRules
    notifications: Notifications
    approvers: Mapping[str, str] = field(default_factory=dict)
    history: HistoryDeclaration | None = None
    public_edition: PublicEdition | None = None
    source: Source = _source()

    def level(self, severity: str) -> SeverityLevel | None:
        return next((lvl for lvl in self.severity_levels if lvl.id == severity), None)

    def incident_type(self, type_id: str) -> IncidentType | None:
        return next((t for t in self.incident_types if t.id == type_id), None)


Record = (Incident | Postmortem | Handoff | RegressionTest | AuditEntry | Review | Release | Policy | ModelLineage
          | Scenario)

KINDS: dict[str, type[Any]] = {
    "incident": Incident, "postmortem": Postmortem, "handoff": Handoff, "regression": RegressionTest,
    "audit": AuditEntry, "review": Review, "release": Release, "policy": Policy, "models": ModelLineage,
    "scenario": Scenario,
}


def plain_number(value: float) -> float | int:
    """A number as a record writes it: a float field's ``1`` stays ``1`` (not ``1.0``), ``0.8`` stays ``0.8``."""
    return int(value) if value.is_integer() else value


def parts(value: object) -> Mapping[str, object] | None:
    """The named parts of a typed value (a record's fields, a read-only mapping's items); None for a leaf."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value) if not f.metadata.get("source")}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return None


# ---- the builder --------------------------------------------------------------------------

T = TypeVar("T")


class _Invalid(Exception):
    """The data does not have the shape of its dataclass (the schema let it through, the type does not)."""


def build(kind: str, doc: Document) -> Record | None:
    """The typed record of a schema-valid document of ``kind``; None when it failed validation."""
    cls = KINDS.get(kind)
    if cls is None or not doc.ok or not isinstance(doc.data, Mapping):
        return None
    try:
        record: Record = _build(cls, doc.data, doc, ())
    except _Invalid:
        return None
    return record


def build_as(cls: type[T], doc: Document) -> T | None:
    """:func:`build` for a known dataclass (``build_as(Incident, doc)``), typed for the caller."""
    if not doc.ok or not isinstance(doc.data, Mapping):
        return None
    try:
        return _build(cls, doc.data, doc, ())
    except _Invalid:
        return None


def from_data(cls: type[T], data: Mapping[str, Any], path: str = "<data>") -> T:
    """The ``cls`` record of ``data`` as it stands, validated against nothing (for code that makes
    records itself, such as tests and defaults); raises ValueError when ``data`` lacks its shape."""
    doc = Document(path, data=data)
    try:
        return _build(cls, data, doc, ())
    except _Invalid as exc:
        raise ValueError(f"{path}: not a {cls.__name__}: {exc}") from None


Convert = Callable[[Any, Document, Path_], Any]


@cache
def written_fields(cls: type[Any]) -> Mapping[str, Any]:
    """The fields of record type ``cls`` that a document writes (not its source or a Markdown body), with their types."""
    hints = get_type_hints(cls)
    return types.MappingProxyType({f.name: hints[f.name] for f in fields(cls)
                                   if not f.metadata.get("source") and not f.metadata.get("body")})


@cache
def _fields(cls: type[Any]) -> tuple[tuple[str, int, Convert | None], ...]:
    """(name, what, converter) for each field of ``cls``: what is 0 a value, 1 required value, 2 source, 3 body."""
    spec: Any = cls
    written = written_fields(spec)
    out: list[tuple[str, int, Convert | None]] = []
    for f in fields(cls):
        if f.metadata.get("source"):
            out.append((f.name, 2, None))
        elif f.metadata.get("body"):
            out.append((f.name, 3, None))
        else:
            required = f.default is MISSING and f.default_factory is MISSING
            out.append((f.name, 1 if required else 0, _converter(written[f.name])))
    return tuple(out)


def reads_as(hint: Any, value: Any, doc: Document, path: Path_) -> tuple[bool, Any]:
    """``(True, the typed value)`` when the parsed ``value`` has the shape of ``hint``, else ``(False, None)``."""
    try:
        return True, _converter(hint)(value, doc, path)
    except _Invalid:
        return False, None


def _build(cls: type[T], data: Mapping[str, Any], doc: Document, prefix: Path_) -> T:
    kwargs: dict[str, Any] = {}
    spec: Any = cls  # a dataclass type is hashable; TypeVar'd types are not known to be
    for name, what, convert in _fields(spec):
        if what == 2:
            kwargs[name] = Source(doc, prefix)
        elif what == 3:
            kwargs[name] = doc.body
        elif name in data:
            assert convert is not None
            kwargs[name] = convert(data[name], doc, (*prefix, name))
        elif what == 1:
            raise _Invalid(name)
    return cls(**kwargs)


@cache
def _converter(hint: Any) -> Convert:
    """The function that turns a parsed value into ``hint``'s type (raising _Invalid), made once per type."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = tuple(_converter(o) for o in get_args(hint) if o is not type(None))
        nullable = type(None) in get_args(hint)

        def union(value: Any, doc: Document, path: Path_) -> Any:
            if value is None and nullable:
                return None
            for option in options:
                try:
                    return option(value, doc, path)
                except _Invalid:
                    continue
            raise _Invalid(path)

        return union
    if origin is tuple:
        item = _converter(get_args(hint)[0])

        def sequence(value: Any, doc: Document, path: Path_) -> Any:
            if not isinstance(value, list):
                raise _Invalid(path)
            return tuple(item(v, doc, (*path, i)) for i, v in enumerate(value))

        return sequence
    if origin is Mapping:
        key_type, item_type = get_args(hint)
        key, value_of = _converter(key_type), _converter(item_type)

        def mapping(value: Any, doc: Document, path: Path_) -> Any:
            if not isinstance(value, Mapping):
                raise _Invalid(path)
            return types.MappingProxyType({key(k, doc, path): value_of(v, doc, (*path, k)) for k, v in value.items()})

        return mapping
    if is_dataclass(hint) and isinstance(hint, type):
        record_type = hint

        def record(value: Any, doc: Document, path: Path_) -> Any:
            if not isinstance(value, Mapping):
                raise _Invalid(path)
            return _build(record_type, value, doc, path)

        return record
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        enum_type = hint

        def enum(value: Any, doc: Document, path: Path_) -> Any:
            try:
                return enum_type(value)
            except ValueError:
                raise _Invalid(path) from None

        return enum
    found = _LEAVES.get(hint)
    if found is None:
        raise TypeError(f"the record builder cannot make a {hint!r}")
    return found


def _date(value: Any, doc: Document, path: Path_) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Invalid(path)


def _exactly(kind: type[Any] | types.UnionType, make: Callable[[Any], Any] = lambda v: v) -> Convert:
    """A converter that takes a value of ``kind`` as it is; a YAML boolean is never an int or a float."""
    takes_bool = kind is bool

    def convert(value: Any, doc: Document, path: Path_) -> Any:
        if isinstance(value, kind) and (takes_bool or not isinstance(value, bool)):
            return make(value)
        raise _Invalid(path)

    return convert


def _datetime(value: Any, doc: Document, path: Path_) -> datetime:
    return _timestamp(value, path)


_LEAVES: dict[Any, Convert] = {datetime: _datetime, date: _date, bool: _exactly(bool), int: _exactly(int),
                               float: _exactly(int | float, float), str: _exactly(str)}


def _timestamp(value: Any, path: Path_) -> datetime:
    """An RFC 3339 timestamp as an aware datetime (one without a zone is taken as UTC)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed
    raise _Invalid(path)
