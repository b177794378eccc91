"""`incidentops lifecycle`: record decisions on regression tests (keep, monitor, activate, deprecate, retire)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.lifecycle import ceremony as lifecycle
from incidentops.lifecycle import notify
from incidentops.lifecycle.ceremony import NothingToDo, Outcome, Request, decide, interrupted_after
from incidentops.lifecycle.history import current_user
from incidentops.records.errors import IncidentOpsError
from incidentops.records.registry import Registry, resolve_root

#: names a ceremony step at which to fail on purpose (testing the rollback)
FAIL_STEP_ENV = "INCIDENTOPS_FAIL_STEP"
#: test-only: with INCIDENTOPS_FAULT_INJECTION=1, kill the process (SIGKILL) or pause it before a step
FAULT_INJECTION_ENV = "INCIDENTOPS_FAULT_INJECTION"
KILL_STEP_ENV = "INCIDENTOPS_KILL_STEP"
PAUSE_STEP_ENV = "INCIDENTOPS_PAUSE_STEP"
#: where `notify --since` remembers what it sent, unless --state says otherwise
DEFAULT_STATE = ".incidentops/notices-sent.json"


class InjectedFailure(RuntimeError):
    """A failure injected with INCIDENTOPS_FAIL_STEP."""


@click.group("lifecycle")
def command() -> None:
    """Record a lifecycle decision on a regression test, as the policy allows.

    \b
    ACTIVE <-> MONITORING            (blocking <-> run but not blocking)
    ACTIVE|MONITORING -> DEPRECATED  (scheduled for removal)
    DEPRECATED -> ACTIVE|MONITORING  (reprieve)
    DEPRECATED -> RETIRED            (the retirement ceremony)

    Each command edits the test's file (comments and layout kept) and appends the
    decision to its history, dated now (--as-of may give an earlier moment, never
    one before the test's last decision nor in the future). A retirement's notice
    is sent by CI once it lands on main; other decisions notify the stakeholders
    at once. Commit the result and open a pull request: `incidentops pr-check`
    verifies the change in CI.
    """


def _options(approver: str | None) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """TEST_ID, --reason, --root, --as-of, and --approver (``approver`` is its help; None: not offered)."""

    def decorate(func: Callable[..., int]) -> Callable[..., int]:
        if approver is not None:
            func = click.option("--approver", default=None, metavar="WHO", help=approver)(func)
        func = click.option("--reason", required=True, metavar="TEXT",
                            help="Why (for KEEP, the justification), in the terms of the decay assessment.")(func)
        func = root_option(func)
        func = as_of_option(func)
        return click.argument("test_id")(func)

    return decorate


_LOOSENS = ("Who approved the decision: required, and someone other than you, since it loosens the test's"
            " hold on releases.")
_OPTIONAL_APPROVER = "Optional: who approved the decision (recorded with it)."


def _run(decision: str, test_id: str, reason: str | None, approver: str | None, reason_code: str | None,
         root: Path | None, as_of: str | None) -> int:
    registry = Registry(resolve_root(root))
    request = Request(
        test_id=test_id, decision=decision, reason=reason or "", requested_by=current_user(registry.root),
        as_of=parse_as_of(as_of), approver=approver, reason_code=reason_code,
    )  # fmt: skip
    try:
        outcome = decide(registry, request, hook=_fault_hook())
    except NothingToDo as done:
        click.echo(f"{done.message}: {done.hint}")
        return 0
    try:
        _report(outcome)
    except KeyboardInterrupt:
        raise interrupted_after(outcome.plan, staged=False) from None
    return 0


def _fault_hook() -> Callable[[str], None] | None:
    wanted = os.environ.get(FAIL_STEP_ENV)
    injecting = os.environ.get(FAULT_INJECTION_ENV) == "1"
    kill = os.environ.get(KILL_STEP_ENV) if injecting else None
    pause = os.environ.get(PAUSE_STEP_ENV) if injecting else None
    if not (wanted or kill or pause):
        return None

    def hook(step: str) -> None:
        if step == kill:
            os.kill(os.getpid(), signal.SIGKILL)
        if step == pause:
            click.echo(f"paused before step '{step}'", err=True)
            time.sleep(600)
        if step == wanted:
            raise InjectedFailure(f"injected failure before step '{step}' ({FAIL_STEP_ENV})")

    return hook


def _report(outcome: Outcome) -> None:
    plan = outcome.plan
    request = plan.request
    click.echo(f"{request.test_id}: {request.decision} ({plan.from_state} -> {plan.to_state})")
    if plan.new_path != plan.path:
        click.echo(f"  archived: {plan.path} -> {plan.new_path}")
    else:
        click.echo(f"  recorded in {plan.path}")
    if plan.audit_path:
        click.echo(f"  audit entry: {plan.audit_path}")
    click.echo(f"  notice: {outcome.notification.text}")
    if outcome.notification.stakeholders:
        click.echo(f"  stakeholders: {', '.join(outcome.notification.stakeholders)}")
    if outcome.after_merge:
        click.echo("  the notice is sent once this lands on main (CI: `incidentops lifecycle notify --since`)")
    for delivery in outcome.deliveries:
        if delivery.ok:
            click.echo(f"  webhook {delivery.webhook.name}: delivered")
        else:
            click.echo(f"  webhook {delivery.webhook.name}: FAILED ({delivery.error})", err=True)
    if outcome.queued:
        click.echo(
            f"  {outcome.queued} notification(s) queued in {notify.PENDING_FILE};"
            " send them with `incidentops lifecycle notify --retry`",
            err=True,
        )
    for warning in outcome.warnings:
        click.echo(f"  warning: {warning}", err=True)
    click.echo("Next: commit these files and open a pull request; `incidentops pr-check` verifies it.")


@command.command("keep")
@_options(_OPTIONAL_APPROVER)
def keep(test_id: str, reason: str, approver: str | None, root: Path | None,
         as_of: str | None) -> int:
    """KEEP: record the justification for keeping an ACTIVE or MONITORING test (no state change)."""
    return _run("KEEP", test_id, reason, approver, None, root, as_of)


@command.command("monitor")
@_options(_LOOSENS)
def monitor(test_id: str, reason: str, approver: str | None, root: Path | None,
            as_of: str | None) -> int:
    """MONITOR: run the test without blocking releases (-> MONITORING)."""
    return _run("MONITOR", test_id, reason, approver, None, root, as_of)


@command.command("activate")
@_options(_OPTIONAL_APPROVER)
def activate(test_id: str, reason: str, approver: str | None, root: Path | None,
             as_of: str | None) -> int:
    """ACTIVATE: make the test block releases again (-> ACTIVE)."""
    return _run("ACTIVATE", test_id, reason, approver, None, root, as_of)


@command.command("deprecate")
@_options(_LOOSENS)
def deprecate(test_id: str, reason: str, approver: str | None, root: Path | None,
              as_of: str | None) -> int:
    """DEPRECATE: schedule the test for removal; it still runs, never blocking (-> DEPRECATED).

    A SEV-0/1 test, or one younger than the policy's minimum_age_days (from git
    history), needs an approved `override: {reason, approver}` in its file.
    """
    return _run("DEPRECATE", test_id, reason, approver, None, root, as_of)


@command.command("retire")
@click.argument("test_id")
@as_of_option
@root_option
@click.option("--reason", default=None, metavar="TEXT", help="Why, in the terms of the decay assessment.")
@click.option("--approver", default=None, metavar="WHO", help="Who approved the retirement (recorded in the audit entry).")
@click.option("--reason-code", default=None, metavar="CODE", help="One of the policy's retirement reason codes.")
@click.option("--resume", is_flag=True, help="Finish a ceremony that stopped half-way (from its audit entry).")
@click.option("--undo", is_flag=True, help="Take back a ceremony that stopped half-way (while uncommitted).")
def retire(test_id: str, as_of: str | None, root: Path | None, reason: str | None, approver: str | None,
           reason_code: str | None, resume: bool, undo: bool) -> int:
    """RETIRE: the retirement ceremony for a DEPRECATED test (-> RETIRED).

    \b
    All or nothing:
      1. writes the audit entry audit/<timestamp>_RETIRE_REGRESSION_<test_id>.yaml
      2. moves the test to regressions/archive/ (git mv): archived, never deleted
      3. records the RETIRED state and the decision in the archived file
      4. stages both files
      5. previews the notice; CI sends it once the retirement lands on main
    A failure (or Ctrl-C) in steps 1-4 rolls every step back. Needs --reason,
    --reason-code and --approver. If the process was killed half-way,
    `incidentops check` says so; `--resume TEST_ID` finishes the ceremony from
    its audit entry, `--undo TEST_ID` takes it back while it is uncommitted.
    """
    if resume or undo:
        given = [name for name, value in (("--reason", reason), ("--approver", approver),
                                          ("--reason-code", reason_code), ("--as-of", as_of)) if value]
        if resume and undo:
            raise IncidentOpsError("--resume and --undo exclude each other", "pick one")
        if given:
            raise IncidentOpsError(f"{'--resume' if resume else '--undo'} takes only the test id, not {given[0]}",
                                   "what was decided is read from the ceremony's audit entry")
        registry = Registry(resolve_root(root))
        if undo:
            undone = lifecycle.undo(registry, test_id, hook=_fault_hook())
            click.echo(f"{test_id}: retirement taken back")
            for step in undone.steps:
                click.echo(f"  {step}")
            click.echo(f"Next: `incidentops check`; {undone.path} is as it was before the ceremony.")
            return 0
        outcome = lifecycle.resume(registry, test_id, hook=_fault_hook())
        if not outcome.resumed:
            click.echo(f"{test_id}: the retirement is complete; nothing to resume")
            return 0
        click.echo(f"{test_id}: retirement resumed ({', '.join(outcome.resumed)})")
        _report(outcome)
        return 0
    if reason is None:
        raise IncidentOpsError("retiring needs --reason", "say why, in the terms of the decay assessment")
    return _run("RETIRE", test_id, reason, approver, reason_code, root, as_of)


@command.command("notify")
@click.option("--retry", is_flag=True, help="Send again the local queue of notices whose webhook failed.")
@click.option("--since", "since", default=None, metavar="REV",
              help="CI on main: send the notices of retirements that landed after REV (the commit before the push).")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"With --since: what was sent already (kept by CI outside the checkout). Default: {DEFAULT_STATE}.")
@click.option("--dry-run", is_flag=True, help="With --since: print the notices due, send nothing.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=notify.DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait for each webhook.")
@root_option
def notify_command(retry: bool, since: str | None, state: Path | None, dry_run: bool, timeout: float,
                   root: Path | None) -> int:
    """Send the notices due: after merge (--since, in CI on main) or the local queue (--retry).

    \b
    --since REV sends one notice per retirement audit entry added between REV
    and HEAD (from git history), plus those an earlier run could not deliver,
    and remembers in --state what was sent: running it twice sends nothing twice.
    A state file git tracks, or one that cannot be read, is not believed: every
    notice due is sent again (a duplicate is better than a lost notice). A
    policy at HEAD that fails its schema sends nothing: its webhooks are not
    known; run it again with the same --since once the fix lands.

    Exit status: 0 every notice due delivered (or none due), 1 some still fail,
    2 the policy at HEAD has errors.
    """
    if retry == (since is not None):
        raise IncidentOpsError("give either --since REV (CI on main) or --retry (the local queue)",
                               "in CI on main: `incidentops lifecycle notify --since \"$BEFORE\"`")
    registry_root = resolve_root(root)
    if since is not None:
        return _after_merge(registry_root, since, state or registry_root / DEFAULT_STATE, dry_run, timeout)
    if state is not None or dry_run:
        raise IncidentOpsError("--state and --dry-run go with --since", "drop them")
    targets = notify.webhooks(Registry(registry_root).policy_record)
    try:
        result = notify.retry_pending(registry_root, targets, timeout)
    except KeyboardInterrupt:
        raise notify.Interrupted(
            f"interrupted while sending: every notice not yet delivered stays queued in {notify.PENDING_FILE}",
            "run `incidentops lifecycle notify --retry` again",
        ) from None
    for delivery in result.sent:
        click.echo(f"webhook {delivery.webhook.name}: delivered")
    for delivery in result.failed:
        click.echo(f"webhook {delivery.webhook.name}: FAILED again ({delivery.error})", err=True)
    if not result.sent and not result.failed:
        click.echo("no pending notifications")
    elif result.failed:
        click.echo(f"{len(result.failed)} notification(s) still queued in {notify.PENDING_FILE}", err=True)
    return 1 if result.failed else 0


def _after_merge(root: Path, since: str, state_path: Path, dry_run: bool, timeout: float) -> int:
    state = notify.SentState.load(root, state_path)
    if state.warning:
        click.echo(f"warning: {state.warning}", err=True)
    dues, warnings = notify.due_retirements(root, since, list(state.pending))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    targets = notify.webhooks(notify.policy_at_head(root))
    if not dues:
        click.echo("no retirement notices due")
        return 0
    for due in dues:
        click.echo(f"notice: {due.notification.text} ({due.key})")
    if dry_run:
        click.echo(f"{len(dues)} notice(s) due; --dry-run: nothing sent")
        return 0
    if not targets:
        click.echo("no webhooks in the policy (notifications.webhooks): the notices above are printed only")

    def report(sent: notify.Sent) -> None:
        if sent.skipped:
            click.echo(f"  {sent.due.key} -> webhook {sent.webhook.name}: already sent")
        elif sent.ok:
            click.echo(f"  {sent.due.key} -> webhook {sent.webhook.name}: delivered")
        else:
            click.echo(f"  {sent.due.key} -> webhook {sent.webhook.name}: FAILED ({sent.error}); kept pending",
                       err=True)

    try:
        results = notify.send_due(state, dues, targets, datetime.now(UTC), timeout, report=report)
    except KeyboardInterrupt:
        raise notify.Interrupted(
            f"interrupted while sending: every notice not yet acknowledged is kept pending in {state_path}",
            "run the same command again to send them",
        ) from None
    if state.save_error:
        click.echo(f"warning: {state.save_error}", err=True)
    failed = [r for r in results if not r.ok]
    if failed:
        click.echo(f"{len(failed)} delivery(ies) failed; kept pending in {state_path} for the next run", err=True)
    return 1 if failed else 0
