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
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TypeVar

from incidentops.records.model import AuditEntry, Incident, Policy, RegressionTest, Release, Review
from incidentops.records.redact import REDACTABLE, without
from incidentops.records.registry import Registry

T = TypeVar("T")


@dataclass(frozen=True)
class Visibility:
    """The incidents and tests a build shows; ``public`` is False for the internal site."""

    public: bool
    incidents: frozenset[str] = field(default_factory=frozenset)
    tests: frozenset[str] = field(default_factory=frozenset)
    hidden_incidents: frozenset[str] = field(default_factory=frozenset)
    hidden_tests: frozenset[str] = field(default_factory=frozenset)

    def shows_incident(self, incident_id: str) -> bool:
        return incident_id in self.incidents

    def shows_test(self, test_id: str) -> bool:
        return test_id in self.tests

    @property
    def hidden_ids(self) -> frozenset[str]:
        """Ids of every incident and test the build leaves out (empty for the internal site)."""
        return self.hidden_incidents | self.hidden_tests if self.public else frozenset()

    def shows_audit(self, entry: AuditEntry) -> bool:
        """An audit entry is shown when the test and the incident it names are shown."""
        if not self.public:
            return True
        return self.shows_incident(entry.original_incident) and entry.test_id not in self.hidden_tests

    def names_hidden(self, test_id: str | None = None, incident_id: str | None = None) -> bool:
        """Whether a row of a review or release record that names these records names a hidden one."""
        if not self.public:
            return False
        return (incident_id is not None and not self.shows_incident(incident_id)) or (
            test_id is not None and not self.shows_test(test_id))

    def hides(self, name: str) -> bool:
        """Whether ``name`` (an entry of a list of ids) is the id of a hidden incident or test."""
        return self.public and (name in self.hidden_tests or name in self.hidden_incidents)

    def prune_review(self, review: Review) -> Review:
        """``review`` without the rows that name hidden records."""
        if not self.public:
            return review
        return replace(review, tests=tuple(r for r in review.tests if not self.names_hidden(r.test_id, r.incident_id)))

    def prune_release(self, release: Release) -> Release:
        """``release`` without the rows (tests, blocking, flaky, missing, warnings) that name hidden tests."""
        if not self.public:
            return release
        return replace(
            release,
            tests=tuple(t for t in release.tests if not self.names_hidden(t.test_id)),
            blocking=tuple(b for b in release.blocking if not self.names_hidden(b.test_id)),
            missing=tuple(m for m in release.missing if not self.hides(m)),
            flaky=tuple(f for f in release.flaky if not self.names_hidden(f.test_id)),
            warnings=tuple(w for w in release.warnings if not self.names_hidden(w.test_id)),
        )


def decide(
    public: bool,
    incidents: Iterable[tuple[str, Incident]],
    tests: Iterable[tuple[str, RegressionTest]],
    unreadable: Iterable[str] = (),
    unverified: Iterable[str] = (),
) -> Visibility:
    """Work out what a build shows from ``(id, incident)`` and ``(test_id, test)`` pairs.

    ``unreadable``: ids of incidents or tests whose record could not be read or is
    not valid; their visibility is unknown, so a public build counts them as hidden.
    ``unverified``: ids of records that did not validate which the internal site
    shows as written (a public build has none: they are ``unreadable`` there).
    """
    shown_incidents: set[str] = set()
    hidden_incidents: set[str] = set(unreadable) if public else set()
    shown_tests: set[str] = set()
    if not public:
        shown_incidents.update(unverified)
        shown_tests.update(unverified)
    for incident_id, incident in incidents:
        if not public or incident.public:
            shown_incidents.add(incident_id)
        else:
            hidden_incidents.add(incident_id)
    hidden_tests: set[str] = set()
    for test_id, test in tests:
        if not public or test.incident_id in shown_incidents:
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
        self._docs = base._docs  # the same files: share the parse cache and the typed records
        self._typed = base._typed
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
        shown = self._visibility.shows_audit
        return [p for p in self._base.audit_paths
                if (entry := self._base.typed(AuditEntry, p)) is not None and shown(entry)]


# --- redaction of fields the public edition does not publish ---------------------------

#: the record kinds whose fields the policy's ``public_edition.redact`` can name
REDACTABLE_KINDS = tuple(REDACTABLE)
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
    def from_policy(cls, policy: Policy) -> Redaction:
        section = policy.public_edition
        if section is None:
            return cls()
        fields = DEFAULT_REDACT if section.redact is None else tuple(x for x in section.redact if "." in x)
        return cls(fields, {record_id: frozenset(entries) for record_id, entries in section.publish.items()})

    def apply(self, kind: str, record_id: str, record: T) -> tuple[T, list[str], list[tuple[str, str]]]:
        """``(record without the redacted fields, the entries redacted, (entry, text) of every text taken out)``."""
        done: list[str] = []
        removed: list[tuple[str, str]] = []
        shown = self.published.get(record_id, frozenset())
        for entry in self.fields:
            entry_kind, _, path = entry.partition(".")
            if entry_kind != kind or not path or entry in shown:
                continue
            record, cut = without(record, path.split("."))
            if cut.found:
                done.append(entry)
                removed.extend((entry, text) for text in cut.texts)
        return record, done, removed


def field_label(entry: str) -> str:
    """``regression.turns`` -> ``attack turns``; other entries by their field name."""
    return FIELD_LABELS.get(entry, entry.partition(".")[2].replace("_", " "))
