"""`incidentops decay`: the decay assessment of every regression test."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli._progress import Progress
from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.lifecycle.decay import Assessment, DecayReport, assess_repository
from incidentops.records.registry import Registry, resolve_root

FORMATS = ("table", "json", "markdown")
STATES = ("ACTIVE", "MONITORING", "DEPRECATED", "RETIRED")
_SHORT = {
    "same_version": "same",
    "minor_update": "minor",
    "major_update": "major",
    "architecture_change": "architecture",
    "unknown": "unknown",
}


@click.command("decay")
@root_option
@as_of_option
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), metavar="STATE",
              help="Only tests in this state (repeat for several). Default: every state but RETIRED.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for people, json for tools, markdown for a report or a CI step summary.")
def command(root: Path | None, as_of: str | None, states: tuple[str, ...], fmt: str) -> int:
    """Assess each regression test's decay and recommend KEEP, REVIEW,
    CONSIDER_DEPRECATION or CONSIDER_RETIREMENT, with the reasons.

    The factors are those of the decay assessment: incident severity, time
    since the incident, time in the suite (from git history: renames and the
    move into the archive keep a test's age), whether the attack is still
    viable and the scenario still relevant, how the model changed since the
    test was written (models.yaml), similar incidents in the last 12 months and
    the time since the last review decision. Thresholds come from the policy's
    `decay` section. RETIRED tests are listed only with --state RETIRED.

    \b
    Exit status: 0 report printed, 2 not a registry or unreadable git history.
    """
    registry = Registry(resolve_root(root))
    moment = parse_as_of(as_of)
    progress = Progress()
    try:
        report = assess_repository(
            registry, moment, states or None,
            history_progress=progress.commits("reading git history"),
            progress=progress.items("reading records"),
        )  # fmt: skip
    finally:
        progress.done()
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(report))
    else:
        click.echo(render_table(report))
        click.echo(summary_line(report), err=True)
    return 0


def summary_line(report: DecayReport) -> str:
    counts = ", ".join(f"{name} {count}" for name, count in report.counts().items())
    return f"{len(report.assessments)} test(s) assessed as of {report.as_of:%Y-%m-%d}: {counts}."


def _row(item: Assessment) -> list[str]:
    return [
        item.test_id,
        item.state or "?",
        str(item.age_days),
        item.incident_id or "?",
        item.incident_severity or "?",
        _SHORT.get(item.model_change, item.model_change),
        item.attack_vector_status or "?",
        str(item.similar_incidents_12m),
        item.recommendation or "-",
        "; ".join(item.reasons),
    ]


_HEADERS = ["TEST", "STATE", "DAYS", "INCIDENT", "SEV", "MODEL", "ATTACK", "SIMILAR",
            "RECOMMENDATION", "REASONS"]


def render_table(report: DecayReport) -> str:
    """Aligned columns, one test a line, reasons last."""
    if not report.assessments:
        return "no regression tests to assess"
    rows = [_HEADERS, *(_row(a) for a in report.assessments)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADERS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no HTML, no column breaks)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: DecayReport) -> str:
    """A Markdown table with a summary line."""
    lines = [
        f"## Decay assessment as of {report.as_of:%Y-%m-%d}",
        "",
        f"Current model: {report.current_model or 'unknown'}. "
        + ", ".join(f"{name}: {count}" for name, count in report.counts().items()),
        "",
        "| Test | State | Days in suite | Incident | Severity | Model relevance | Attack vector"
        " | Similar incidents (12 months) | Recommendation | Reasons |",
        "|---|---|---:|---|---|---|---|---:|---|---|",
    ]
    for a in report.assessments:
        cells = [
            f"`{a.test_id}`", a.state or "?", str(a.age_days), a.incident_id or "?",
            a.incident_severity or "?", a.model_relevance, a.attack_vector_status or "?",
            str(a.similar_incidents_12m), f"**{a.recommendation}**" if a.recommendation else "-",
        ]  # fmt: skip
        reasons = "<br>".join(_cell(r) for r in a.reasons)
        lines.append("| " + " | ".join([*(_cell(c) for c in cells), reasons]) + " |")
    return "\n".join(lines)
