"""`incidentops lifecycle`: record decisions on regression tests (keep, monitor, activate, deprecate, retire)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from incidentops import notify
from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.errors import IncidentOpsError
from incidentops.history import current_user
from incidentops.lifecycle import Outcome, Request, decide
from incidentops.registry import Registry, resolve_root

#: names a ceremony step at which to fail on purpose (testing the rollback)
FAIL_STEP_ENV = "INCIDENTOPS_FAIL_STEP"


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

    Each command edits the test's file (comments and layout kept), appends the
    decision to its history and notifies the stakeholders. Commit the result and
    open a pull request: `incidentops pr-check` verifies the change in CI.
    """


def _options(func: Callable[..., int]) -> Callable[..., int]:
    func = click.option("--reason-code", default=None, metavar="CODE",
                        help="retire only: one of the policy's retirement reason codes.")(func)
    func = click.option("--approver", default=None, metavar="WHO",
                        help="Who approved the decision. For SEV-0/1 tests it must be someone other than you.")(func)
    func = click.option("--reason", required=True, metavar="TEXT",
                        help="Why (for KEEP, the justification), in the terms of the decay assessment.")(func)
    func = root_option(func)
    func = as_of_option(func)
    return click.argument("test_id")(func)


def _run(decision: str, test_id: str, reason: str, approver: str | None, reason_code: str | None,
         root: Path | None, as_of: str | None) -> int:
    registry = Registry(resolve_root(root))
    request = Request(
        test_id=test_id, decision=decision, reason=reason, requested_by=current_user(registry.root),
        as_of=parse_as_of(as_of), approver=approver, reason_code=reason_code,
    )  # fmt: skip
    outcome = decide(registry, request, hook=_fault_hook())
    _report(outcome)
    return 0


def _fault_hook() -> Callable[[str], None] | None:
    wanted = os.environ.get(FAIL_STEP_ENV)
    if not wanted:
        return None

    def hook(step: str) -> None:
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
@_options
def keep(test_id: str, reason: str, approver: str | None, reason_code: str | None, root: Path | None,
         as_of: str | None) -> int:
    """KEEP: record the justification for keeping an ACTIVE or MONITORING test (no state change)."""
    return _run("KEEP", test_id, reason, approver, reason_code, root, as_of)


@command.command("monitor")
@_options
def monitor(test_id: str, reason: str, approver: str | None, reason_code: str | None, root: Path | None,
            as_of: str | None) -> int:
    """MONITOR: run the test without blocking releases (-> MONITORING)."""
    return _run("MONITOR", test_id, reason, approver, reason_code, root, as_of)


@command.command("activate")
@_options
def activate(test_id: str, reason: str, approver: str | None, reason_code: str | None, root: Path | None,
             as_of: str | None) -> int:
    """ACTIVATE: make the test block releases again (-> ACTIVE)."""
    return _run("ACTIVATE", test_id, reason, approver, reason_code, root, as_of)


@command.command("deprecate")
@_options
def deprecate(test_id: str, reason: str, approver: str | None, reason_code: str | None, root: Path | None,
              as_of: str | None) -> int:
    """DEPRECATE: schedule the test for removal; it still runs, never blocking (-> DEPRECATED).

    A SEV-0/1 test, or one younger than the policy's minimum_age_days (from git
    history), needs an approved `override: {reason, approver}` in its file.
    """
    return _run("DEPRECATE", test_id, reason, approver, reason_code, root, as_of)


@command.command("retire")
@_options
def retire(test_id: str, reason: str, approver: str | None, reason_code: str | None, root: Path | None,
           as_of: str | None) -> int:
    """RETIRE: the retirement ceremony for a DEPRECATED test (-> RETIRED).

    \b
    All or nothing:
      1. writes the audit entry audit/<timestamp>_RETIRE_REGRESSION_<test_id>.yaml
      2. moves the test to regressions/archive/ (git mv): archived, never deleted
      3. records the RETIRED state and the decision in the archived file
      4. stages both files
      5. notifies the stakeholders (failed webhooks are queued, see `notify --retry`)
    A failure in steps 1-4 rolls every step back. Needs --reason-code and --approver.
    """
    return _run("RETIRE", test_id, reason, approver, reason_code, root, as_of)


@command.command("notify")
@click.option("--retry", is_flag=True, required=True, help="Send the queued notifications again.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=notify.DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait for each webhook.")
@root_option
def notify_command(retry: bool, timeout: float, root: Path | None) -> int:
    """Send again the notifications whose webhook failed (queued in .incidentops/).

    Exit status: 0 every queued notification delivered (or none queued), 1 some still fail.
    """
    if not retry:
        raise IncidentOpsError("nothing to do", "pass --retry")
    registry_root = resolve_root(root)
    result = notify.retry_pending(registry_root, timeout)
    for delivery in result.sent:
        click.echo(f"webhook {delivery.webhook.name}: delivered")
    for delivery in result.failed:
        click.echo(f"webhook {delivery.webhook.name}: FAILED again ({delivery.error})", err=True)
    if not result.sent and not result.failed:
        click.echo("no pending notifications")
    elif result.failed:
        click.echo(f"{len(result.failed)} notification(s) still queued in {notify.PENDING_FILE}", err=True)
    return 1 if result.failed else 0
