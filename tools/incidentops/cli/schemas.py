"""`incidentops schemas`: the registry's copy of the JSON Schemas, kept equal to the installed version's."""

from __future__ import annotations

from pathlib import Path

import click

from incidentops import __version__
from incidentops.cli.common import root_option
from incidentops.records.registry import resolve_root
from incidentops.records.schemas import stale_schemas
from incidentops.scaffold.init_files import InitReport, sync_schemas


@click.group("schemas")
def command() -> None:
    """The schemas/ folder editors validate records against (the modelines point there)."""


@command.command("sync")
@root_option
@click.option("--check", "check_only", is_flag=True, help="Only say which schemas differ (exit 1 if any).")
def sync(root: Path | None, check_only: bool) -> int:
    """Write the installed incidentops's schemas into schemas/.

    File names stay the same, so every record's `# yaml-language-server:
    $schema=...` line keeps working. `incidentops check` warns (schemas.stale)
    when schemas/ differs from the installed version's.
    """
    registry_root = resolve_root(root)
    if check_only:
        stale = stale_schemas(registry_root)
        for rel, what in stale:
            click.echo(f"{rel} {what} ({__version__})")
        return 1 if stale else 0
    report = InitReport()
    sync_schemas(registry_root, report)
    for rel in report.created:
        click.echo(f"  created {rel}")
    for rel in report.updated:
        click.echo(f"  updated {rel}")
    changed = len(report.created) + len(report.updated)
    click.echo(f"schemas/ holds the schemas of incidentops {__version__}"
               + (f": {changed} file(s) written, commit them." if changed else " already."))
    return 0
