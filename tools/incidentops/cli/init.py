"""`incidentops init`: make a folder (a git repository) a registry."""

from __future__ import annotations

from pathlib import Path

import click

from incidentops import __version__
from incidentops.scaffold import init_registry

HOOKS_REPO = "https://github.com/incidentops/incidentops"


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--hooks-rev", default=f"v{__version__}", show_default=True,
              help="The incidentops release the pre-commit config pins.")
@click.option("--hooks-repo", default=HOOKS_REPO, show_default=True,
              help="Where pre-commit fetches the incidentops hooks from.")
def command(directory: Path, hooks_rev: str, hooks_repo: str) -> int:
    """Turn DIRECTORY (default: here) into a registry that passes `check`.

    Writes the policy with the seed guide's defaults (incidentops.yaml), a
    models.yaml lineage to edit, the record folders, mkdocs.yml, a
    .pre-commit-config.yaml using the incidentops hooks, the schemas and
    editor settings that map them. Existing files are left alone.
    """
    written = init_registry(directory, hooks_rev, hooks_repo)
    for rel in written:
        if not rel.endswith(".gitkeep") and not rel.startswith("schemas/"):
            click.echo(f"  created {rel}")
    click.echo(f"Registry ready in {directory}. Next:")
    click.echo("  edit models.yaml (your model versions), then `incidentops new incident`")
    click.echo("  pre-commit install   # validate records on every commit")
    return 0
