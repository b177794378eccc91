"""Which records a build may show: everything, or (public build) only public incidents and theirs.

A public build leaves out every incident whose ``visibility`` is not ``public``,
and with it everything that belongs to it: its postmortem and handoff, the
regression tests born from it, audit entries about those tests, and rows of
reviews and release records that name them. Anything whose owner cannot be
established is left out too: a public build errs on the side of silence.

A record that is left out is not named either: its id is one of the
``hidden_ids`` that the last check of a public edition (:mod:`incidentops.site.leaks`)
looks for on every page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from incidentops.records.registry import Registry

# Keys under which reviews and release records name an incident or a test.
INCIDENT_KEYS = ("incident_id", "incident", "original_incident")
TEST_KEYS = ("test_id", "test")


@dataclass(frozen=True)
class Visibility:
    """The incidents and tests a build shows; ``public`` is False for the internal site."""

    public: bool
    incidents: frozenset[str] = field(default_factory=frozenset)
    tests: frozenset[str] = field(default_factory=frozenset)
    hidden_incidents: frozenset[str] = field(default_factory=frozenset)
    hidden_tests: frozenset[str] = field(default_factory=frozenset)

    def shows_incident(self, incident_id: Any) -> bool:
        return isinstance(incident_id, str) and incident_id in self.incidents

    def shows_test(self, test_id: Any) -> bool:
        return isinstance(test_id, str) and test_id in self.tests

    @property
    def hidden_ids(self) -> frozenset[str]:
        """Ids of every incident and test the build leaves out (empty for the internal site)."""
        return self.hidden_incidents | self.hidden_tests if self.public else frozenset()

    def shows_audit(self, entry: Mapping[str, Any]) -> bool:
        """An audit entry is shown when the test and the incident it names are shown."""
        if not self.public:
            return True
        if not self.shows_incident(entry.get("original_incident")):
            return False
        test_id = entry.get("test_id")
        return test_id is None or test_id not in self.hidden_tests

    def names_hidden(self, item: Any) -> bool:
        """Whether a row of a review or release record names a hidden incident or test."""
        if not self.public:
            return False
        if isinstance(item, str):
            return item in self.hidden_tests or item in self.hidden_incidents
        if not isinstance(item, Mapping):
            return False
        for key in INCIDENT_KEYS:
            value = item.get(key)
            if value is not None and not self.shows_incident(value):
                return True
        for key in TEST_KEYS:
            value = item.get(key)
            if value is not None and not self.shows_test(value):
                return True
        return False

    def prune(self, value: Any) -> Any:
        """``value`` (a review or release record) without the list rows that name hidden records."""
        if not self.public:
            return value
        if isinstance(value, Mapping):
            return {key: self.prune(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.prune(item) for item in value if not self.names_hidden(item)]
        return value


def decide(
    public: bool,
    incidents: Iterable[tuple[str, Mapping[str, Any]]],
    tests: Iterable[tuple[str, Mapping[str, Any]]],
    unreadable: Iterable[str] = (),
) -> Visibility:
    """Work out what a build shows from ``(id, incident)`` and ``(test_id, test)`` pairs.

    ``unreadable``: ids of incidents or tests whose record could not be read; their
    visibility is unknown, so a public build counts them as hidden.
    """
    shown_incidents: set[str] = set()
    hidden_incidents: set[str] = set(unreadable) if public else set()
    for incident_id, data in incidents:
        if not public or data.get("visibility") == "public":
            shown_incidents.add(incident_id)
        else:
            hidden_incidents.add(incident_id)
    shown_tests: set[str] = set()
    hidden_tests: set[str] = set()
    for test_id, data in tests:
        if not public or data.get("incident_id") in shown_incidents:
            shown_tests.add(test_id)
        else:
            hidden_tests.add(test_id)
    return Visibility(
        public=public,
        incidents=frozenset(shown_incidents),
        tests=frozenset(shown_tests),
        hidden_incidents=frozenset(hidden_incidents),
        hidden_tests=frozenset(hidden_tests),
    )


class VisibleRegistry(Registry):
    """A view of ``base`` holding only the incidents and tests a build shows.

    Analyses that look across records (the decay assessment counts similar
    incidents) run on this view, so a public build never counts or names an
    internal record. Parsed records are shared with ``base``, not read again.
    """

    def __init__(self, base: Registry, visibility: Visibility) -> None:
        super().__init__(base.root)
        self._docs = base._docs  # the same files: share the parse cache
        self._base = base
        self._visibility = visibility

    @cached_property
    def incident_ids(self) -> list[str]:
        return [i for i in self._base.incident_ids if self._visibility.shows_incident(i)]

    @cached_property
    def test_paths(self) -> dict[str, list[str]]:
        return {t: paths for t, paths in self._base.test_paths.items() if self._visibility.shows_test(t)}

    @cached_property
    def audit_paths(self) -> list[str]:
        return [p for p in self._base.audit_paths if self._visibility.shows_audit(self._base.data(p) or {})]


# --- redaction of fields the public edition does not publish ---------------------------

#: the record kinds whose fields the policy's ``public_edition.redact`` can name
REDACTABLE_KINDS = ("regression", "incident", "postmortem", "handoff")
DEFAULT_REDACT = ("regression.turns",)
#: field names shown on the pages for the redacted fields
FIELD_LABELS = {"regression.turns": "attack turns"}


@dataclass(frozen=True)
class Redaction:
    """What the public edition leaves out of the records it shows.

    ``fields``: ``kind.field`` entries (``regression.turns``, or a nested one such
    as ``incident.assessment.harm``; through a list, every item's field).
    ``published``: per record id (a test or an incident), the entries its record
    publishes after all. From the policy's ``public_edition`` section; without
    one, the attack turns of regression tests are redacted.
    """

    fields: tuple[str, ...] = DEFAULT_REDACT
    published: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any]) -> Redaction:
        section = policy.get("public_edition")
        if not isinstance(section, Mapping):
            return cls()
        raw = section.get("redact", list(DEFAULT_REDACT))
        fields = tuple(str(x) for x in raw if isinstance(x, str) and "." in x) if isinstance(raw, list) else DEFAULT_REDACT
        publish = section.get("publish")
        published: dict[str, frozenset[str]] = {}
        if isinstance(publish, Mapping):
            for record_id, entries in publish.items():
                if isinstance(entries, list):
                    published[str(record_id)] = frozenset(str(e) for e in entries if isinstance(e, str))
        return cls(fields, published)

    def apply(self, kind: str, record_id: str, data: Mapping[str, Any]
              ) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
        """``(data without the redacted fields, the entries redacted, (entry, text) of every text taken out)``."""
        out: dict[str, Any] = dict(data)
        done: list[str] = []
        removed: list[tuple[str, str]] = []
        shown = self.published.get(record_id, frozenset())
        for entry in self.fields:
            entry_kind, _, path = entry.partition(".")
            if entry_kind != kind or not path or entry in shown:
                continue
            taken: list[Any] = []
            out = _without(out, path.split("."), taken)
            if taken:
                done.append(entry)
                for value in taken:
                    removed.extend((entry, text) for text in _texts(value))
        return out, done, removed


def _without(value: Any, parts: list[str], taken: list[Any]) -> Any:
    if isinstance(value, list):
        return [_without(item, parts, taken) for item in value]
    if not isinstance(value, Mapping) or parts[0] not in value:
        return value
    out = dict(value)
    if len(parts) == 1:
        if out[parts[0]] not in (None, "", [], {}):
            taken.append(out[parts[0]])
        del out[parts[0]]
    else:
        out[parts[0]] = _without(out[parts[0]], parts[1:], taken)
    return out


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def field_label(entry: str) -> str:
    """``regression.turns`` -> ``attack turns``; other entries by their field name."""
    return FIELD_LABELS.get(entry, entry.partition(".")[2].replace("_", " "))
