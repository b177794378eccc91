"""`incidentops renumber`: permanent ids for the records merged with a provisional one."""

from __future__ import annotations

from pathlib import Path

import click

from incidentops.cli.common import root_option
from incidentops.records.registry import resolve_root
from incidentops.records.renumber import apply, plan, plan_provisional


@click.command("renumber")
@click.argument("record_id", required=False)
@click.option("--provisional", is_flag=True,
              help="Give RECORD_ID a provisional id instead (on a branch whose id the base branch took first).")
@click.option("--dry-run", is_flag=True, help="Print what would change, change nothing.")
@root_option
def command(record_id: str | None, provisional: bool, dry_run: bool, root: Path | None) -> int:
    """Give every provisional id (INC_NEW_..., regression_..._NEW_...) the next free permanent id.

    Run it on main after a merge (the shipped renumber workflow does): each
    provisional incident, in the order they were detected, gets the next free
    INC_NNN above every number the registry ever used, its folder and tests are
    renamed and every reference in incidents/, regressions/, reviews/ and
    scenarios/ is rewritten, all or nothing. In a git checkout the records must
    be committed first; the change is staged, ready for one commit. Audit
    entries are never edited (a provisional id in one is refused); release
    records keep the ids they recorded.

    With RECORD_ID --provisional, the record goes the other way: on a branch
    where pr-check reports that the base already gives RECORD_ID to another
    record (pr.id-taken), it becomes provisional and gets its number after merge.
    """
    registry_root = resolve_root(root)
    if record_id is not None and not provisional:
        raise click.UsageError("give RECORD_ID only with --provisional; without it every provisional id is renumbered")
    if provisional and record_id is None:
        raise click.UsageError("--provisional needs the RECORD_ID to make provisional")
    result = plan_provisional(registry_root, record_id) if record_id is not None else plan(registry_root)
    if result.empty:
        click.echo("No provisional ids: nothing to renumber.")
        return 0
    for old, new in {**result.incidents, **result.tests}.items():
        click.echo(f"  {old} -> {new}")
    for old, new in result.moves:
        click.echo(f"  moved {old} -> {new}")
    for rel in sorted(result.writes):
        click.echo(f"  rewrote {rel}")
    for rel in result.left_as_recorded:
        click.echo(f"  left as recorded (append-only): {rel}")
    if dry_run:
        click.echo("Dry run: nothing changed.")
        return 0
    changed = apply(registry_root, result)
    from incidentops.records.renumber import in_git

    staged = "; the change is staged: commit it" if in_git(registry_root) else ""
    click.echo(f"Renumbered {len(result.incidents) + len(result.tests)} id(s) in {len(changed)} path(s){staged}.")
    return 0
