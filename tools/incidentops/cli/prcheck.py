"""`incidentops pr-check`: the lifecycle rules a pull request must follow, base against head."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.prcheck import pr_check
from incidentops.registry import resolve_root
from incidentops.reporting import FORMATS, render


@click.command("pr-check")
@click.option("--base", required=True, metavar="REF",
              help="The pull request's base, such as origin/main (fetched with full history).")
@click.option("--head", default="HEAD", show_default=True, metavar="REF", help="The pull request's head.")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
def command(base: str, head: str, root: Path | None, as_of: str | None, fmt: str) -> int:
    """Compare the registry at --base with the registry at --head (read from git,
    no checkout) and report what the lifecycle forbids.

    \b
    pr.test-deleted          a test file deleted instead of archived
    pr.transition            a state change the policy's state machine forbids
    pr.decision-missing      a state change without a decision in the test's history
    pr.decision-history      an earlier decision changed or removed (history is append-only)
    pr.retire-audit          a retirement without a RETIRE_REGRESSION audit entry added in the change
    pr.audit-modified        an existing audit entry edited
    pr.audit-deleted         an existing audit entry deleted
    pr.override-required     a SEV-0/1 test, or one younger than minimum_age_days (from git),
                             deprecated or retired without an approved override
    pr.approver              a SEV-0/1 test weakened without an approver distinct from the requester
    pr.id-reused             a retired test's id used again
    pr.new-test-incident     a new test whose incident is not in the registry
    pr.new-test-handoff      a new test without its incident's handoff.yaml
    pr.incident-deleted      an incident, postmortem or handoff deleted
    pr.keep-justification    a KEEP decision without justification
    The lifecycle rules are those of the policy at --base. Ages are judged at the
    head commit's date unless --as-of is given. A revert is judged like any change.

    \b
    Exit status: 0 clean, 1 errors found, 2 a revision or the repository cannot be read.
    """
    registry_root = resolve_root(root)
    moment = parse_as_of(as_of) if as_of else None
    result = pr_check(registry_root, base, head, moment)
    findings = list(result.findings)
    if fmt == "json":
        click.echo(json.dumps({"base": base, "head": head, "tests_changed": result.tests_changed,
                               "findings": [f.as_dict() for f in findings]}, indent=2, ensure_ascii=False))
    else:
        if findings:
            click.echo(render(findings, fmt))
        if fmt == "text":
            errors = sum(1 for f in findings if f.is_error)
            click.echo(f"pr-check {base}..{head}: {result.tests_changed} test(s) changed,"
                       f" {errors} error(s), {len(findings) - errors} warning(s).", err=True)
    return 0 if result.ok else 1
