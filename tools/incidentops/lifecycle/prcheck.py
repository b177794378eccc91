"""pr-check: the registry at a pull request's base against the registry at its head.

Both revisions are read from git objects (no checkout). Everything in the pull
request is untrusted, tool state included; what is trusted is the base branch,
the CI runner's clock and the git host's record of approvals. So every rule
follows from the *effect* of a change, never from a label:

- tests are archived, never deleted; retired ids are never reused; a new test
  comes with its incident and handoff;
- each decision appended to a test is a step from the state the one before it
  left: legal in the policy's state machine, named after its effect
  (``from_state`` -> ``to_state``), dated in order and not after now. A
  chain of steps (DEPRECATE then RETIRE) may land in one pull request;
- a step that loosens the test's hold on releases (ACTIVE > MONITORING >
  DEPRECATED > RETIRED) needs an approver other than the requester; SEV-0/1
  tests and tests younger than the minimum age (from the *base's* git
  history, at the CI clock) are deprecated or retired only with an approved
  override;
- an edit that loosens a blocking test without a state change (another
  suite, another incident, a later expected refusal, a rewritten attack), a
  change to the policy, and an incident lowered out of the protected
  severities need approval too;
- audit entries, release records, incidents and postmortems are never
  modified away; commits dated after now are refused.

The rules are the base's policy, made stricter by the head's where it is
stricter; protections are judged by the stricter of base and head (a pull
request cannot lower a severity and use the lower severity in the same
change). With ``--approvals``, a named approver counts only if the account the
base's policy maps the name to approved the head commit.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from incidentops.lifecycle.approvals import Approvals, accounts, load_approvals
from incidentops.lifecycle.ceremony import (
    AUDIT_ACTION,
    has_override,
    known_suites,
    minimum_age_days,
    protected_severities,
    same_person,
    transitions,
)
from incidentops.lifecycle.decay import entered_suite
from incidentops.lifecycle.decisions import (
    KEEP,
    SKEW,
    Step,
    future_problem,
    label_problem,
    order_problem,
    read_decisions,
    weakens,
)
from incidentops.lifecycle.history import (
    ImportDeclaration,
    RegistryHistory,
    TreeLink,
    load_history,
    read_tree_files,
)
from incidentops.records import model
from incidentops.records.findings import ERROR, Finding
from incidentops.records.gitops import commit_dates, merge_base, resolve_commit, tree_paths
from incidentops.records.kinds import kind_of
from incidentops.records.model import AuditEntry, Incident, Policy, RegressionTest, Review, Scenario
from incidentops.records.placeholders import RUN_STATES, placeholder_turns
from incidentops.records.registry import MODELS_FILE, POLICY_FILE, default_policy_record
from incidentops.records.validate import validate
from incidentops.records.yamlio import Document, load_bytes

T = TypeVar("T")

TREE_PATHS = (POLICY_FILE, MODELS_FILE, "incidents", "regressions", "audit", "reviews", "releases", "scenarios")
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
    _typed: dict[str, model.Record | None] = field(default_factory=dict)

    def doc(self, path: str) -> Document | None:
        if path not in self.files:
            return None
        found = self._docs.get(path)
        if found is None:
            kind = kind_of(path)
            found = self._docs[path] = load_bytes(self.files[path], path, markdown=bool(kind and kind.markdown))
        return found

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

    def typed(self, cls: type[T], path: str | None) -> T | None:
        """The record at ``path`` at this revision when it passes its schema as a ``cls``, else None.

        Validated and built once per path, as the registry does for a working tree.
        """
        if path is None:
            return None
        if path not in self._typed:
            doc, kind = self.doc(path), kind_of(path)
            if doc is None or kind is None or doc.data is None:
                self._typed[path] = None
            else:
                doc.findings.extend(validate(doc, kind.schema))
                self._typed[path] = model.build(kind.name, doc)
        found = self._typed[path]
        return found if isinstance(found, cls) else None


@dataclass(frozen=True, slots=True)
class PrCheckResult:
    base: str
    head: str
    findings: tuple[Finding, ...]
    tests_changed: int
    approvals_verified: bool = False

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


def _blocking_states(policy: Policy) -> frozenset[str]:
    return frozenset(str(s) for s in policy.regression.blocking_states)


@dataclass(frozen=True, slots=True)
class Rules:
    """The lifecycle rules a pull request is judged by.

    The base's policy, made stricter where the head's is stricter: a pull request
    can tighten a rule for itself, never loosen one (a loosened policy is itself a
    change that needs approval, and counts only once it has landed).
    """

    transitions: Mapping[str, tuple[str, ...]]
    protected: frozenset[str]
    minimum_age: int
    blocking: frozenset[str]
    suites: frozenset[str]
    accounts: Mapping[str, str]

    @classmethod
    def of(cls, base: Policy, head: Policy) -> Rules:
        base_moves, head_moves = transitions(base), transitions(head)
        return cls(
            transitions={state: tuple(s for s in allowed if s in head_moves.get(state, allowed))
                         for state, allowed in base_moves.items()},
            protected=frozenset(protected_severities(base)) | frozenset(protected_severities(head)),
            minimum_age=max(minimum_age_days(base), minimum_age_days(head)),
            blocking=_blocking_states(base),
            suites=frozenset(known_suites(base)),
            accounts=accounts(base),
        )

    def holds(self, test: RegressionTest) -> bool:
        """Whether ``test`` is in the blocking set: a blocking state, in a suite the gate knows."""
        return test.state in self.blocking and test.suite in self.suites


@dataclass(frozen=True, slots=True)
class Evidence:
    """What stands behind an approver's name: the git host's reviews, when given."""

    approvals: Approvals | None
    accounts: Mapping[str, str]

    def problem(self, name: str | None, by: str | None) -> str | None:
        """Why ``name`` does not approve a change made by ``by`` (None when it does)."""
        if not name or not name.strip():
            return "no approver is named"
        if same_person(name, by):
            return f"the approver ({name}) is the person who made the change"
        if self.approvals is None:
            return None
        login = self.accounts.get(" ".join(name.split()).casefold())
        if login is None:
            return f"{name} is not one of the policy's approvers (`approvers` in incidentops.yaml at the base)"
        if not self.approvals.approved(login):
            return f"{name}: {self.approvals.why_not(login)}"
        return None

    def host_problem(self) -> str | None:
        """None when one of the policy's approvers approved the head commit on the git host."""
        if self.approvals is None:
            return "there is no approval evidence (pr-check --approvals gives it the pull request's reviews)"
        if any(self.approvals.approved(login) for login in self.accounts.values()):
            return None
        names = ", ".join(sorted(self.accounts)) or "none are listed"
        return f"none of the policy's approvers ({names}) approved the head commit"


def pr_check(
    root: Path, base: str, head: str = "HEAD", as_of: datetime | None = None, approvals: Path | None = None,
) -> PrCheckResult:  # fmt: skip
    """Compare the registry at ``base`` and ``head`` (git revisions) and return the findings.

    Time is the trusted clock's: ``as_of``, by default now. Nothing in the pull
    request tells the time: ages come from the history of ``base`` (a test the pull
    request adds is 0 days old), and commits or decisions dated after now are errors.
    ``approvals`` is the git host's record of the pull request's reviews
    (:mod:`incidentops.lifecycle.approvals`); without it, approver names are taken as written.
    """
    moment = as_of if as_of is not None else datetime.now(UTC).replace(microsecond=0)
    before = Snapshot(base, read_tree_files(root, base, TREE_PATHS))
    after = Snapshot(head, read_tree_files(root, head, TREE_PATHS))
    # an import the policy declares counts as the base declares it: a pull request cannot move it
    declared = ImportDeclaration.from_policy(before.typed(Policy, POLICY_FILE))
    history = load_history(root, ("regressions",), None, rev=base, imported=declared)
    reviews = load_approvals(approvals, resolve_commit(root, head)) if approvals is not None else None
    fork = merge_base(root, base, head)
    forked = tree_paths(root, fork, ("incidents", "regressions", "audit", "releases")) if fork is not None else None
    findings, changed = compare(before, after, history, moment, reviews, forked)
    findings.extend(_commit_rules(commit_dates(root, base, head), moment))
    return PrCheckResult(base, head, tuple(sorted(set(findings), key=Finding.sort_key)), changed,
                         reviews is not None)


def compare(
    base: Snapshot, head: Snapshot, history: RegistryHistory, as_of: datetime,
    approvals: Approvals | None = None, forked: frozenset[str] | None = None,
) -> tuple[list[Finding], int]:  # fmt: skip
    """(findings, number of tests added, changed or removed) between two snapshots.

    ``history`` is the trusted history of ``base``; ``as_of`` the trusted clock;
    ``forked`` the record paths at the commit where the head forked from the base.
    """
    # a policy that fails its schema has no typed form: the base's then is the built-in one, the
    # head's the base's (a pull request tightens rules only through a valid policy)
    base_policy = base.typed(Policy, POLICY_FILE) or default_policy_record()
    rules = Rules.of(base_policy, head.typed(Policy, POLICY_FILE) or base_policy)
    evidence = Evidence(approvals, rules.accounts)
    out: list[Finding] = []
    base_tests, head_tests = base.tests(), head.tests()
    new_audit = [p for p in head.paths("audit") if p not in base.files]
    retired_in_audit = {
        entry.test_id for p in new_audit
        if (entry := head.typed(AuditEntry, p)) is not None and entry.action == AUDIT_ACTION
    }  # fmt: skip
    changed = 0
    taken = _taken_ids(base, head, forked)
    out.extend(taken.values())
    for test_id in sorted(set(base_tests) | set(head_tests)):
        if test_id in taken:
            changed += 1
            continue  # another test than the base's: judged by pr.id-taken alone
        before_paths = base_tests.get(test_id, [])
        after_paths = head_tests.get(test_id, [])
        if sorted(before_paths) != sorted(after_paths) or any(
            base.files.get(p) != head.files.get(p) for p in after_paths
        ) or _scenario_changed(base, head, after_paths):
            changed += 1
        else:
            continue
        case = _Case(test_id, base, head, rules, evidence, history, as_of)
        out.extend(case.findings(before_paths, after_paths, retired_in_audit))
        out.extend(_placeholder_rules(head, after_paths))
    out.extend(_invalid_rules(base, head))
    out.extend(_link_rules(head))
    out.extend(_policy_rules(base, head, evidence))
    out.extend(_severity_rules(base, head, rules, evidence))
    out.extend(_audit_rules(base, head))
    out.extend(_release_rules(base, head))
    out.extend(_incident_rules(base, head))
    out.extend(_review_rules(base, head))
    out = _not_deleted_by_head(out, forked)
    return sorted(set(out), key=Finding.sort_key), changed


# --- ids two branches both took ---------------------------------------------------------


def _taken_ids(base: Snapshot, head: Snapshot, forked: frozenset[str] | None) -> dict[str, Finding]:
    """Records the head adds under an id the base gave, since the fork, to another record.

    Two branches that both took the next free id: at merge, one record would replace the
    other (or conflict). Only a path absent where the head forked, present at the base and
    different at the head is such a collision; anything else is an ordinary change.
    """
    if forked is None:
        return {}
    out: dict[str, Finding] = {}
    for path in sorted(set(head.files) & set(base.files)):
        kind = kind_of(path)
        if kind is None or kind.name not in ("incident", "regression") or path in forked:
            continue
        if head.files[path] == base.files[path]:
            continue
        record_id = path.split("/")[1] if kind.name == "incident" else path.rsplit("/", 1)[1].removesuffix(".yaml")
        if record_id in out:
            continue
        doc = head.doc(path)
        field_name = "id" if kind.name == "incident" else "test_id"
        message = (f"{record_id} is taken: the base branch gave it to another"
                   f" {'incident' if kind.name == 'incident' else 'regression test'} since this branch started")
        hint = (f"run `incidentops renumber {record_id} --provisional` on this branch and push: the record gets a"
                " provisional id now and the next free number after merge (`incidentops renumber` on main)")
        out[record_id] = (doc.finding((field_name,), ERROR, "pr.id-taken", message, hint) if doc is not None
                          else Finding(path, 1, 1, ERROR, "pr.id-taken", message, hint))
    return out


_DELETIONS = frozenset({"pr.test-deleted", "pr.incident-deleted", "pr.postmortem-deleted", "pr.handoff-deleted",
                        "pr.audit-deleted", "pr.release-deleted"})


def _not_deleted_by_head(findings: list[Finding], forked: frozenset[str] | None) -> list[Finding]:
    """A record the base gained after the head forked is not deleted by the head: the merge keeps it."""
    if forked is None:
        return findings
    return [f for f in findings if f.rule not in _DELETIONS or f.path in forked]


# --- regression tests ---------------------------------------------------------------


def _pick(paths: Sequence[str], archived: bool) -> str | None:
    if not paths:
        return None
    for path in paths:
        if path.startswith(ARCHIVE) == archived:
            return path
    return paths[0]


def _scenario_path(test: RegressionTest | None) -> str | None:
    return posixpath.normpath(test.scenario_file) if test is not None and test.scenario_file is not None else None


def _scenario_changed(base: Snapshot, head: Snapshot, paths: Sequence[str]) -> bool:
    for path in paths:
        scenario = _scenario_path(head.typed(RegressionTest, path))
        if scenario is not None and base.files.get(scenario) != head.files.get(scenario):
            return True
    return False


@dataclass
class _Case:
    """One test's change from base to head, judged by its effect."""

    test_id: str
    base: Snapshot
    head: Snapshot
    rules: Rules
    evidence: Evidence
    history: RegistryHistory
    as_of: datetime

    def findings(self, before_paths: list[str], after_paths: list[str], retired_in_audit: set[str]) -> Iterator[Finding]:
        test_id, base, head = self.test_id, self.base, self.head
        before_path = _pick(before_paths, archived=True)
        # the base's record as the trusted base writes it; one that fails its schema there is judged
        # as if the test were new: every step of its history then needs what a new step needs
        before = base.typed(RegressionTest, before_path)
        before_state = before.state if before is not None else None

        if not after_paths:
            if before_path is None:
                return
            yield from _deleted(test_id, before_path, base)
            return

        if before_state == "RETIRED" and any(p.startswith(ARCHIVE) for p in after_paths):
            # The archived test stays and another file takes its id. (Moving the test
            # itself out of the archive is an illegal RETIRED -> ... transition.)
            for path in after_paths:
                if not path.startswith(ARCHIVE):
                    doc = head.doc(path)
                    if doc is not None:
                        yield doc.finding(("test_id",), ERROR, "pr.id-reused",
                                          f"test id {test_id} was retired and can never be reused",
                                          "give the new test a new id, such as"
                                          f" {test_id}_v2; the archived test stays as it is")

        after_path = _pick(after_paths, archived=before_state == "RETIRED")
        assert after_path is not None
        doc = head.doc(after_path)
        after = head.typed(RegressionTest, after_path)
        if doc is None or after is None:
            return  # fails its schema at the head: pr.invalid-record refuses the change as a whole
        after_state = after.state

        if after_state == "RETIRED" and before_state != "RETIRED" and test_id not in retired_in_audit:
            yield doc.finding(("state",), ERROR, "pr.retire-audit",
                              f"{test_id} is RETIRED without a RETIRE_REGRESSION audit entry added in this change",
                              "retire tests with `incidentops lifecycle retire`: it writes the audit entry"
                              " under audit/ for this pull request")
        if before is None:
            yield from _new_test(test_id, doc, after, head)
            steps = read_decisions(after.decisions)
            yield from self._steps(doc, steps, None, None)
            if after_state in ("DEPRECATED", "RETIRED"):
                yield from self._override(doc, after, after, None, after_state, steps)
            return

        old, new = before.decisions, after.decisions
        rewritten = next((i for i, entry in enumerate(old) if i >= len(new) or new[i] != entry), None)
        if rewritten is not None:
            where = ("decisions", rewritten) if rewritten < len(new) else ("decisions",)
            yield doc.finding(where, ERROR, "pr.decision-history",
                              f"{test_id}: decision {rewritten + 1} of the history was changed or removed",
                              "the decision history is append-only: restore it and add a new decision")
        history = read_decisions(old)
        steps = [] if rewritten is not None else read_decisions(new[len(old):], before_state, len(old))
        yield from self._steps(doc, steps, before_state, history[-1] if history else None)

        if not steps and before.state != after_state:
            yield from self._transition(doc, ("state",), before.state, after_state)
            if rewritten is None:
                yield doc.finding(("state",), ERROR, "pr.decision-missing",
                                  f"{test_id}: state changed from {before_state} to {after_state} without a"
                                  " decision",
                                  "record it with `incidentops lifecycle`, which appends the decision and its"
                                  " reason")
        if steps and steps[-1].to_state is not None and steps[-1].to_state != after_state:
            yield doc.finding(("state",), ERROR, "pr.decision-missing",
                              f"{test_id}: the file says {after_state}, but its last decision leads to"
                              f" {steps[-1].to_state}",
                              "the state is where the recorded decisions lead: record the decision that"
                              " brings the test here")
        if after_state in ("DEPRECATED", "RETIRED") and after_state != before_state:
            yield from self._override(doc, before, after, before_path, after_state, steps)
        yield from self._content(doc, before, after, steps)

    def _steps(self, doc: Document, steps: Sequence[Step], start: str | None, last: Step | None) -> Iterator[Finding]:
        """Each decision appended by the pull request: a legal, approved, dated step from the one before."""
        state, previous = start, last
        for step in steps:
            at = ("decisions", step.index)
            problem = label_problem(step, first=step.index == 0)
            if problem:
                yield doc.finding((*at, "decision"), ERROR, "pr.decision-label", f"{self.test_id}: {problem}",
                                  "a decision is judged by the change it records: name it after its"
                                  " from_state -> to_state (KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE)")
            if step.from_state != state and step.index > 0:
                yield doc.finding((*at, "from_state"), ERROR, "pr.decision-chain",
                                  f"{self.test_id}: decision {step.index + 1} starts from {step.from_state},"
                                  f" but the test was {state}",
                                  "each decision starts where the one before it left the test")
            elif step.changes_state and step.from_state is not None and step.to_state is not None:
                yield from self._transition(doc, (*at, "to_state"), step.from_state, step.to_state)
            for problem in (order_problem(previous, step), future_problem(step, self.as_of)):
                if problem:
                    yield doc.finding((*at, "at"), ERROR, "pr.decision-date", f"{self.test_id}: {problem}",
                                      "decisions are appended in the order they are taken, dated when they are"
                                      " taken (the CI clock is the judge)")
            if step.label == KEEP and not step.reason.strip():
                yield doc.finding((*at, "decision"), ERROR, "pr.keep-justification",
                                  f"{self.test_id}: KEEP decision without a justification",
                                  "write why the test stays in `reason:`")
            if weakens(step.from_state, step.to_state):
                problem = self.evidence.problem(step.approver, step.by)
                if problem:
                    yield doc.finding((*at, "decision"), ERROR, "pr.approver",
                                      f"{self.test_id}: {step.from_state} -> {step.to_state} weakens the test's"
                                      f" hold on releases and needs an approver other than the requester"
                                      f" ({step.by}): {problem}",
                                      "another member of the safety council approves: set `approver:` (and, in"
                                      " CI, that approver's account approves the pull request)")
            state, previous = step.to_state, step

    def _transition(self, doc: Document, where: tuple[str | int, ...], before: str, after: str) -> Iterator[Finding]:
        allowed = self.rules.transitions.get(before, ())
        if after not in allowed:
            yield doc.finding(where, ERROR, "pr.transition",
                              f"{self.test_id}: {before} -> {after} is not an allowed transition",
                              f"allowed from {before}: {', '.join(allowed) or 'nothing (terminal)'}"
                              " (policy regression.transitions)")

    def _override(
        self, doc: Document, before: RegressionTest, after: RegressionTest, before_path: str | None,
        after_state: str, steps: Sequence[Step],
    ) -> Iterator[Finding]:  # fmt: skip
        problems = []
        severity = self._protected_severity(before, after)
        if severity is not None:
            problems.append(f"it is a {severity} test (SEV-0/1 tests stay)")
        added = self.history.for_path(before_path, self.as_of) if before_path else None
        # the base's record and history: what the pull request writes never makes a test older
        base_test = self.base.typed(RegressionTest, before_path)
        added_at = (self.as_of if added is None else added.added_at if base_test is None
                    else entered_suite(base_test, added))
        age = max(0, int((self.as_of - added_at).total_seconds() // 86400))
        source = ("its CREATE decision, the base's policy declaring the import" if added is not None
                  and added_at < added.added_at else "the base's git history")
        if age < self.rules.minimum_age:
            problems.append(f"it is {age} days old, younger than the {self.rules.minimum_age}-day minimum"
                            f" (in the suite since {added_at:%Y-%m-%d}, from {source})")
        if not problems:
            return
        head_test = after
        if head_test.override is None or not has_override(head_test):
            yield doc.finding(("state",), ERROR, "pr.override-required",
                              f"{self.test_id} {after_state} without an approved override: " + "; ".join(problems),
                              "add `override: {reason: ..., approver: ...}` to the test, approved by the"
                              " safety council, or keep the test")
            return
        requester = next((s.by for s in reversed(steps) if s.by), None)
        problem = self.evidence.problem(head_test.override.approver, requester)
        if problem:
            yield doc.finding(("override", "approver"), ERROR, "pr.override-approver",
                              f"{self.test_id}: the override is not approved: {problem}",
                              "the override's approver is a member of the safety council other than the"
                              " requester, whose account approves the pull request")

    def _protected_severity(self, before: RegressionTest, after: RegressionTest) -> str | None:
        """The most severe protected severity of the test's incident, at base or head (the stricter wins)."""
        found = []
        for test in (before, after):
            for snap in (self.base, self.head):
                incident = snap.typed(Incident, f"incidents/{test.incident_id}/incident.yaml")
                if incident is not None and incident.severity in self.rules.protected:
                    found.append(incident.severity)
        return min(found) if found else None

    def _content(
        self, doc: Document, before: RegressionTest, after: RegressionTest, steps: Sequence[Step],
    ) -> Iterator[Finding]:  # fmt: skip
        """Edits that loosen a blocking test without changing its state need an approver too."""
        if not self.rules.holds(before):
            return
        changes: list[tuple[tuple[str, ...], str]] = []
        if after.suite != before.suite:
            leaves = "" if after.suite in self.rules.suites else ", a suite the policy does not know"
            changes.append((("suite",), f"moves it from suite {before.suite} to {after.suite}{leaves}"))
        if after.incident_id != before.incident_id:
            changes.append((("incident_id",), f"moves it from incident {before.incident_id} to {after.incident_id}"))
        turn_before, turn_after = before.expected_block_turn, after.expected_block_turn
        if turn_after > turn_before:
            changes.append((("expected_block_turn",), f"lets the model refuse later (expected_block_turn"
                                                      f" {turn_before} -> {turn_after})"))
        if after.turns != before.turns or after.scenario_file != before.scenario_file:
            changes.append((("turns",) if after.source.has("turns") else ("scenario_file",), "rewrites its attack"))
        elif (scenario := _scenario_path(after)) is not None and self.base.files.get(scenario) != self.head.files.get(scenario):
            changes.append((("scenario_file",), f"rewrites its attack in {scenario}"))
        if not changes:
            return
        approved = [s for s in steps if s.approver and self.evidence.problem(s.approver, s.by) is None]
        if approved:
            return
        problem = self.evidence.host_problem()
        if problem is None:
            return
        for where, what in changes:
            yield doc.finding(where, ERROR, "pr.weakening",
                              f"{self.test_id} blocks releases, and this change {what}: {problem}",
                              "a change that can take a failing test out of the gate needs the same review"
                              " as a deprecation: record a decision with an `approver:`, approved on the"
                              " pull request")


def _deleted(test_id: str, before_path: str, base: Snapshot) -> Iterator[Finding]:
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


def _new_test(test_id: str, doc: Document, test: RegressionTest, head: Snapshot) -> Iterator[Finding]:
    incident_id = test.incident_id
    folder = f"incidents/{incident_id}"
    if f"{folder}/incident.yaml" not in head.files:
        yield doc.finding(("incident_id",), ERROR, "pr.new-test-incident",
                          f"new test {test_id}: its incident {incident_id} is not in the registry",
                          f"declare {folder}/incident.yaml in the same pull request")
    if f"{folder}/handoff.yaml" not in head.files:
        yield doc.finding(("incident_id",), ERROR, "pr.new-test-handoff",
                          f"new test {test_id}: {folder}/handoff.yaml (the incident-to-regression handoff) is missing",
                          f"`incidentops handoff {incident_id}` writes it with the test")


def _placeholder_rules(head: Snapshot, paths: Sequence[str]) -> Iterator[Finding]:
    """``pr.placeholder-turn``: a test that runs (ACTIVE, MONITORING) still replays a scaffold placeholder."""
    for path in paths:
        doc, test = head.doc(path), head.typed(RegressionTest, path)
        if doc is None or test is None or test.state not in RUN_STATES:
            continue
        turns, where = test.turns, "turns"
        scenario_path = _scenario_path(test)
        if not turns and scenario_path is not None:
            scenario = head.typed(Scenario, scenario_path)
            turns, where = (scenario.turns if scenario is not None else ()), "scenario_file"
        for number in placeholder_turns(turns):
            at: tuple[str | int, ...] = ("turns", number - 1) if where == "turns" else (where,)
            yield doc.finding(at, ERROR, "pr.placeholder-turn",
                              f"{test.test_id}: turn {number} is a scaffold placeholder in a"
                              f" {test.state} test: the suite would replay it and pass",
                              "write the attack's user turns before the test joins the suite")


#: the record kinds whose effect pr-check reads from their typed form (release records are judged
#: by their bytes alone: append-only)
_READ_TYPED = frozenset({"policy", "incident", "regression", "audit", "review", "scenario"})


def _invalid_rules(base: Snapshot, head: Snapshot) -> Iterator[Finding]:
    """``pr.invalid-record``: a record the pull request adds or changes that fails its schema.

    pr-check judges a change by its effect, and reads the effect from the typed
    records of both revisions: a record that fails its schema has none, so the
    change is refused as a whole until `incidentops check` passes on it. Nothing
    in such a record can weaken the suite while it is refused.
    """
    for path in sorted(head.files):
        kind = kind_of(path)
        if kind is None or kind.name not in _READ_TYPED or base.files.get(path) == head.files[path]:
            continue
        doc = head.doc(path)
        if doc is None or head.typed(model.KINDS[kind.name], path) is not None:
            continue
        first = next((f for f in doc.findings if f.is_error), None)
        line, col = (first.line, first.col) if first is not None else doc.where(())
        why = f": {first.message}" if first is not None else ""
        yield Finding(path, line, col, ERROR, "pr.invalid-record",
                      f"{path} fails its schema at the head{why}; pr-check cannot read what the change does,"
                      " so the change is refused", f"run `incidentops check {path}` and fix what it reports")


def _link_rules(head: Snapshot) -> Iterator[Finding]:
    """A symlink or submodule where the registry keeps records: a checkout would read whatever it points to."""
    links: Mapping[str, TreeLink] = getattr(head.files, "links", {})
    for path, link in sorted(links.items()):
        what = f"a symbolic link to {link.target!r}" if link.kind == "symlink" else f"a submodule at {link.target[:12]}"
        yield Finding(path, 1, 1, ERROR, "pr.link", f"{path} is {what}, not a file",
                      "records are plain files in the registry: commit the file itself")


# --- the policy and the incidents' severity -------------------------------------------


def _policy_rules(base: Snapshot, head: Snapshot, evidence: Evidence) -> Iterator[Finding]:
    """A change to the policy's rules counts only with an approval on the git host."""
    before, after = base.typed(Policy, POLICY_FILE), head.typed(Policy, POLICY_FILE)
    doc = head.doc(POLICY_FILE)
    if before is None or after is None or doc is None or before == after:
        return  # a head policy that fails its schema is pr.invalid-record
    changed = _changed_keys(before, after)
    problem = evidence.host_problem()
    if problem is None or not changed:
        return
    first = changed[0]
    where: tuple[str, ...] = tuple(first.split(".")) if after.source.has(first.split(".")[0]) else ()
    yield doc.finding(where, ERROR, "pr.policy-change",
                      f"the policy changes {', '.join(changed[:6])}{' ...' if len(changed) > 6 else ''}: {problem}",
                      "the policy decides what blocks a release and who may weaken it: a change to it"
                      " needs one of the approvers of the base's policy to approve the pull request")


def _changed_keys(before: object, after: object, prefix: str = "") -> list[str]:
    """The fields (``section.field`` one level down) in which two typed policies differ."""
    a_parts, b_parts = model.parts(before) or {}, model.parts(after) or {}
    out = []
    for key in sorted(set(a_parts) | set(b_parts)):
        a, b = a_parts.get(key), b_parts.get(key)
        if a == b:
            continue
        name = f"{prefix}{key}"
        if not prefix and model.parts(a) is not None and model.parts(b) is not None:
            out.extend(_changed_keys(a, b, f"{name}."))
        else:
            out.append(name)
    return out


def _severity_rules(base: Snapshot, head: Snapshot, rules: Rules, evidence: Evidence) -> Iterator[Finding]:
    """An incident lowered out of the protected severities is a protection lowered: it needs an approver."""
    for path in head.paths("incident"):
        before, after = base.typed(Incident, path), head.typed(Incident, path)
        if before is None or after is None:
            continue  # a head incident that fails its schema is pr.invalid-record
        old, new = before.severity, after.severity
        if old not in rules.protected or new in rules.protected or old == new:
            continue
        doc = head.doc(path)
        assert doc is not None
        override = after.severity_override
        problem = evidence.problem(override.approver if override is not None else None, None)
        if problem is None:
            continue
        where = ("severity_override", "approver") if override is not None else ("severity",)
        yield doc.finding(where, ERROR, "pr.severity-lowered",
                          f"{after.id}: severity lowered from {old} to {new}, out of the"
                          f" protected severities ({', '.join(sorted(rules.protected))}): {problem}",
                          "a lowered severity lifts the protection of the incident's tests; record"
                          " `severity_override: {reason, approver}` approved on the pull request. Its"
                          " tests keep the protection of the stricter severity until the change has landed")


# --- commits ---------------------------------------------------------------------------


def _commit_rules(commits: Sequence[tuple[str, datetime, datetime]], now: datetime) -> Iterator[Finding]:
    for sha, authored, committed in commits:
        when = max(authored, committed)
        if when > now + SKEW:
            yield Finding(f"commit {sha[:12]}", 1, 1, ERROR, "pr.commit-date",
                          f"commit {sha[:12]} is dated {when:%Y-%m-%dT%H:%M:%SZ}, after now"
                          f" ({now:%Y-%m-%dT%H:%M:%SZ} by the CI clock)",
                          "a commit cannot come from the future: fix the machine's clock and recommit"
                          " (`git commit --amend --reset-author --no-edit`)")


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


def _release_rules(base: Snapshot, head: Snapshot) -> Iterator[Finding]:
    """Recorded gate decisions are history: never edited, never deleted."""
    for path in base.paths("release"):
        if path not in head.files:
            yield Finding(path, 1, 1, ERROR, "pr.release-deleted",
                          "release record deleted: recorded gate decisions are append-only",
                          "restore it; a new gate run is recorded as a new release record")
        elif head.files[path] != base.files[path]:
            line = _first_difference(base.files[path], head.files[path])
            yield Finding(path, line, 1, ERROR, "pr.release-modified",
                          "release record modified: a recorded gate decision is never edited",
                          "restore it as it was; record a new gate run under a new release name")


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
        review = head.typed(Review, path)
        if review is None:
            continue  # pr.invalid-record
        for item in review.tests:
            if item.decision == "KEEP" and not (item.justification or "").strip():
                yield item.source.finding(("decision",), ERROR, "pr.keep-justification",
                                  f"{item.test_id}: KEEP decision without a justification",
                                  "write why the test stays in `justification:`")
