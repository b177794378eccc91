"""`incidentops list`: the ids of the registry's incidents and regression tests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import root_option
from incidentops.lifecycle.status import list_records
from incidentops.records.registry import Registry, resolve_root


@click.command("list")
@click.argument("what", type=click.Choice(["all", "incidents", "tests"]), default="all")
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(what: str, root: Path | None, fmt: str) -> int:
    """List every incident (id, severity, status, title) and regression test (id, state,
    incident, suite), retired ones included. `incidentops show ID` shows one in full;
    a record with errors is listed with `?` (run `incidentops check`)."""
    rows = list_records(Registry(resolve_root(root)), what)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        if row["kind"] == "incident":
            click.echo(f"{row['id']:<24} {row['severity'] or '?':<6} {row['status'] or '?':<10} {row['title'] or ''}")
        else:
            click.echo(f"{row['id']:<24} {row['state'] or '?':<11} {row['incident'] or '?':<16} {row['suite'] or ''}")
    return 0
