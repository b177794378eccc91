"""`incidentops pr-check`: the lifecycle rules a pull request must follow, base against head."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.cli.reporting import FORMATS, render
from incidentops.lifecycle.prcheck import pr_check
from incidentops.records.registry import resolve_root


@click.command("pr-check")
@click.option("--base", required=True, metavar="REF",
              help="The pull request's base, such as origin/main (fetched with full history).")
@click.option("--head", default="HEAD", show_default=True, metavar="REF", help="The pull request's head.")
@click.option("--approvals", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="The pull request's reviews as the git host records them: the JSON of GitHub's"
                   " GET /repos/{owner}/{repo}/pulls/{n}/reviews (`gh api --paginate ... > FILE`)."
                   " A named approver then counts only if their account (policy `approvers`)"
                   " approved the head commit.")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
def command(base: str, head: str, approvals: Path | None, root: Path | None, as_of: str | None, fmt: str) -> int:
    """Compare the registry at --base with the registry at --head (read from git,
    no checkout) and report what the lifecycle forbids.

    \b
    pr.test-deleted          a test file deleted instead of archived
    pr.transition            a step the policy's state machine forbids
    pr.decision-missing      a state change without the decisions that lead to it
    pr.decision-history      an earlier decision changed or removed (history is append-only)
    pr.decision-label        a decision named other than its from_state -> to_state
    pr.decision-chain        a decision that does not start where the one before it ended
    pr.decision-date         a decision dated before the previous one, or after now
    pr.retire-audit          a retirement without a RETIRE_REGRESSION audit entry added in the change
    pr.audit-modified        an existing audit entry edited (pr.audit-deleted: deleted)
    pr.release-modified      a recorded gate decision edited (pr.release-deleted: deleted)
    pr.override-required     a SEV-0/1 test, or one younger than minimum_age_days (from the
                             base's git history), deprecated or retired without an override
    pr.override-approver     an override whose approver is the requester or did not approve
    pr.approver              a step that loosens a test's hold on releases (ACTIVE >
                             MONITORING > DEPRECATED > RETIRED) without a distinct approver
    pr.weakening             a blocking test moved to another suite or incident, given a
                             later expected refusal or a rewritten attack, without approval
    pr.policy-change         the policy changed without an approver's approval
    pr.severity-lowered      an incident lowered out of SEV-0/1 without an approved override
    pr.commit-date           a commit dated after now
    pr.link                  a symlink or submodule where records live
    pr.id-reused             a retired test's id used again
    pr.id-taken              an incident or test id the base gave to another record since the
                             branch forked (two branches took the same id; the hint gives
                             `incidentops renumber ID --provisional`)
    pr.new-test-incident     a new test whose incident is not in the registry
    pr.new-test-handoff      a new test without its incident's handoff.yaml
    pr.incident-deleted      an incident, postmortem or handoff deleted
    pr.keep-justification    a KEEP decision without justification
    pr.placeholder-turn      an ACTIVE or MONITORING test that still replays a scaffold placeholder turn
    pr.invalid-record        a record the change adds or edits that fails its schema: what
                             pr-check cannot read, it refuses (`incidentops check` says what to fix)

    Decisions are judged by the state change they record, whatever they are
    called; several may land in one pull request (DEPRECATE, then RETIRE) if each
    step is legal. The rules are those of the policy at --base, made stricter by
    the head's; a test's protection is that of the stricter of the base's and the
    head's severity. Provisional ids (INC_NEW_...) are accepted; a record the base
    gained after the branch forked is not counted as deleted by it. Time is the CI clock's (now, or --as-of): commit dates and
    the dates written in the pull request never make a test older.

    Approver names are taken as written unless --approvals gives the git host's
    record; in CI always give it (the shipped workflow does). Without it, a
    change that needs approval evidence from the host (a policy change, a
    loosened blocking test without an approved decision) is an error.

    Exit status: 0 clean, 1 errors found, 2 a revision or the repository cannot be read.
    """
    registry_root = resolve_root(root)
    moment = parse_as_of(as_of) if as_of else None
    result = pr_check(registry_root, base, head, moment, approvals)
    findings = list(result.findings)
    if fmt == "json":
        click.echo(json.dumps({"base": base, "head": head, "tests_changed": result.tests_changed,
                               "approvals_verified": result.approvals_verified,
                               "findings": [f.as_dict() for f in findings]}, indent=2, ensure_ascii=False))
    else:
        if findings:
            click.echo(render(findings, fmt))
        if fmt == "text":
            errors = sum(1 for f in findings if f.is_error)
            verified = "" if result.approvals_verified else " Approvers were taken as named (no --approvals)."
            click.echo(f"pr-check {base}..{head}: {result.tests_changed} test(s) changed,"
                       f" {errors} error(s), {len(findings) - errors} warning(s).{verified}", err=True)
    return 0 if result.ok else 1
