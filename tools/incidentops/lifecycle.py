"""Lifecycle decisions on regression tests: the state machine and the retirement ceremony.

A decision (KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE) is checked against the
policy (``regression.transitions``; KEEP changes no state), then recorded in
the test's file, keeping its comments and layout, and appended to its
``decisions``. Deprecating or retiring a SEV-0/1 test, or a test younger than
``regression.minimum_age_days`` (age from git history), needs the test's
approved ``override``. For SEV-0/1 tests the approver must be someone other
than the requester (the git user).

Retiring is the retirement ceremony, all or nothing:

1. ``audit``: write the audit entry, a new file under ``audit/``;
2. ``archive``: move the test into ``regressions/archive/`` (``git mv``);
3. ``edit``: record the RETIRED state and the decision in the archived file;
4. ``stage``: stage the audit entry and the archived test (inside a repository);
5. ``notify``: tell the stakeholders (a failed webhook is queued, never undone).

A failure in steps 1-4 undoes the steps already done, in reverse order, so
the registry is exactly as before. ``hook(step)`` is called before each step:
tests use it to inject a failure at every step and prove the rollback.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from incidentops import notify
from incidentops.errors import BlockedError, IncidentOpsError
from incidentops.fsio import create_text_exclusive, write_text_atomic
from incidentops.gitops import stage
from incidentops.history import RegistryHistory, git_mv, load_history
from incidentops.registry import Registry
from incidentops.yamledit import append_item, edit_text
from incidentops.yamlscalar import quoted, scalar

KEEP, MONITOR, ACTIVATE, DEPRECATE, RETIRE = "KEEP", "MONITOR", "ACTIVATE", "DEPRECATE", "RETIRE"
#: decision -> the state it leads to (None: no state change)
TARGET_STATE: dict[str, str | None] = {
    KEEP: None,
    MONITOR: "MONITORING",
    ACTIVATE: "ACTIVE",
    DEPRECATE: "DEPRECATED",
    RETIRE: "RETIRED",
}
#: decisions that weaken a test's hold on releases: a SEV-0/1 test needs a distinct approver
WEAKENING = (MONITOR, DEPRECATE, RETIRE)
#: decisions that need an approved override for protected or young tests
NEEDS_OVERRIDE = (DEPRECATE, RETIRE)
KEPT_STATES = ("ACTIVE", "MONITORING")
STEPS = ("audit", "archive", "edit", "stage", "notify")
ARCHIVE_DIR = "regressions/archive"
AUDIT_ACTION = "RETIRE_REGRESSION"

Hook = Callable[[str], None]

_MODELINE = re.compile(r"^(# yaml-language-server: \$schema=)(?:\.\./)*(schemas/)", re.MULTILINE)
_DEFAULT_TRANSITIONS = {
    "ACTIVE": ["MONITORING", "DEPRECATED"],
    "MONITORING": ["ACTIVE", "DEPRECATED"],
    "DEPRECATED": ["ACTIVE", "MONITORING", "RETIRED"],
    "RETIRED": [],
}


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


# --- policy ---------------------------------------------------------------------


def transitions(policy: Mapping[str, Any]) -> dict[str, list[str]]:
    """The policy's state machine: state -> the states a test may move to."""
    section = policy.get("regression")
    table = section.get("transitions") if isinstance(section, dict) else None
    if not isinstance(table, dict):
        return dict(_DEFAULT_TRANSITIONS)
    return {str(k): [str(s) for s in v or []] for k, v in table.items()}


def protected_severities(policy: Mapping[str, Any]) -> tuple[str, ...]:
    section = policy.get("regression")
    value = section.get("protected_severities") if isinstance(section, dict) else None
    return tuple(str(s) for s in value) if isinstance(value, list) else ("SEV-0", "SEV-1")


def minimum_age_days(policy: Mapping[str, Any]) -> int:
    section = policy.get("regression")
    value = section.get("minimum_age_days") if isinstance(section, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 365


def reason_codes(policy: Mapping[str, Any]) -> list[str]:
    section = policy.get("regression")
    value = section.get("retirement_reason_codes") if isinstance(section, dict) else None
    return [str(c) for c in value] if isinstance(value, list) else []


def has_override(data: Mapping[str, Any]) -> bool:
    """Whether the test carries an approved override: ``override: {reason, approver}``, both filled in."""
    override = data.get("override")
    return (
        isinstance(override, dict)
        and bool(str(override.get("reason") or "").strip())
        and bool(str(override.get("approver") or "").strip())
    )


def same_person(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_path(test_id: str, when: datetime) -> str:
    """``audit/<YYYYMMDDTHHMMSSZ>_RETIRE_REGRESSION_<test_id>.yaml``."""
    return f"audit/{when.strftime('%Y%m%dT%H%M%SZ')}_{AUDIT_ACTION}_{test_id}.yaml"


# --- planning -------------------------------------------------------------------


def plan(registry: Registry, request: Request, history: RegistryHistory | None = None) -> Plan:
    """Check ``request`` against the policy and the test's record; raise if it is refused.

    Raises :class:`BlockedError` when the policy refuses the decision (illegal
    transition, missing override or approver) and :class:`IncidentOpsError`
    for a request that cannot be understood (unknown test, unreadable record).
    ``history`` is read from git when needed and not given.
    """
    policy = registry.policy
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
            f"did you mean '{close[0]}'?" if close else "list the tests with `incidentops decay`",
        )
    doc = registry.doc(path)
    if doc is None or not doc.ok or not isinstance(doc.data, dict):
        raise IncidentOpsError(
            f"{path}: the record has errors, so no decision can be recorded in it",
            f"run `incidentops check {path}` and fix it first",
        )
    data: dict[str, Any] = doc.data
    reason = " ".join(request.reason.split())
    if not reason:
        raise IncidentOpsError("--reason is empty", "say why, in the terms of the decay assessment")
    from_state = str(data.get("state"))
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
    else:
        to_state = target
        if to_state == from_state:
            raise BlockedError(f"{label}: already {from_state}", "nothing to do")
        allowed = transitions(policy).get(from_state, [])
        if to_state not in allowed:
            hint = (
                "retirement follows deprecation: `incidentops lifecycle deprecate` it first"
                if to_state == "RETIRED" and "DEPRECATED" in allowed
                else f"allowed from {from_state}: {', '.join(allowed) or 'nothing'} (policy regression.transitions)"
            )
            raise BlockedError(f"{label}: {from_state} -> {to_state} is not an allowed transition", hint)

    incident_id = data.get("incident_id") if isinstance(data.get("incident_id"), str) else None
    incident = registry.incident(incident_id) if incident_id else None
    if incident is None:
        raise IncidentOpsError(
            f"{path}: incident '{incident_id}' of {test_id} cannot be read",
            "run `incidentops check` and fix the incident record first",
        )
    severity = incident.get("severity") if isinstance(incident.get("severity"), str) else None
    protected = severity in protected_severities(policy)
    approver = " ".join((request.approver or "").split()) or None

    if protected and decision in WEAKENING:
        if approver is None:
            raise BlockedError(
                f"{label}: a {severity} test needs an approver for {decision}",
                f"pass --approver: someone other than you ({request.requested_by})",
            )
        if same_person(approver, request.requested_by):
            raise BlockedError(
                f"{label}: the approver of a {severity} test must be someone other than the requester"
                f" ({request.requested_by})",
                "ask another member of the safety council to approve",
            )

    if decision in NEEDS_OVERRIDE and not has_override(data):
        problems = []
        if protected:
            problems.append(f"it is a {severity} test (SEV-0/1 tests stay)")
        minimum = minimum_age_days(policy)
        if history is None:
            history = load_history(registry.root, ("regressions",), request.as_of)
        added = history.for_path(path, request.as_of)
        age = max(0, int((request.as_of - added.added_at).total_seconds() // 86400))
        if age < minimum:
            since = "it has no git history yet" if added.uncommitted else f"in the suite since {added.added_at:%Y-%m-%d}"
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
            raise BlockedError(
                f"{label}: retiring needs --reason-code",
                f"one of: {', '.join(codes)}" if codes else "see regression.retirement_reason_codes",
            )
        if codes and code not in codes:
            raise BlockedError(f"{label}: reason code '{code}' is not in the policy", f"one of: {', '.join(codes)}")
        if approver is None:
            raise BlockedError(
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
        if (registry.root / new_path).exists():
            raise BlockedError(f"{new_path} already exists: the id {test_id} was retired before",
                               "retired ids are never reused")
        audit_rel = audit_path(test_id, request.as_of)
        if (registry.root / audit_rel).exists():
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
    """Record a planned decision in the registry, then notify the stakeholders."""
    root = registry.root
    new_text = _updated_text(root, plan)
    if plan.request.decision == RETIRE:
        _ceremony(root, plan, new_text, hook)
    else:
        try:
            _step(hook, "edit")
            write_text_atomic(root / plan.path, new_text)
        except OSError as exc:  # the write is atomic: the file is as it was
            raise IncidentOpsError(
                f"{plan.path}: cannot record the decision ({exc.strerror or exc}); nothing was changed",
                "fix the cause (permissions, disk space) and run the command again",
            ) from exc
    for rel in {plan.path, plan.new_path, plan.audit_path}:
        if rel:
            registry.forget(rel)
    return _notify(root, registry.policy, plan, hook, timeout, poster)


def decide(registry: Registry, request: Request, hook: Hook | None = None,
           history: RegistryHistory | None = None, timeout: float = notify.DEFAULT_TIMEOUT,
           poster: notify.Poster = notify.post_json) -> Outcome:
    """Plan and apply a lifecycle decision."""
    return apply(registry, plan(registry, request, history), hook, timeout, poster)


def _step(hook: Hook | None, name: str) -> None:
    if hook is not None:
        hook(name)


def _updated_text(root: Path, plan: Plan) -> str:
    text = (root / plan.path).read_text(encoding="utf-8")

    def mutate(data: CommentedMap) -> None:
        if data.get("state") != plan.to_state:
            data["state"] = plan.to_state
        entry = dict(plan.entry)
        entry["at"] = DoubleQuotedScalarString(entry["at"])
        append_item(data, "decisions", entry)

    new = edit_text(text, mutate, plan.path)
    if plan.new_path != plan.path:
        prefix = "../" * plan.new_path.count("/")
        new = _MODELINE.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", new, count=1)
    return new


def _audit_text(plan: Plan) -> str:
    assert plan.audit_entry is not None
    lines = ["# yaml-language-server: $schema=../schemas/audit.schema.json"]
    lines.append("# Append-only audit log: this entry is never edited or deleted.")
    for key, value in plan.audit_entry.items():
        lines.append(f"{key}: {quoted(value) if key == 'timestamp' else scalar(value)}")
    return "\n".join(lines) + "\n"


def _ceremony(root: Path, plan: Plan, new_text: str, hook: Hook | None) -> None:
    assert plan.audit_path is not None
    audit_file = root / plan.audit_path
    original = (root / plan.path).read_text(encoding="utf-8")
    undo: list[Callable[[], None]] = []
    step = "audit"
    try:
        _step(hook, step)
        create_text_exclusive(audit_file, _audit_text(plan))
        undo.append(lambda: audit_file.unlink(missing_ok=True))

        step = "archive"
        _step(hook, step)
        staged = git_mv(root, plan.path, plan.new_path)
        undo.append(lambda: _move_back(root, plan))

        step = "edit"
        _step(hook, step)
        undo.append(lambda: write_text_atomic(root / plan.new_path, original))
        write_text_atomic(root / plan.new_path, new_text)

        step = "stage"
        _step(hook, step)
        if staged:
            stage(root, [plan.audit_path, plan.new_path])
    except BaseException as exc:
        failures = _rollback(undo)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        detail = exc.message if isinstance(exc, IncidentOpsError) else (str(exc) or type(exc).__name__)
        if failures:
            raise IncidentOpsError(
                f"retirement of {plan.request.test_id} failed at step '{step}' ({detail}), and the"
                f" rollback failed too: {'; '.join(failures)}",
                "restore the files by hand: `git status` shows what changed; then run `incidentops check`",
            ) from exc
        raise IncidentOpsError(
            f"retirement of {plan.request.test_id} failed at step '{step}': {detail}; nothing was changed",
            "fix the cause and run the command again",
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
        except Exception as exc:  # keep undoing the rest
            failures.append(str(exc))
    return failures


def notification_for(plan: Plan, policy: Mapping[str, Any]) -> notify.Notification:
    request = plan.request
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


def _notify(root: Path, policy: Mapping[str, Any], plan: Plan, hook: Hook | None, timeout: float,
            poster: notify.Poster) -> Outcome:
    message = notification_for(plan, policy)
    targets = notify.webhooks(policy)
    warnings: list[str] = []
    try:
        _step(hook, "notify")
        deliveries = notify.deliver(message, targets, timeout, poster)
    except Exception as exc:  # the decision stands: queue every delivery
        reason = str(exc) or type(exc).__name__
        deliveries = [notify.Delivery(t, reason) for t in targets]
        if not targets:
            warnings.append(f"notification failed: {reason}")
    queued = 0
    if any(not d.ok for d in deliveries):
        try:
            queued = notify.queue_failures(root, message, deliveries, plan.request.as_of)
        except (OSError, IncidentOpsError) as exc:
            warnings.append(f"could not queue the failed notifications: {exc}")
    return Outcome(plan, message, tuple(deliveries), queued, tuple(warnings))
