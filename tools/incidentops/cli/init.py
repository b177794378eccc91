"""`incidentops init`: make a folder (a git repository) a registry, add its CI, or upgrade it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from incidentops import __version__
from incidentops.records.errors import IncidentOpsError
from incidentops.records.registry import POLICY_FILE
from incidentops.scaffold.init_files import (
    CI_CHOICES,
    InitReport,
    add_ci,
    init_registry,
    upgrade,
)


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--ci", type=click.Choice(CI_CHOICES), default=None,
              help="The CI to write: GitHub Actions workflows, the release-gate action, PR templates and"
              " CODEOWNERS (default for a new registry: github). In an existing registry, adds them.")
@click.option("--upgrade", "upgrade_", is_flag=True,
              help="In an existing registry, after upgrading incidentops: refresh schemas/ and re-pin the"
              " hooks and the CI to the installed version.")
@click.option("--install-spec", metavar="REQUIREMENT", default=None,
              help="How the hooks' comment and the CI install incidentops (a pip requirement)."
              " Default: where this incidentops was installed from (its direct_url.json), else the package index.")
def command(directory: Path, ci: str | None, upgrade_: bool, install_spec: str | None) -> int:
    """Turn DIRECTORY (default: here) into a registry that passes `check`.

    Writes the policy with the seed guide's defaults (incidentops.yaml), a
    models.yaml lineage to edit, the record folders, mkdocs.yml, the schemas
    and editor settings that map them, a .pre-commit-config.yaml whose hooks
    run the installed incidentops (no network, pinned to this version), and
    the CI of a registry (.github/: checks and pr-check on pull requests,
    notices after merge, renumbering of provisional ids, the public site on
    Pages, a release-gate action, PR templates, CODEOWNERS).

    A file that exists is never overwritten: it is listed as left alone. The
    lines .gitignore lacks (built sites, generated pages, exports, results) are
    added to it, and listed.

    \b
    Examples:
      incidentops init                    # a new registry here
      incidentops init --ci github        # later: add the CI to an existing registry
      incidentops init --upgrade          # after `pip install -U incidentops`
    """
    registry_exists = os.path.lexists(directory / POLICY_FILE)
    if upgrade_:
        if not registry_exists:
            raise IncidentOpsError(f"{directory} holds no {POLICY_FILE}: there is no registry to upgrade",
                                   "make one with `incidentops init`")
        report = upgrade(directory, install_spec)
        if ci is not None:
            extra = add_ci(directory, ci, install_spec)
            report.created += extra.created
            report.left_alone += extra.left_alone
        _print(report)
        click.echo(f"The registry follows incidentops {__version__}"
                   + (": commit the changes." if report.created or report.updated or report.added_lines else " already."))
        return 0
    if registry_exists and ci is not None:
        report = add_ci(directory, ci, install_spec)
        _print(report)
        if report.created:
            click.echo("CI added: commit .github/ and protect main (see .github/CODEOWNERS).")
        else:
            click.echo("The CI files are all there already.")
        return 0
    report = init_registry(directory, ci or "github", install_spec)
    _print(report)
    click.echo("Registry ready. Next:")
    click.echo("  edit models.yaml (your model versions), then `incidentops new incident --provisional`")
    click.echo("  pre-commit install   # validate records on every commit, with the incidentops installed here")
    return 0


def _print(report: InitReport) -> None:
    for rel in report.created:
        if not rel.startswith("schemas/"):
            click.echo(f"  created {rel}")
    schemas = [r for r in report.created + report.updated if r.startswith("schemas/")]
    if schemas:
        click.echo(f"  wrote {len(schemas)} schema(s) of incidentops {__version__} into schemas/")
    for rel in report.updated:
        if not rel.startswith("schemas/"):
            click.echo(f"  updated {rel} (pinned to incidentops {__version__})")
    for rel, lines in report.added_lines.items():
        click.echo(f"  added to {rel}: {' '.join(lines)}")
    if report.left_alone:
        click.echo("  left alone (never overwritten; compare with `incidentops init` in an empty folder):")
        for rel, why in report.left_alone:
            click.echo(f"    {rel} ({why})")
    source = report.source
    if source is not None and not source.exact and any(r.startswith(".github/") for r in report.created):
        click.echo(f"  note: incidentops was installed from {source.origin}, which CI cannot reach; the CI"
                   f" installs {source.spec!r}: edit INCIDENTOPS_SPEC in .github/actions/setup-incidentops/action.yml"
                   " (or re-run with --install-spec)", err=True)
