"""`incidentops actions`: open postmortem action items, grouped by owner, overdue ones flagged."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.policy.actions import ActionReport, open_actions
from incidentops.records.registry import Registry, resolve_root


@click.command("actions")
@click.option("--owner", metavar="TEAM", default=None, help="Only this owner's action items (a team or role).")
@click.option("--overdue", is_flag=True, help="Only action items past their due date.")
@click.option("--fail-on-overdue", is_flag=True,
              help="Exit 1 when an action item listed is overdue (for CI); the list is printed either way.")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(owner: str | None, overdue: bool, fail_on_overdue: bool, root: Path | None, as_of: str | None,
            fmt: str) -> int:
    """List open postmortem action items (open or in progress), grouped by owner.

    An item is OVERDUE when its due date is before the --as-of date.
    Deferred and done items are not listed. Exit status 0, or 1 with
    --fail-on-overdue when an item listed is overdue.

    \b
    Example:
      incidentops actions --owner "Safety team" --overdue
    """
    registry = Registry(resolve_root(root))
    report = open_actions(registry, parse_as_of(as_of), owner=owner, overdue_only=overdue)
    for path in report.skipped:
        click.echo(f"incidentops: skipped {path}: it has errors (run `incidentops check {path}`)", err=True)
    click.echo(render_json(report) if fmt == "json" else render_text(report))
    return 1 if fail_on_overdue and report.overdue else 0


def render_json(report: ActionReport) -> str:
    return json.dumps(
        {
            "as_of": report.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total": len(report.items),
            "overdue": report.overdue,
            "owners": [
                {"owner": owner, "items": [item.as_dict() for item in items]}
                for owner, items in report.groups.items()
            ],
            "skipped": report.skipped,
        },
        indent=2,
        ensure_ascii=False,
    )


def render_text(report: ActionReport) -> str:
    if not report.groups:
        return f"No open action items as of {report.as_of:%Y-%m-%d}."
    lines: list[str] = []
    for owner, items in report.groups.items():
        late = sum(1 for item in items if item.overdue)
        lines.append(f"{owner}: {len(items)} open" + (f", {late} overdue" if late else ""))
        for item in items:
            flag = f"  OVERDUE by {item.days_overdue} day{'s' if item.days_overdue != 1 else ''}" if item.overdue else ""
            lines.append(
                f"  {item.incident_id} {item.action_id:<4} due {item.due.isoformat()}"
                f"  {item.status:<11} {item.description}{flag}"
            )
            lines.append(f"      {item.path}:{item.line}" + (f"  {item.tracker}" if item.tracker else ""))
        lines.append("")
    lines.append(
        f"{len(report.items)} open action item(s), {report.overdue} overdue, as of {report.as_of:%Y-%m-%d}."
    )
    return "\n".join(lines)
