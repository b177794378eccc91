"""Lifecycle decisions on regression tests: the state machine and the retirement ceremony.

A decision (KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE) is checked against the
policy (``regression.transitions``; KEEP changes no state), then recorded in
the test's file, keeping its comments and layout, and appended to its
``decisions``. Deprecating or retiring a SEV-0/1 test, or a test younger than
``regression.minimum_age_days`` (age from git history), needs the test's
approved ``override``. For SEV-0/1 tests the approver must be someone other
than the requester (the git user).

A decision is dated by the real clock. An earlier moment may be given (a
decision taken in a meeting, recorded later), never one in the future or
before the test's last recorded decision: a file's decisions stay in order.

Retiring is the retirement ceremony:

1. ``audit``: write the audit entry, a new file under ``audit/``;
2. ``archive``: move the test into ``regressions/archive/`` (``git mv``);
3. ``edit``: record the RETIRED state and the decision in the archived file;
4. ``stage``: stage the audit entry and the archived test (inside a repository);
5. ``notify``: the notice is previewed; it is sent after the retirement lands on
   the main branch (``incidentops lifecycle notify --since``, see notify.py).

A failure (or Ctrl-C) in steps 1-4 undoes the steps already done, in reverse
order, so the registry is exactly as before. A process killed between the
steps cannot undo anything: what it leaves is found by ``check`` from the
records themselves (checks/ceremony_rules.py), and :func:`resume` finishes
the ceremony from its audit entry (:func:`undo` takes it back while it is
uncommitted). No state of the tool is needed or trusted for either.
``hook(step)`` is called before each step: tests use it to inject a failure,
or a real kill, at every step.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from incidentops.lifecycle import notify
from incidentops.lifecycle.decay import entered_suite
from incidentops.lifecycle.decisions import weakens
from incidentops.lifecycle.history import ImportDeclaration, RegistryHistory, git_mv, load_history
from incidentops.lifecycle.notify import Interrupted
from incidentops.records.errors import BlockedError, IncidentOpsError
from incidentops.records.fsio import create_text_exclusive, write_text_atomic
from incidentops.records.gitops import stage
from incidentops.records.model import AuditEntry, Decision, Policy, RegressionTest
from incidentops.records.registry import Registry
from incidentops.records.yamledit import append_item, edit_text
from incidentops.records.yamlscalar import quoted, scalar

KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE = "KEEP", "MONITOR", "ACTIVATE", "DEPRECATE", "RETIRE"
#: decision -> the state it leads to (None: no state change)
TARGET_STATE: dict[str, str | None] = {
    KEEP: None,
    MONITOR: "MONITORING",
    ACTIVATE: "ACTIVE",
    DEPRECATE: "DEPRECATED",
    RETIRE: "RETIRED",
}
#: decisions that need an approved override for protected or young tests
NEEDS_OVERRIDE = (DEPRECATE, RETIRE)
KEPT_STATES = ("ACTIVE", "MONITORING")
STEPS = ("audit", "archive", "edit", "stage", "notify")
ARCHIVE_DIR = "regressions/archive"
AUDIT_ACTION = "RETIRE_REGRESSION"
#: how far ahead of this machine's clock a decision may be dated (clocks drift a little)
CLOCK_SKEW = timedelta(minutes=5)

Hook = Callable[[str], None]

_MODELINE = re.compile(r"^(# yaml-language-server: \$schema=)(?:\.\./)*(schemas/)", re.MULTILINE)
class NothingToDo(IncidentOpsError):
    """The decision is already recorded, or the test is already in the state asked for: exit 0."""

    exit_code = 0


class MissingOption(IncidentOpsError):
    """A decision asked without an option it needs (--approver, --reason-code), or with a reason code the
    policy does not list: a usage error, exit 2."""


@dataclass(frozen=True, slots=True)
class Request:
    """A lifecycle decision someone asks for."""

    test_id: str
    decision: str
    reason: str
    requested_by: str
    as_of: datetime
    approver: str | None = None
    reason_code: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A request checked against the policy: everything needed to apply it."""

    request: Request
    path: str
    new_path: str
    from_state: str
    to_state: str
    incident_id: str | None
    severity: str | None
    entry: Mapping[str, str]
    audit_path: str | None = None
    audit_entry: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision did: the files written and the notification sent."""

    plan: Plan
    notification: notify.Notification
    deliveries: tuple[notify.Delivery, ...] = ()
    queued: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: the notice is only previewed: CI sends it once the change lands on the main branch
    after_merge: bool = False
    #: what a resumed ceremony did (empty for a new decision)
    resumed: tuple[str, ...] = ()


# --- policy ---------------------------------------------------------------------


def transitions(policy: Policy) -> dict[str, list[str]]:
    return {str(state): [str(s) for s in allowed] for state, allowed in policy.regression.transitions.items()}


def known_suites(policy: Policy) -> tuple[str, ...]:
    """The suites the policy declares: ``regression.suites``, else just ``regression.default_suite``."""
    suites = [s for s in policy.regression.suites if s]
    first = policy.regression.default_suite
    return tuple(dict.fromkeys(suites)) if suites else ((first,) if first else ())


def protected_severities(policy: Policy) -> tuple[str, ...]:
    return policy.regression.protected_severities


def minimum_age_days(policy: Policy) -> int:
    return policy.regression.minimum_age_days


def reason_codes(policy: Policy) -> list[str]:
    return list(policy.regression.retirement_reason_codes)


def has_override(test: RegressionTest | None) -> bool:
    """Whether the test carries an approved override: ``override: {reason, approver}``, both filled in."""
    override = test.override if test is not None else None
    return override is not None and bool(override.reason.strip()) and bool(override.approver.strip())


def same_person(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_path(test_id: str, when: datetime) -> str:
    """``audit/<YYYYMMDDTHHMMSSZ>_RETIRE_REGRESSION_<test_id>.yaml``."""
    return f"audit/{when.strftime('%Y%m%dT%H%M%SZ')}_{AUDIT_ACTION}_{test_id}.yaml"


def last_decision_at(test: RegressionTest) -> datetime | None:
    """The latest ``at`` among the test's recorded decisions."""
    return max((d.at for d in test.decisions), default=None)


def check_date(label: str, test: RegressionTest, when: datetime, now: datetime | None = None,
               what: str = "--as-of") -> None:
    """Refuse to date a decision in the future or before the test's last recorded decision."""
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    if when > clock + CLOCK_SKEW:
        raise IncidentOpsError(
            f"{label}: {what} {stamp(when)} is in the future (this machine's clock says {stamp(clock)})",
            "a decision is dated when it is taken: drop --as-of (or give a moment that has passed)",
        )
    last = last_decision_at(test)
    if last is not None and when < last:
        raise IncidentOpsError(
            f"{label}: {what} {stamp(when)} is before the test's last recorded decision ({stamp(last)})",
            f"decisions are recorded in order: drop --as-of, or give a moment on or after {stamp(last)}",
        )


def retire_entries(registry: Registry) -> dict[str, list[str]]:
    """test id -> the paths of the RETIRE_REGRESSION audit entries naming it, oldest first."""
    found: dict[str, list[str]] = {}
    for path in registry.audit_paths:  # as written, valid or not: a broken entry still retires its test
        doc = registry.doc(path)
        if doc is None or doc.string(("action",)) != AUDIT_ACTION:
            continue
        test_id = doc.string(("test_id",))
        if test_id is not None:
            found.setdefault(test_id, []).append(path)
    return found


# --- planning -------------------------------------------------------------------


def plan(registry: Registry, request: Request, history: RegistryHistory | None = None, *,
         now: datetime | None = None, resume_audit: str | None = None) -> Plan:
    """Check ``request`` against the policy and the test's record; raise if it is refused.

    Raises :class:`BlockedError` when the policy refuses the decision (illegal
    transition, missing override or approver) and :class:`IncidentOpsError`
    for a request that cannot be understood (unknown test, unreadable record,
    a date in the future or before the test's last decision). ``history`` is
    read from git when needed and not given; ``now`` is the real clock unless
    given. ``resume_audit`` names the audit entry of a retirement being
    finished (:func:`resume`): it and the archived file may exist already.
    """
    policy = registry.policy_record
    decision = request.decision.upper()
    if decision not in TARGET_STATE:
        raise IncidentOpsError(
            f"unknown decision {request.decision!r}", f"one of: {', '.join(TARGET_STATE)}"
        )
    test_id = request.test_id
    path = registry.test_path(test_id)
    if path is None:
        close = difflib.get_close_matches(test_id, list(registry.test_paths), n=1)
        raise IncidentOpsError(
            f"no regression test '{test_id}' in regressions/",
            f"did you mean '{close[0]}'?" if close else "list the tests with `incidentops list tests`",
        )
    doc = registry.doc(path)
    test = registry.typed(RegressionTest, path)
    if doc is None or test is None:
        raise IncidentOpsError(
            f"{path}: the record has errors, so no decision can be recorded in it",
            f"run `incidentops check {path}` and fix it first",
        )
    reason = " ".join(request.reason.split())
    if not reason:
        raise IncidentOpsError("--reason is empty", "say why, in the terms of the decay assessment")
    from_state = str(test.state)
    label = f"{test_id} ({from_state})"
    if from_state == "RETIRED":
        raise BlockedError(
            f"{label}: RETIRED is terminal; a retired test is never changed again",
            "write a new regression test with a new id if the attack came back",
        )
    target = TARGET_STATE[decision]
    if target is None:
        if from_state not in KEPT_STATES:
            raise BlockedError(
                f"{label}: KEEP applies to ACTIVE or MONITORING tests",
                f"reprieve a {from_state} test with `incidentops lifecycle activate` or `monitor`",
            )
        to_state = from_state
        last = test.decisions[-1] if test.decisions else None
        if (last is not None and last.decision == KEEP and last.to_state == from_state
                and " ".join(last.reason.split()) == " ".join(request.reason.split())):
            raise NothingToDo(f"{label}: this KEEP is already the last decision recorded ({last.source.text('at')})",
                              "nothing to do; a KEEP with a new justification is recorded")
    else:
        to_state = target
        if to_state == from_state:
            raise NothingToDo(f"{label}: already {from_state}", "nothing to do")
        allowed = transitions(policy).get(from_state, [])
        if to_state not in allowed:
            hint = (
                "retirement follows deprecation: `incidentops lifecycle deprecate` it first"
                if to_state == "RETIRED" and "DEPRECATED" in allowed
                else f"allowed from {from_state}: {', '.join(allowed) or 'nothing'} (policy regression.transitions)"
            )
            raise BlockedError(f"{label}: {from_state} -> {to_state} is not an allowed transition", hint)

    check_date(label, test, request.as_of, now, "the audit entry's timestamp" if resume_audit else "--as-of")

    incident_id = test.incident_id
    incident = registry.incident_record(incident_id)
    if incident is None:
        raise IncidentOpsError(
            f"{path}: incident '{incident_id}' of {test_id} cannot be read",
            "run `incidentops check` and fix the incident record first",
        )
    severity = incident.severity
    protected = severity in protected_severities(policy)
    approver = " ".join((request.approver or "").split()) or None

    if weakens(from_state, to_state):
        # pr-check asks the same of every step that loosens a test's hold on releases
        what = f"{from_state} -> {to_state} loosens the test's hold on releases"
        if approver is None:
            raise MissingOption(
                f"{label}: {what} and needs an approver for {decision}",
                f"pass --approver: someone other than you ({request.requested_by})",
            )
        if same_person(approver, request.requested_by):
            raise BlockedError(
                f"{label}: {what}: the approver must be someone other than the requester"
                f" ({request.requested_by})",
                "ask another member of the safety council to approve",
            )

    if decision in NEEDS_OVERRIDE and not has_override(test):
        problems = []
        if protected:
            problems.append(f"it is a {severity} test (SEV-0/1 tests stay)")
        minimum = minimum_age_days(policy)
        if history is None:
            history = load_history(registry.root, ("regressions",), request.as_of,
                                   imported=ImportDeclaration.from_policy(policy))
        added = history.for_path(path, request.as_of)
        home = f"regressions/{test_id}.yaml"
        if added.uncommitted and resume_audit and path != home:  # moved by the ceremony, not committed yet
            before_move = history.for_path(home, request.as_of)
            added = added if before_move.uncommitted else before_move
        entered = entered_suite(test, added)
        age = max(0, int((request.as_of - entered).total_seconds() // 86400))
        if age < minimum:
            since = "it has no git history yet" if added.uncommitted else f"in the suite since {entered:%Y-%m-%d}"
            problems.append(f"it is {age} days old, younger than the {minimum}-day minimum ({since})")
        if problems:
            raise BlockedError(
                f"{label}: {decision} refused: " + "; ".join(problems),
                f"add an approved exception to {path}: `override: {{reason: ..., approver: ...}}`"
                " (reviewed in the pull request), then run the command again",
            )

    code = request.reason_code
    if decision == RETIRE:
        codes = reason_codes(policy)
        if not code:
            raise MissingOption(
                f"{label}: retiring needs --reason-code",
                f"one of: {', '.join(codes)}" if codes else "see regression.retirement_reason_codes",
            )
        if codes and code not in codes:  # a mistyped option, not a refusal by the policy: exit 2
            close = difflib.get_close_matches(code.upper(), codes, n=1)
            raise MissingOption(f"{label}: reason code '{code}' is not in the policy",
                                (f"did you mean {close[0]}? " if close else "") + f"one of: {', '.join(codes)}")
        if approver is None:
            raise MissingOption(
                f"{label}: retiring needs an approver for the audit entry", "pass --approver ROLE"
            )
    elif code:
        raise IncidentOpsError("--reason-code applies to `retire` only", "drop --reason-code")

    entry: dict[str, str] = {"at": stamp(request.as_of), "decision": decision}
    entry["from_state"] = from_state
    entry["to_state"] = to_state
    entry["reason"] = f"{code} - {reason}" if decision == RETIRE else reason
    entry["by"] = request.requested_by
    if approver:
        entry["approver"] = approver

    new_path = path
    audit_rel: str | None = None
    audit_entry: dict[str, str] | None = None
    if decision == RETIRE:
        assert code is not None and approver is not None
        new_path = f"{ARCHIVE_DIR}/{test_id}.yaml"
        if path != new_path and (registry.root / new_path).exists():
            raise BlockedError(f"{new_path} already exists: the id {test_id} was retired before",
                               "retired ids are never reused")
        if resume_audit is None:
            started = retire_entries(registry).get(test_id)
            if started:
                raise IncidentOpsError(
                    f"{started[0]} already retires {test_id}: its retirement ceremony was started and not finished",
                    f"finish it with `incidentops lifecycle retire --resume {test_id}`"
                    f" (or take it back with `incidentops lifecycle retire --undo {test_id}`)",
                )
        audit_rel = resume_audit or audit_path(test_id, request.as_of)
        if resume_audit is None and (registry.root / audit_rel).exists():
            raise IncidentOpsError(f"{audit_rel} already exists", "audit entries are never overwritten; retry in a second")
        audit_entry = {
            "action": AUDIT_ACTION,
            "test_id": test_id,
            "original_incident": incident_id or "",
            "reason_code": code,
            "reason": reason,
            "approver": approver,
            "requested_by": request.requested_by,
            "timestamp": stamp(request.as_of),
        }
    return Plan(
        request=Request(test_id, decision, reason, request.requested_by, request.as_of, approver, code),
        path=path,
        new_path=new_path,
        from_state=from_state,
        to_state=to_state,
        incident_id=incident_id,
        severity=severity,
        entry=entry,
        audit_path=audit_rel,
        audit_entry=audit_entry,
    )


# --- applying -------------------------------------------------------------------


def apply(registry: Registry, plan: Plan, hook: Hook | None = None, timeout: float = notify.DEFAULT_TIMEOUT,
          poster: notify.Poster = notify.post_json) -> Outcome:
    """Record a planned decision in the registry, then notify the stakeholders.

    A retirement's notice is only previewed: CI sends it once the retirement lands
    on the main branch. Other decisions' notices are queued, then sent.
    """
    root = registry.root
    new_text = _edited((root / plan.path).read_text(encoding="utf-8"), plan)
    if plan.request.decision == RETIRE:
        staged = _ceremony(root, plan, new_text, hook)
        _forget(registry, plan)
        return _preview(registry.policy_record, plan, hook, staged)
    target = root / plan.path
    try:
        _step(hook, "edit")
        write_text_atomic(target, new_text)
    except OSError as exc:  # the write is atomic: the file is as it was
        raise IncidentOpsError(
            f"{plan.path}: cannot record the decision ({exc.strerror or exc}); nothing was changed",
            "fix the cause (permissions, disk space) and run the command again",
        ) from exc
    except KeyboardInterrupt:
        if target.read_text(encoding="utf-8") != new_text:
            raise Interrupted(f"interrupted before the decision was recorded in {plan.path}: nothing was changed",
                              "run the command again") from None
        raise Interrupted(f"interrupted: the {plan.request.decision} decision is recorded in {plan.path};"
                          " no notice was sent", "send the notice by hand, or commit the change") from None
    _forget(registry, plan)
    return _notify(root, registry.policy_record, plan, hook, timeout, poster)


def decide(registry: Registry, request: Request, hook: Hook | None = None,
           history: RegistryHistory | None = None, timeout: float = notify.DEFAULT_TIMEOUT,
           poster: notify.Poster = notify.post_json, now: datetime | None = None) -> Outcome:
    """Plan and apply a lifecycle decision."""
    return apply(registry, plan(registry, request, history, now=now), hook, timeout, poster)


def _forget(registry: Registry, plan: Plan) -> None:
    for rel in {plan.path, plan.new_path, plan.audit_path}:
        if rel:
            registry.forget(rel)


def _step(hook: Hook | None, name: str) -> None:
    if hook is not None:
        hook(name)


def _edited(text: str, plan: Plan) -> str:
    """``text`` (the test's file) with the planned state and decision recorded."""

    def mutate(data: CommentedMap) -> None:
        if data.get("state") != plan.to_state:
            data["state"] = plan.to_state
        entry = dict(plan.entry)
        entry["at"] = DoubleQuotedScalarString(entry["at"])
        append_item(data, "decisions", entry)

    return _with_modeline(edit_text(text, mutate, plan.path), plan.new_path)


def _with_modeline(text: str, path: str) -> str:
    prefix = "../" * path.count("/")
    return _MODELINE.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text, count=1)


def _audit_text(plan: Plan) -> str:
    assert plan.audit_entry is not None
    lines = ["# yaml-language-server: $schema=../schemas/audit.schema.json"]
    lines.append("# Append-only audit log: this entry is never edited or deleted.")
    for key, value in plan.audit_entry.items():
        lines.append(f"{key}: {quoted(value) if key == 'timestamp' else scalar(value)}")
    return "\n".join(lines) + "\n"


def _ceremony(root: Path, plan: Plan, new_text: str, hook: Hook | None, *, write_audit: bool = True) -> bool:
    """Steps 1-4, all or nothing; returns whether the files were staged.

    ``write_audit`` is False when resuming: the audit entry is there already and
    is never removed by a rollback.
    """
    assert plan.audit_path is not None
    test_id = plan.request.test_id
    audit_file = root / plan.audit_path
    original = (root / plan.path).read_text(encoding="utf-8")
    undo: list[Callable[[], None]] = []
    step = "audit"
    touched_index = False
    try:
        if write_audit:
            _step(hook, step)
            create_text_exclusive(audit_file, _audit_text(plan))
            undo.append(lambda: audit_file.unlink(missing_ok=True))

        step = "archive"
        if plan.path != plan.new_path:
            _step(hook, step)
            git_mv(root, plan.path, plan.new_path)
            touched_index = True
            undo.append(lambda: _move_back(root, plan))

        step = "edit"
        _step(hook, step)
        undo.append(lambda: write_text_atomic(root / plan.new_path, original))
        write_text_atomic(root / plan.new_path, new_text)

        step = "stage"
        _step(hook, step)
        staged = _stage_ceremony(root, plan)
        touched_index = True  # a Ctrl-C from here on must leave the index as the files are
        return staged
    except BaseException as exc:
        failures = _rollback(undo)
        if touched_index:
            try:
                _sync_index(root, [plan.path, plan.new_path, plan.audit_path])
            except BaseException as sync_exc:
                failures.append(str(sync_exc) or type(sync_exc).__name__)
        if isinstance(exc, SystemExit):
            raise
        what = f"retirement of {test_id}"
        finish = (f"finish it with `incidentops lifecycle retire --resume {test_id}` or take it back with"
                  f" `incidentops lifecycle retire --undo {test_id}`; `incidentops check` shows what is left")
        unchanged = ("its ceremony is still half done, as before" if not write_audit else "nothing was changed")
        if isinstance(exc, KeyboardInterrupt):
            if failures:
                raise Interrupted(f"{what} interrupted at step '{step}', and the rollback failed:"
                                  f" {'; '.join(failures)}", finish) from None
            raise Interrupted(f"{what} interrupted at step '{step}': every step was rolled back; {unchanged}",
                              "run the command again" if write_audit else finish) from None
        detail = exc.message if isinstance(exc, IncidentOpsError) else (str(exc) or type(exc).__name__)
        if failures:
            raise IncidentOpsError(
                f"{what} failed at step '{step}' ({detail}), and the rollback failed too: {'; '.join(failures)}",
                finish,
            ) from exc
        raise IncidentOpsError(
            f"{what} failed at step '{step}': {detail}; {unchanged}",
            "fix the cause and run the command again" if write_audit else f"fix the cause; then {finish}",
        ) from exc


def _move_back(root: Path, plan: Plan) -> None:
    git_mv(root, plan.new_path, plan.path)
    archive = root / ARCHIVE_DIR
    with contextlib.suppress(OSError):
        archive.rmdir()  # only if the ceremony created it and it is empty


def _rollback(undo: list[Callable[[], None]]) -> list[str]:
    failures = []
    for action in reversed(undo):
        try:
            action()
        except BaseException as exc:
            failures.append(str(exc) or type(exc).__name__)
    return failures


# --- the index: what a commit would record ---------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """Run git in ``root``; ``None`` when git is missing."""
    try:
        return subprocess.run(["git", "--literal-pathspecs", *args], cwd=root, stdin=subprocess.DEVNULL,
                              capture_output=True, env={**os.environ, "LC_ALL": "C"}, check=False)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _prefix(root: Path) -> str | None:
    """``root`` relative to the top of its git work tree (``""`` at the top); None outside git."""
    proc = _git(root, "rev-parse", "--is-inside-work-tree", "--show-prefix")
    if proc is None or proc.returncode != 0:
        return None
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if not lines or lines[0] != "true":
        return None
    return lines[1] if len(lines) > 1 else ""


def index_status(root: Path, folders: tuple[str, ...] = ("audit", ARCHIVE_DIR)) -> dict[str, str] | None:
    """Uncommitted files under ``folders``: registry path -> ``XY`` as `git status` shows it.

    ``X`` compares the index with HEAD, ``Y`` the working tree with the index;
    ``??`` is a file git does not track. Files that are committed and unchanged
    are absent. ``None`` outside a git work tree.
    """
    prefix = _prefix(root)
    if prefix is None:
        return None
    proc = _git(root, "status", "--porcelain=v2", "-z", "--untracked-files=all", "--no-renames",
                "--ignored=no", "--", *folders)
    if proc is None or proc.returncode != 0:
        return None
    found: dict[str, str] = {}
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if record.startswith("1 "):
            parts = record.split(" ", 8)
            if len(parts) == 9:
                found[parts[8]] = parts[1]
        elif record.startswith("? "):
            found[record[2:]] = "??"
        elif record.startswith("u "):
            parts = record.split(" ", 10)
            if len(parts) == 11:
                found[parts[10]] = "UU"
    if prefix:
        found = {p[len(prefix):]: v for p, v in found.items() if p.startswith(prefix)}
    return found


def staging_problems(status: Mapping[str, str], audit: str, archived: str) -> list[tuple[str, str]]:
    """Where a retirement's two files differ between the working tree and the index.

    ``check`` reads the working tree; a commit records the index. An archived test
    staged with other content than it has, or one of the two files staged and the
    other not, would commit a retirement other than the one `check` judged.
    Only uncommitted files can differ (committed, unchanged ones are not in ``status``).
    """
    problems: list[tuple[str, str]] = []
    sa, sq = status.get(audit), status.get(archived)
    for path, code in ((archived, sq), (audit, sa)):
        if code and code != "??" and code[1] == "M":
            problems.append((path, f"{path} is staged with other content than the working tree has"))
    if sq == "??" and sa and sa[0] == "A":
        problems.append((archived, f"{archived} is not staged, but its audit entry {audit} is"))
    if sa == "??" and sq and sq[0] == "A":
        problems.append((audit, f"the audit entry {audit} is not staged, but the archived test {archived} is"))
    return problems


def _in_index(root: Path, paths: list[str]) -> set[str]:
    proc = _git(root, "ls-files", "-z", "--", *paths)
    if proc is None or proc.returncode != 0:
        return set()
    prefix = _prefix(root) or ""
    names = {n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n}
    # ls-files prints paths relative to the current folder, which is root
    return {n.removeprefix(prefix) if prefix and n.startswith(prefix) else n for n in names}


def _sync_index(root: Path, paths: list[str | None]) -> None:
    """Make the index agree with the working tree for ``paths`` (added, changed or removed)."""
    if _prefix(root) is None:
        return
    wanted = [p for p in dict.fromkeys(paths) if p]
    known = _in_index(root, wanted)
    present = [p for p in wanted if p in known or (root / p).exists()]
    if present:
        stage(root, present)


def _stage_ceremony(root: Path, plan: Plan) -> bool:
    """Stage the audit entry, the archived test and the removal of its old name; False outside git."""
    if _prefix(root) is None:
        return False
    _sync_index(root, [plan.audit_path, plan.new_path, plan.path])
    return True


def _committed(root: Path, path: str) -> bool:
    proc = _git(root, "ls-tree", "--name-only", "HEAD", "--", path)
    return proc is not None and proc.returncode == 0 and bool(proc.stdout.strip())


# --- finishing or taking back a ceremony left half done --------------------------------


def _half_done(registry: Registry, test_id: str) -> tuple[str, RegressionTest, list[str]]:
    """The test's one file, its record and the RETIRE audit entries naming it."""
    paths = registry.test_paths.get(test_id, [])
    if not paths:
        close = difflib.get_close_matches(test_id, list(registry.test_paths), n=1)
        raise IncidentOpsError(f"no regression test '{test_id}' in regressions/ or regressions/archive/",
                               f"did you mean '{close[0]}'?" if close else "check the id")
    if len(paths) > 1:
        raise IncidentOpsError(f"{test_id} is in both {paths[0]} and {paths[1]}",
                               "keep one of them (a test lives in one file), then run the command again")
    path = paths[0]
    test = registry.typed(RegressionTest, path)
    if test is None:
        raise IncidentOpsError(f"{path}: the record has errors", f"run `incidentops check {path}` and fix it first")
    entries = retire_entries(registry).get(test_id, [])
    if len(entries) > 1:
        raise IncidentOpsError(
            f"{entries[1]} and {entries[0]} both retire {test_id}",
            f"a test is retired once: delete the entry that was never merged (`git rm -f {entries[1]}`),"
            " then run the command again",
        )
    return path, test, entries


def resume(registry: Registry, test_id: str, hook: Hook | None = None, now: datetime | None = None) -> Outcome:
    """Finish a retirement ceremony that stopped half-way, from the records alone.

    The audit entry says what was decided (reason, code, approver, requester,
    timestamp); the missing steps are done as the ceremony would have done them,
    after the same policy checks. A RETIRED test without its audit entry gets it
    back from its RETIRE decision. A complete retirement is left as it is.
    """
    root = registry.root
    path, test, entries = _half_done(registry, test_id)
    state = str(test.state)
    archived_path = f"{ARCHIVE_DIR}/{test_id}.yaml"
    if not entries:
        if state == "RETIRED" and path == archived_path:
            return _restore_audit(registry, test_id, path, test, hook)
        raise IncidentOpsError(
            f"{test_id}: no retirement to resume (no audit entry retires it; it is {state} in {path})",
            f"start one with `incidentops lifecycle retire {test_id} --reason ... --reason-code ... --approver ...`",
        )
    audit_rel = entries[0]
    entry = registry.typed(AuditEntry, audit_rel)
    if entry is None:
        raise IncidentOpsError(f"{audit_rel}: the audit entry has errors, so the ceremony cannot be finished from it",
                               f"run `incidentops check {audit_rel}`; or take the retirement back with"
                               f" `incidentops lifecycle retire --undo {test_id}`")
    request = Request(test_id, RETIRE, entry.reason, entry.requested_by, entry.timestamp, entry.approver or None,
                      entry.reason_code or None)
    if state == "RETIRED":
        if path != archived_path:
            raise IncidentOpsError(f"{path}: a RETIRED test outside regressions/archive/",
                                   f"move it: `git mv {path} {archived_path}`, then run the command again")
        the_plan = _done_plan(registry, request, path, test, audit_rel, _audit_fields(entry))
        status = index_status(root)
        if status is None or not staging_problems(status, audit_rel, path):
            return Outcome(the_plan, notification_for(the_plan, registry.policy_record), after_merge=True)
        _step(hook, "stage")
        _sync_index(root, [audit_rel, path, f"regressions/{test_id}.yaml"])
        return Outcome(the_plan, notification_for(the_plan, registry.policy_record), after_merge=True,
                       resumed=("staged",))
    if state != "DEPRECATED":
        raise BlockedError(
            f"{audit_rel} retires {test_id}, but the test is {state}: only a DEPRECATED test is retired",
            f"take the retirement back with `incidentops lifecycle retire --undo {test_id}`",
        )
    the_plan = plan(registry, request, now=now, resume_audit=audit_rel)
    new_text = _edited((root / the_plan.path).read_text(encoding="utf-8"), the_plan)
    done = ["archived"] if the_plan.path != the_plan.new_path else []
    staged = _ceremony(root, the_plan, new_text, hook, write_audit=False)
    done += ["recorded RETIRED"] + (["staged"] if staged else [])
    _forget(registry, the_plan)
    outcome = _preview(registry.policy_record, the_plan, hook, staged)
    return Outcome(outcome.plan, outcome.notification, warnings=outcome.warnings, after_merge=True,
                   resumed=tuple(done))


def _audit_fields(entry: AuditEntry) -> dict[str, str]:
    """An audit entry's fields as the ceremony writes them."""
    return {"action": entry.action, "test_id": entry.test_id, "original_incident": entry.original_incident,
            "reason_code": entry.reason_code, "reason": entry.reason, "approver": entry.approver,
            "requested_by": entry.requested_by, "timestamp": entry.source.text("timestamp")}


def _done_plan(registry: Registry, request: Request, path: str, test: RegressionTest, audit_rel: str,
               entry: Mapping[str, str]) -> Plan:
    incident = registry.incident_record(test.incident_id)
    severity = incident.severity if incident is not None else None
    reason = f"{request.reason_code} - {request.reason}"
    return Plan(request, f"regressions/{request.test_id}.yaml", path, "DEPRECATED", "RETIRED", test.incident_id,
                severity, {"at": stamp(request.as_of), "decision": RETIRE, "reason": reason}, audit_rel, entry)


def _last_retire(test: RegressionTest) -> Decision | None:
    last = test.decisions[-1] if test.decisions else None
    return last if last is not None and last.decision == RETIRE else None


def _restore_audit(registry: Registry, test_id: str, path: str, test: RegressionTest,
                   hook: Hook | None) -> Outcome:
    """A RETIRED test whose audit entry is missing: write it from the RETIRE decision."""
    root = registry.root
    decision = _last_retire(test)
    code, _, reason = decision.reason.partition(" - ") if decision else ("", "", "")
    codes = reason_codes(registry.policy_record)
    if decision is None or not reason.strip() or (codes and code not in codes) \
            or not (decision.approver or "").strip():
        raise IncidentOpsError(
            f"{path}: RETIRED, but its last decision is not a complete RETIRE decision, so its audit entry"
            " cannot be rebuilt",
            "write the audit entry by hand (action, test_id, original_incident, reason_code, reason, approver,"
            " requested_by, timestamp) under audit/",
        )
    when = decision.at
    entry = {"action": AUDIT_ACTION, "test_id": test_id, "original_incident": test.incident_id, "reason_code": code,
             "reason": reason, "approver": str(decision.approver), "requested_by": decision.by,
             "timestamp": stamp(when)}
    request = Request(test_id, RETIRE, reason, entry["requested_by"], when, entry["approver"], code)
    the_plan = _done_plan(registry, request, path, test, audit_path(test_id, when), entry)
    assert the_plan.audit_path is not None
    _step(hook, "audit")
    create_text_exclusive(root / the_plan.audit_path, _audit_text(the_plan))
    _step(hook, "stage")
    staged = _stage_ceremony(root, the_plan)
    registry.forget(the_plan.audit_path)
    return Outcome(the_plan, notification_for(the_plan, registry.policy_record), after_merge=True,
                   resumed=("audit entry written",) + (("staged",) if staged else ()))


@dataclass(frozen=True, slots=True)
class Undone:
    test_id: str
    path: str
    audit_path: str
    steps: tuple[str, ...]


def undo(registry: Registry, test_id: str, hook: Hook | None = None) -> Undone:
    """Take back a retirement that was not committed: the test back in regressions/ as it was, no audit entry.

    Refused once the audit entry or the archived test is committed: a retirement
    that landed is final (finish it with :func:`resume`).
    """
    root = registry.root
    path, test, entries = _half_done(registry, test_id)
    if not entries:
        raise IncidentOpsError(f"{test_id}: no retirement to take back (no audit entry retires it)",
                               "nothing to do" if test.state != "RETIRED"
                               else f"finish it instead: `incidentops lifecycle retire --resume {test_id}`")
    audit_rel = entries[0]
    home = f"regressions/{test_id}.yaml"
    for rel in (audit_rel, path):
        if rel != home and _committed(root, rel):
            raise BlockedError(f"{rel} is committed: a retirement that was committed is not taken back",
                               f"finish it with `incidentops lifecycle retire --resume {test_id}`")
    steps: list[str] = []
    if test.state == "RETIRED":
        text = (root / path).read_text(encoding="utf-8")
        original = _before_retirement(text, path, home, test)
        _step(hook, "edit")
        write_text_atomic(root / path, original)
        steps.append("RETIRE decision removed")
    if path != home:
        _step(hook, "archive")
        git_mv(root, path, home)
        with contextlib.suppress(OSError):
            (root / ARCHIVE_DIR).rmdir()
        steps.append(f"moved back to {home}")
    _step(hook, "audit")
    (root / audit_rel).unlink(missing_ok=True)
    steps.append(f"{audit_rel} removed")
    _sync_index(root, [audit_rel, f"{ARCHIVE_DIR}/{test_id}.yaml", home])
    for rel in (audit_rel, path, home):
        registry.forget(rel)
    return Undone(test_id, home, audit_rel, tuple(steps))


def _before_retirement(text: str, path: str, home: str, test: RegressionTest) -> str:
    """The test's file as it was before the ceremony recorded RETIRED, proven by redoing the edit."""
    if _last_retire(test) is None:
        raise IncidentOpsError(f"{path}: RETIRED, but its last decision is not RETIRE",
                               "restore the file by hand (`git show HEAD:...`), then run `incidentops check`")
    popped: dict[str, str] = {}

    def mutate(data: CommentedMap) -> None:  # the file of ``test``: its last decision is the RETIRE
        popped.update({str(k): str(v) for k, v in data["decisions"].pop().items()})
        data["state"] = popped.get("from_state", "DEPRECATED")

    original = _with_modeline(edit_text(text, mutate, path), home)
    request = Request(path, RETIRE, "", "", datetime.now(UTC))
    redo = Plan(request, home, path, popped.get("from_state", "DEPRECATED"), "RETIRED", None, None, popped)
    if _edited(original, redo) != text:
        raise IncidentOpsError(
            f"{path} was changed after the ceremony recorded RETIRED, so it cannot be restored exactly",
            f"restore it by hand (`git show HEAD:{home}` shows the committed version), then run `incidentops check`",
        )
    return original


# --- notices --------------------------------------------------------------------


def notification_for(plan: Plan, policy: Policy) -> notify.Notification:
    request = plan.request
    if request.decision == RETIRE and plan.audit_path and plan.audit_entry is not None:
        return notify.retirement_notice(plan.audit_path, plan.audit_entry, plan.severity, policy)
    verbs = {KEEP: "kept", MONITOR: "moved to MONITORING", ACTIVATE: "activated",
             DEPRECATE: "deprecated", RETIRE: "retired"}
    text = f"Regression test {request.test_id} {verbs[request.decision]}: {plan.entry['reason']}"
    payload: dict[str, Any] = {
        "event": f"regression_test.{request.decision.lower()}",
        "text": text,
        "test_id": request.test_id,
        "incident_id": plan.incident_id,
        "severity": plan.severity,
        "decision": request.decision,
        "from_state": plan.from_state,
        "to_state": plan.to_state,
        "reason": request.reason,
        "reason_code": request.reason_code,
        "requested_by": request.requested_by,
        "approver": request.approver,
        "at": stamp(request.as_of),
        "path": plan.new_path,
        "audit_entry": plan.audit_path,
        "stakeholders": list(notify.stakeholders(policy)),
    }
    return notify.Notification(text, payload, notify.stakeholders(policy))


def interrupted_after(plan: Plan, staged: bool) -> Interrupted:
    """Ctrl-C once the records are complete: say so, and what is left to do."""
    test_id = plan.request.test_id
    if plan.request.decision != RETIRE:
        return Interrupted(f"interrupted after the {plan.request.decision} decision on {test_id} was recorded in"
                           f" {plan.path}: the decision stands", "commit it and open a pull request")
    files = f"{plan.new_path} is RETIRED and {plan.audit_path} written" + (", both staged" if staged else "")
    return Interrupted(
        f"interrupted after the retirement of {test_id} was complete: {files}",
        "commit them and open a pull request; the notice is sent once the retirement lands on main",
    )


def _preview(policy: Policy, plan: Plan, hook: Hook | None, staged: bool) -> Outcome:
    """A retirement's notice, previewed: CI sends it after the retirement lands on main."""
    message = notification_for(plan, policy)
    warnings: list[str] = []
    try:
        _step(hook, "notify")
    except KeyboardInterrupt:
        raise interrupted_after(plan, staged) from None
    except Exception as exc:  # nothing is lost: the notice is derived from the audit entry after merge
        warnings.append(f"the notice preview failed ({exc or type(exc).__name__}); it is still sent once the"
                        " retirement lands on main")
    return Outcome(plan, message, warnings=tuple(warnings), after_merge=True)


def _notify(root: Path, policy: Policy, plan: Plan, hook: Hook | None, timeout: float,
            poster: notify.Poster) -> Outcome:
    """Queue the notice, then send it to each webhook; a delivered one leaves the queue."""
    message = notification_for(plan, policy)
    targets = notify.webhooks(policy)
    warnings: list[str] = []
    queued: list[str] = []
    if targets:
        try:
            queued = notify.enqueue(root, message, targets, plan.request.as_of)
        except (OSError, IncidentOpsError) as exc:
            warnings.append(f"could not queue the notice before sending it: {getattr(exc, 'message', exc)}")
    deliveries: list[notify.Delivery] = []
    try:
        try:
            _step(hook, "notify")
        except Exception as exc:  # the decision stands: every delivery stays queued
            reason = str(exc) or type(exc).__name__
            deliveries = [notify.Delivery(t, reason) for t in targets]
            if not targets:
                warnings.append(f"notification failed: {reason}")
            if queued:
                notify.settle(root, dict(zip(queued, deliveries, strict=True)))
        else:
            for index, target in enumerate(targets):
                delivery = notify.deliver(message, [target], timeout, poster)[0]
                deliveries.append(delivery)
                if queued:
                    notify.settle(root, {queued[index]: delivery})
    except KeyboardInterrupt:
        where = f"; the notice is queued in {notify.PENDING_FILE}" if queued else ""
        raise Interrupted(
            f"interrupted while sending the notice: the {plan.request.decision} decision on"
            f" {plan.request.test_id} is recorded in {plan.path}{where}",
            "send it with `incidentops lifecycle notify --retry`" if queued else "tell the stakeholders by hand",
        ) from None
    except (OSError, IncidentOpsError) as exc:
        warnings.append(f"could not update the queue of notices: {getattr(exc, 'message', exc)}")
    still = sum(1 for d in deliveries if not d.ok) if queued else 0
    if not queued and any(not d.ok for d in deliveries):
        warnings.append("the failed notices could not be queued: tell the stakeholders by hand")
    return Outcome(plan, message, tuple(deliveries), still, tuple(warnings))
