"""pr-check: the registry at a pull request's base against the registry at its head.

Both revisions are read from git objects (no checkout). The rules are those of
the regression lifecycle and of an append-only record: tests are archived,
never deleted; state changes follow the policy's state machine and are recorded
as decisions; a retirement comes with a new audit entry; audit entries,
incidents and postmortems are never modified away; SEV-0/1 tests and tests
younger than the minimum age are deprecated or retired only with an approved
override; retired ids are never reused; a new test comes with its incident
and handoff; KEEP decisions carry a justification. A revert is judged like
any other change.

The lifecycle rules are read from the policy at the *base*: a pull request
cannot relax the policy and use the relaxed rule in the same change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentops.findings import ERROR, Finding
from incidentops.gitops import commit_time
from incidentops.history import RegistryHistory, load_history, read_tree_files
from incidentops.kinds import kind_of
from incidentops.lifecycle import (
    AUDIT_ACTION,
    WEAKENING,
    has_override,
    minimum_age_days,
    protected_severities,
    same_person,
    transitions,
)
from incidentops.registry import MODELS_FILE, POLICY_FILE, default_policy
from incidentops.yamlio import Document, load_bytes

TREE_PATHS = (POLICY_FILE, MODELS_FILE, "incidents", "regressions", "audit", "reviews")
ARCHIVE = "regressions/archive/"
_INCIDENT_FILES = {
    "incident.yaml": ("pr.incident-deleted", "incident"),
    "postmortem.md": ("pr.postmortem-deleted", "postmortem"),
    "handoff.yaml": ("pr.handoff-deleted", "handoff"),
}


@dataclass
class Snapshot:
    """The registry's record files at one revision, parsed on demand."""

    rev: str
    files: Mapping[str, bytes]
    _docs: dict[str, Document] = field(default_factory=dict)

    def doc(self, path: str) -> Document | None:
        if path not in self.files:
            return None
        found = self._docs.get(path)
        if found is None:
            kind = kind_of(path)
            found = self._docs[path] = load_bytes(self.files[path], path, markdown=bool(kind and kind.markdown))
        return found

    def data(self, path: str) -> dict[str, Any] | None:
        doc = self.doc(path)
        return doc.data if doc is not None and isinstance(doc.data, dict) else None

    def tests(self) -> dict[str, list[str]]:
        """test id (file stem) -> its paths at this revision."""
        index: dict[str, list[str]] = {}
        for path in sorted(self.files):
            kind = kind_of(path)
            if kind is not None and kind.name == "regression":
                index.setdefault(path.rsplit("/", 1)[1].removesuffix(".yaml"), []).append(path)
        return index

    def paths(self, kind_name: str) -> list[str]:
        return sorted(p for p in self.files if (k := kind_of(p)) is not None and k.name == kind_name)

    def policy(self) -> dict[str, Any] | None:
        return self.data(POLICY_FILE)


@dataclass(frozen=True, slots=True)
class PrCheckResult:
    base: str
    head: str
    findings: tuple[Finding, ...]
    tests_changed: int

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


def pr_check(root: Path, base: str, head: str = "HEAD", as_of: datetime | None = None) -> PrCheckResult:
    """Compare the registry at ``base`` and ``head`` (git revisions) and return the findings.

    Ages are judged at ``as_of``, by default the date of the ``head`` commit
    (the moment of the change), from the git history of ``head``.
    """
    before = Snapshot(base, read_tree_files(root, base, TREE_PATHS))
    after = Snapshot(head, read_tree_files(root, head, TREE_PATHS))
    moment = as_of if as_of is not None else commit_time(root, head)
    history = load_history(root, ("regressions",), None, rev=head)
    findings, changed = compare(before, after, history, moment)
    return PrCheckResult(base, head, tuple(findings), changed)


def compare(
    base: Snapshot, head: Snapshot, history: RegistryHistory, as_of: datetime
) -> tuple[list[Finding], int]:
    """(findings, number of tests added, changed or removed) between two snapshots."""
    policy = base.policy() or head.policy() or default_policy()
    out: list[Finding] = []
    base_tests, head_tests = base.tests(), head.tests()
    new_audit = [p for p in head.paths("audit") if p not in base.files]
    retired_in_audit = {
        str(d.get("test_id")) for p in new_audit
        if (d := head.data(p)) is not None and d.get("action") == AUDIT_ACTION
    }  # fmt: skip
    changed = 0
    for test_id in sorted(set(base_tests) | set(head_tests)):
        before_paths = base_tests.get(test_id, [])
        after_paths = head_tests.get(test_id, [])
        if sorted(before_paths) != sorted(after_paths) or any(
            base.files.get(p) != head.files.get(p) for p in after_paths
        ):
            changed += 1
        else:
            continue
        out.extend(_test_rules(test_id, before_paths, after_paths, base, head, policy, history,
                               as_of, retired_in_audit))
    out.extend(_audit_rules(base, head))
    out.extend(_incident_rules(base, head))
    out.extend(_review_rules(base, head))
    return sorted(set(out), key=Finding.sort_key), changed


# --- regression tests ---------------------------------------------------------------


def _pick(paths: Sequence[str], archived: bool) -> str | None:
    if not paths:
        return None
    for path in paths:
        if path.startswith(ARCHIVE) == archived:
            return path
    return paths[0]


def _test_rules(
    test_id: str, before_paths: list[str], after_paths: list[str], base: Snapshot, head: Snapshot,
    policy: Mapping[str, Any], history: RegistryHistory, as_of: datetime, retired_in_audit: set[str],
) -> Iterator[Finding]:  # fmt: skip
    before_path = _pick(before_paths, archived=True)
    before = base.data(before_path) if before_path else None
    before_state = before.get("state") if before else None

    if not after_paths:
        if before_path is None:
            return
        doc = base.doc(before_path)
        assert doc is not None
        archived = before_path.startswith(ARCHIVE)
        what = "archived (RETIRED) test" if archived else "regression test"
        yield doc.finding(("test_id",), ERROR, "pr.test-deleted",
                          f"{what} {test_id} was deleted instead of archived",
                          "tests are never deleted: retired ones stay in regressions/archive/ forever"
                          if archived else
                          "retire it with `incidentops lifecycle retire`, which moves it to"
                          " regressions/archive/ with an audit entry")
        return

    if before_state == "RETIRED" and any(p.startswith(ARCHIVE) for p in after_paths):
        # The archived test stays and another file takes its id. (Moving the test
        # itself out of the archive is an illegal RETIRED -> ... transition.)
        for path in after_paths:
            if not path.startswith(ARCHIVE):
                doc = head.doc(path)
                if doc is not None and doc.data is not None:
                    yield doc.finding(("test_id",), ERROR, "pr.id-reused",
                                      f"test id {test_id} was retired and can never be reused",
                                      "give the new test a new id, such as"
                                      f" {test_id}_v2; the archived test stays as it is")

    after_path = _pick(after_paths, archived=before_state == "RETIRED")
    assert after_path is not None
    doc = head.doc(after_path)
    after = head.data(after_path)
    if doc is None or after is None:
        return  # unreadable: `incidentops check` reports it
    after_state = after.get("state")

    if before is None:
        yield from _new_test(test_id, after_path, doc, after, head)
        before_state = None
    if after_state == "RETIRED" and before_state != "RETIRED" and test_id not in retired_in_audit:
        yield doc.finding(("state",), ERROR, "pr.retire-audit",
                          f"{test_id} is RETIRED without a RETIRE_REGRESSION audit entry added in this change",
                          "retire tests with `incidentops lifecycle retire`: it writes the audit entry"
                          " under audit/ for this pull request")
    if before is None:
        return

    if isinstance(before_state, str) and isinstance(after_state, str) and before_state != after_state:
        allowed = transitions(policy).get(before_state, [])
        if after_state not in allowed:
            yield doc.finding(("state",), ERROR, "pr.transition",
                              f"{test_id}: {before_state} -> {after_state} is not an allowed transition",
                              f"allowed from {before_state}: {', '.join(allowed) or 'nothing (terminal)'}"
                              " (policy regression.transitions)")
    yield from _decision_rules(test_id, doc, before, after, before_state, after_state, head, policy)

    if after_state in ("DEPRECATED", "RETIRED") and after_state != before_state and not has_override(after):
        problems = []
        severity = _severity(head, base, after)
        if severity in protected_severities(policy):
            problems.append(f"it is a {severity} test (SEV-0/1 tests stay)")
        added = history.for_path(after_path, as_of)
        age = max(0, int((as_of - added.added_at).total_seconds() // 86400))
        minimum = minimum_age_days(policy)
        if age < minimum:
            problems.append(f"it is {age} days old, younger than the {minimum}-day minimum"
                            f" (in the suite since {added.added_at:%Y-%m-%d}, from git)")
        if problems:
            yield doc.finding(("state",), ERROR, "pr.override-required",
                              f"{test_id} {after_state} without an approved override: " + "; ".join(problems),
                              "add `override: {reason: ..., approver: ...}` to the test, approved by the"
                              " safety council, or keep the test")


def _new_test(test_id: str, path: str, doc: Document, data: Mapping[str, Any], head: Snapshot) -> Iterator[Finding]:
    incident_id = data.get("incident_id")
    if not isinstance(incident_id, str):
        return
    folder = f"incidents/{incident_id}"
    if f"{folder}/incident.yaml" not in head.files:
        yield doc.finding(("incident_id",), ERROR, "pr.new-test-incident",
                          f"new test {test_id}: its incident {incident_id} is not in the registry",
                          f"declare {folder}/incident.yaml in the same pull request")
    if f"{folder}/handoff.yaml" not in head.files:
        yield doc.finding(("incident_id",), ERROR, "pr.new-test-handoff",
                          f"new test {test_id}: {folder}/handoff.yaml (the incident-to-regression handoff) is missing",
                          f"`incidentops handoff {incident_id}` writes it with the test")


def _decision_rules(
    test_id: str, doc: Document, before: Mapping[str, Any], after: Mapping[str, Any],
    before_state: object, after_state: object, head: Snapshot, policy: Mapping[str, Any],
) -> Iterator[Finding]:  # fmt: skip
    old = before.get("decisions") if isinstance(before.get("decisions"), list) else []
    new = after.get("decisions") if isinstance(after.get("decisions"), list) else []
    assert isinstance(old, list) and isinstance(new, list)
    for index, entry in enumerate(old):
        if index >= len(new) or new[index] != entry:
            where = ("decisions", index) if index < len(new) else ("decisions",)
            yield doc.finding(where, ERROR, "pr.decision-history",
                              f"{test_id}: decision {index + 1} of the history was changed or removed",
                              "the decision history is append-only: restore it and add a new decision")
            return
    added = [(len(old) + i, e) for i, e in enumerate(new[len(old):]) if isinstance(e, dict)]
    if before_state != after_state and not any(e.get("to_state") == after_state for _, e in added):
        yield doc.finding(("state",), ERROR, "pr.decision-missing",
                          f"{test_id}: state changed from {before_state} to {after_state} without a decision",
                          "record it with `incidentops lifecycle`, which appends the decision and its reason")
    severity = _severity(head, None, after)
    protected = severity in protected_severities(policy)
    for index, entry in added:
        decision = entry.get("decision")
        if decision == "KEEP" and not str(entry.get("reason") or "").strip():
            yield doc.finding(("decisions", index, "decision"), ERROR, "pr.keep-justification",
                              f"{test_id}: KEEP decision without a justification",
                              "write why the test stays in `reason:`")
        if protected and decision in WEAKENING:
            approver = entry.get("approver")
            if not isinstance(approver, str) or not approver.strip() or same_person(approver, entry.get("by")):
                yield doc.finding(("decisions", index, "decision"), ERROR, "pr.approver",
                                  f"{test_id}: {decision} of a {severity} test needs an approver other than"
                                  f" the requester ({entry.get('by')})",
                                  "another member of the safety council approves: set `approver:`")


def _severity(head: Snapshot, base: Snapshot | None, test: Mapping[str, Any]) -> str | None:
    incident_id = test.get("incident_id")
    if not isinstance(incident_id, str):
        return None
    for snap in (head, base):
        if snap is None:
            continue
        data = snap.data(f"incidents/{incident_id}/incident.yaml")
        if data is not None and isinstance(data.get("severity"), str):
            return str(data["severity"])
    return None


# --- append-only records ---------------------------------------------------------------


def _first_difference(old: bytes, new: bytes) -> int:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1


def _audit_rules(base: Snapshot, head: Snapshot) -> Iterator[Finding]:
    for path in base.paths("audit"):
        if path not in head.files:
            yield Finding(path, 1, 1, ERROR, "pr.audit-deleted", "audit entry deleted: the audit log is append-only",
                          "restore the entry; correct a mistake with a new entry instead")
        elif head.files[path] != base.files[path]:
            line = _first_difference(base.files[path], head.files[path])
            yield Finding(path, line, 1, ERROR, "pr.audit-modified",
                          "audit entry modified: entries are never edited",
                          "restore the entry as it was; record a correction as a new entry")


def _incident_rules(base: Snapshot, head: Snapshot) -> Iterator[Finding]:
    for path in sorted(base.files):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "incidents" or parts[2] not in _INCIDENT_FILES:
            continue
        if path in head.files:
            continue
        rule, what = _INCIDENT_FILES[parts[2]]
        doc = base.doc(path)
        line, col = doc.where(()) if doc is not None else (1, 1)
        yield Finding(path, line, col, ERROR, rule, f"the {what} record of {parts[1]} was deleted",
                      "incident records are permanent (ids are never reused): restore it; close an"
                      " incident with `status: closed`")


def _review_rules(base: Snapshot, head: Snapshot) -> Iterator[Finding]:
    for path in head.paths("review"):
        if base.files.get(path) == head.files[path]:
            continue
        doc = head.doc(path)
        data = head.data(path)
        tests = data.get("tests") if data else None
        if doc is None or not isinstance(tests, list):
            continue
        for index, item in enumerate(tests):
            if isinstance(item, dict) and item.get("decision") == "KEEP" and not str(item.get("justification") or "").strip():
                yield doc.finding(("tests", index, "decision"), ERROR, "pr.keep-justification",
                                  f"{item.get('test_id')}: KEEP decision without a justification",
                                  "write why the test stays in `justification:`")
