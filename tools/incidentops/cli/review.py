"""`incidentops review`: the quarterly review of regression tests over a year old."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli._progress import Progress
from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.lifecycle import review
from incidentops.lifecycle.decay import HISTORY_PATHS
from incidentops.lifecycle.history import ImportDeclaration, load_history
from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import create_text_exclusive
from incidentops.records.model import Review
from incidentops.records.registry import Registry, resolve_root


@click.group("review")
def command() -> None:
    """The quarterly review: every test over a year in the suite, a decision for each.

    \b
    1. incidentops review start 2026-Q4      writes reviews/2026-Q4.yaml
    2. fill in each decision (KEEP + justification, DEPRECATE or RETIRE + reason)
    3. apply them: incidentops lifecycle keep|deprecate|retire TEST_ID --reason ...
    4. set `status: complete`; `incidentops check` verifies the tests agree
    5. incidentops review summary 2026-Q4    the summary for the safety council
    """


@command.command("start")
@click.argument("quarter")
@root_option
@as_of_option
def start(quarter: str, root: Path | None, as_of: str | None) -> int:
    """Write reviews/QUARTER.yaml (QUARTER like 2026-Q4) listing every test at least a
    year in the suite on the quarter's first day (from git history), with its decay
    factors and an open decision."""
    registry = Registry(resolve_root(root))
    moment = parse_as_of(as_of)
    review.parse_quarter(quarter)
    progress = Progress()
    try:
        history = load_history(registry.root, HISTORY_PATHS, moment,
                               imported=ImportDeclaration.from_policy(registry.policy_record),
                               progress=progress.commits("reading git history"))
    finally:
        progress.done()
    path, text, items = review.start(registry, history, quarter, moment)
    create_text_exclusive(registry.root / path, text)
    click.echo(f"created {path}: {len(items)} test(s) to review")
    for item in items:
        click.echo(f"  {item.test_id}  {item.age_days} days in the suite  recommendation {item.recommendation}")
    click.echo("Next: fill in each decision, apply it with `incidentops lifecycle`, then set `status: complete`.")
    return 0


@command.command("summary")
@click.argument("quarter")
@root_option
@click.option("--format", "fmt", type=click.Choice(("markdown", "json")), default="markdown", show_default=True,
              help="markdown for the safety council (and CI step summaries), json for tools.")
def summary(quarter: str, root: Path | None, fmt: str) -> int:
    """Print the summary of reviews/QUARTER.yaml for the safety council: counts per
    decision and every decision with its justification or reason. A record with
    errors has no summary: fix what `incidentops check` reports first."""
    registry = Registry(resolve_root(root))
    review.parse_quarter(quarter)
    path = review.review_path(quarter.strip())
    doc = registry.doc(path)
    if doc is None:
        raise IncidentOpsError(f"{path}: no such review", f"start it with `incidentops review start {quarter}`")
    record = registry.typed(Review, path)
    if record is None:
        raise IncidentOpsError(f"{path}: the review record has errors, so it has no summary",
                               f"run `incidentops check {path}` and fix it first")
    result = review.summarize(record)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(review.render_markdown(result))
    return 0
