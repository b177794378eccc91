"""`incidentops check`: validate records (what pre-commit runs)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from incidentops.checks import check_registry
from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.cli.reporting import FORMATS, render, summary
from incidentops.records.errors import IncidentOpsError
from incidentops.records.kinds import kind_of
from incidentops.records.registry import Registry, resolve_root


def _targets(registry: Registry, paths: tuple[Path, ...]) -> list[str] | None:
    if not paths:
        return None
    wanted: list[str] = []
    every: list[str] | None = None  # listed only when a folder is asked for (a stat of every record)
    for raw in paths:
        full, link = _locate(raw)
        if not os.path.lexists(full):
            raise IncidentOpsError(f"{raw}: no such file", "pass record files or folders of the registry")
        try:
            rel = full.relative_to(registry.root).as_posix()
        except ValueError:
            continue  # outside the registry: nothing to check
        if link:
            # never followed: the registry reports the link itself (fs.symlink)
            if every is None:
                every = registry.all_paths()
            wanted.extend(p for p in every if p == rel or p.startswith(rel + "/"))
        elif full.is_dir():
            prefix = "" if rel == "." else rel + "/"
            if every is None:
                every = registry.all_paths()
            wanted.extend(p for p in every if p.startswith(prefix))
        elif kind_of(rel) is not None:
            wanted.append(rel)
    return sorted(set(wanted))


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
@click.option("--cache/--no-cache", "cache", default=None,
              help="Read and refresh this user's result cache (default: yes, except under CI)."
              " --no-cache recomputes every finding and reads and writes no cache.")
@click.option("--others", is_flag=True,
              help="Check the whole registry but report only the findings of records other than PATHS"
              " (the second pre-commit hook: the first one reports PATHS, so nothing is printed twice).")
def command(paths: tuple[Path, ...], root: Path | None, as_of: str | None, fmt: str, cache: bool | None,
            others: bool = False) -> int:
    """Validate registry records: schema, cross-references, severity policy,
    postmortems, records that contradict themselves (times out of order, a
    status without its resolution, a lineage cycle, placeholder attack turns),
    hidden Unicode controls, blameless language and PII.

    With PATHS (files or folders; pre-commit passes the changed files), report
    findings for those files only, resolving references against the whole
    registry. Without PATHS, check every record. With --others, check every
    record and report the findings of all but PATHS.

    \b
    One finding a line:
      incidents/INC_001/incident.yaml:7:11: error [schema.enum] severity: 'SEV-5' is not one of SEV-0, SEV-1, SEV-2, SEV-3
    Exit status: 0 clean (warnings allowed), 1 errors found, 2 usage or unreadable input.

    The blameless-language and PII findings of files unchanged since the last run are
    read back from this user's cache folder (~/.cache/incidentops, or
    $INCIDENTOPS_CACHE_DIR), never from the repository. Under CI (the CI variable
    set) no cache is used unless --cache is given.
    """
    if root is None and paths:
        first, _ = _locate(paths[0])
        root_dir = resolve_root(None) if not os.path.lexists(first) else _root_from(first.parent)
    else:
        root_dir = resolve_root(root)
    registry = Registry(root_dir)
    targets = _targets(registry, paths)
    reported_elsewhere: set[str] = set()
    if others:
        reported_elsewhere, targets = set(targets or ()), None
    if targets is not None and not targets:
        if fmt == "json":
            click.echo("[]")
        return 0
    if cache is None:
        from incidentops.checks.cache import in_ci

        cache = not in_ci()
    total = [0]

    def count(done: int, of: int) -> None:  # the whole check's file count, without listing the registry again
        total[0] = of

    findings = check_registry(registry, parse_as_of(as_of), targets, count if targets is None else None,
                              cache=cache, warn=_warn)
    if reported_elsewhere:
        findings = [f for f in findings if f.path not in reported_elsewhere]
    checked = len(targets) if targets is not None else total[0]
    if fmt == "json":
        click.echo(render(findings, fmt))
    else:
        if findings:
            click.echo(render(findings, fmt))
        if fmt == "text":
            click.echo(summary(findings, checked), err=True)
    return 1 if any(f.is_error for f in findings) else 0


def _warn(message: str) -> None:
    click.echo(f"incidentops: warning: {message}", err=True)


def _locate(raw: Path) -> tuple[Path, bool]:
    """``raw`` as an absolute path with its folders resolved, and whether it is itself a link.

    A link named on the command line (pre-commit passes the link, not its target) is
    never followed: not to find the registry, not to read it.
    """
    absolute = Path(os.path.abspath(raw))
    if absolute.is_symlink():
        return absolute.parent.resolve() / absolute.name, True
    return absolute.resolve(), False


def _root_from(path: Path) -> Path:
    from incidentops.records.registry import find_root

    return find_root(path if path.is_dir() else path.parent)
