"""`incidentops gate`: judge a release candidate from its regression results."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.gate import (
    decide,
    decision_as_dict,
    read_results,
    record,
    render_markdown,
    render_text,
)
from incidentops.gate.releases import (
    gate_policy,
    record_name,
    regression_records,
    release_path,
    require_committed,
    write_release_record,
)
from incidentops.records.gitops import head_commit
from incidentops.records.registry import Registry, resolve_root

FORMATS = ("text", "json", "markdown")


@click.command("gate")
@click.option("--results", "results", multiple=True, required=True, metavar="FILE",
              type=click.Path(path_type=Path),
              help="A results file: JUnit XML, an Inspect log (.eval or .json), promptfoo results "
                   "(-o results.json or .jsonl) or JSON Lines; the format is read from the content. "
                   "Repeat for several files.")
@click.option("--model", "model", default=None, metavar="NAME",
              help="Judge the results of this model (Inspect's model, promptfoo's provider label) only. "
                   "Default: every model the results name, each with its own decision.")
@click.option("--suite", default=None, metavar="NAME",
              help="Judge one suite only (one of the policy's regression.suites). Default: every suite.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, markdown for a CI step summary.")
@click.option("--record", "record_to", default=None, metavar="PATH", type=click.Path(path_type=Path),
              help="Also write the decision as a release record, e.g. releases/aurora-3.1.yaml "
                   "(relative to the registry root; never overwrites; the records must be committed).")
@click.option("--model-version", default=None, metavar="V",
              help="Model version under test, for the record. Default: `current` in models.yaml.")
@root_option
@as_of_option
def command(results: tuple[Path, ...], model: str | None, suite: str | None, fmt: str, record_to: Path | None,
            model_version: str | None, root: Path | None, as_of: str | None) -> int:
    """Decide PASS or BLOCK for a release from the regression suite's results.

    BLOCK when an ACTIVE test failed, errored, was skipped, is missing from
    the results, or refused later than its expected_block_turn, and with
    --suite when an ACTIVE test names a suite the policy does not declare.
    Problems of MONITORING and DEPRECATED tests, and results for unknown or
    RETIRED tests, are warnings. Repeated results of one test are combined:
    mixed ones are reported as flaky. Runs repeat one another only with the
    same test id, check and model; results of several models are judged per
    model, and the release is blocked when any model blocks.

    \b
    Exit status: 0 PASS, 1 BLOCK, 2 unreadable, malformed or not understood
    results or records, an undeclared --suite, or --record on uncommitted records.
    """
    registry = Registry(resolve_root(root))
    moment = parse_as_of(as_of)
    target = release_path(registry.root, record_to) if record_to is not None else None
    if target is not None:
        require_committed(registry.root)
    policy = gate_policy(registry)
    tests = regression_records(registry)
    files = read_results(list(results))
    inputs = [(f.path, f.format, len(f.results)) for f in files]
    decision = decide(tests, [r for f in files for r in f.results], policy, suite, model=model)
    if target is not None:
        lineage = registry.lineage
        model = model_version or (lineage.current if lineage is not None else None)
        if model is not None and (lineage is None or lineage.version(model) is None):
            click.echo(f"incidentops: note: model version {model} is not in models.yaml yet", err=True)
        commit = head_commit(registry.root)
        if commit is None:
            click.echo("incidentops: note: the registry is not a git checkout with commits: "
                       "the record names no commit", err=True)
        data = record(decision, commit, model, moment, name=record_name(target))
        write_release_record(registry.root, target, data)
    if fmt == "json":
        click.echo(json.dumps(decision_as_dict(decision, inputs), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(decision), nl=False)
    else:
        click.echo(render_text(decision, inputs), nl=False)
    if fmt != "text":
        for path, found, count in inputs:
            click.echo(f"incidentops: read {path}: {found}, {count} results", err=True)
    if target is not None:
        click.echo(f"recorded {target}", err=True)
    return 0 if decision.passed else 1
