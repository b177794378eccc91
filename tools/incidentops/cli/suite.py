"""`incidentops suite`: the regression suite as a runner's input."""

from __future__ import annotations

from pathlib import Path

import click

from incidentops.cli.common import root_option
from incidentops.gate.export import FORMATS, export_suite
from incidentops.gate.releases import gate_policy, regression_records
from incidentops.gate.scope import run_states, select_suite
from incidentops.records.fsio import write_text_atomic
from incidentops.records.registry import Registry, resolve_root


@click.group("suite")
def command() -> None:
    """Regression suites: what must run before a release."""


@command.command("export")
@click.option("--suite", default=None, metavar="NAME", help="Export one suite only. Default: every suite.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True,
              help="jsonl manifest; promptfoo test list (tests: file://...); or inspect, the dataset of "
                   "the Inspect task incidentops/regression_suite.")
@click.option("--out", default=None, metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (replaced atomically). Default: standard output.")
@root_option
def export(suite: str | None, fmt: str, out: Path | None, root: Path | None) -> int:
    """Export the tests that must run: ACTIVE, MONITORING and DEPRECATED, never RETIRED.

    Every exported item carries its test_id: report results under that id so
    `incidentops gate` can match them back to the registry.

    \b
    Example:
      incidentops suite export --format jsonl --out suite.jsonl
    """
    registry = Registry(resolve_root(root))
    policy = gate_policy(registry)
    tests = regression_records(registry)
    text = export_suite(tests, policy, fmt, suite, registry.root)
    runnable = run_states(policy)
    count = sum(1 for t in select_suite(tests, policy, suite) if t.state in runnable)
    scope = f"suite {suite}" if suite else "all suites"
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        click.echo(f"exported {count} test(s) of {scope} to {out} ({fmt})", err=True)
    if count == 0:
        click.echo(f"incidentops: note: no test of {scope} is in a state that runs", err=True)
    return 0
