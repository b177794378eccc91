"""`incidentops status`: what needs doing in the registry, in the terminal or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.lifecycle.status import registry_status
from incidentops.records.registry import Registry, resolve_root

_SLA_COLOURS = {"breached": "red", "pending": "yellow", "met": "green"}


def _heading(text: str, count: int) -> str:
    return click.style(f"{text} ({count})", bold=True)


def _minutes(value: int | None) -> str:
    if value is None:
        return "-"
    hours, minutes = divmod(value, 60)
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days else (f"{hours} h {minutes:02d} min" if hours else f"{minutes} min")


def render_text(status: dict[str, Any]) -> str:
    lines = [click.style(f"Registry status as of {status['as_of']}", bold=True)]
    incidents = status["open_incidents"]
    lines.append(_heading("Open incidents", len(incidents)))
    for inc in incidents:
        sla = inc["sla"] or {}
        state = sla.get("status", "?")
        clock = (f"responded in {_minutes(sla.get('response_minutes'))}" if sla.get("response_minutes") is not None
                 else f"{_minutes(sla.get('elapsed_minutes'))} of {_minutes(sla.get('sla_minutes'))} without response")
        lines.append(f"  {inc['id']:<16} {inc['severity']:<6} {inc['status']:<10} SLA "
                     f"{click.style(state, fg=_SLA_COLOURS.get(state))} ({clock})  {inc['title']}")
    overdue = status["overdue_actions"]
    lines.append(_heading("Overdue action items", len(overdue)))
    for item in overdue:
        late = click.style(f"{item['days_overdue']} day(s) late", fg="red")
        lines.append(f"  {item['incident']} {item['id']:<4} due {item['due']} {late}  {item['owner']}: {item['description']}")
    blocking = status["blocking_tests"]
    lines.append(_heading("Tests blocking releases", len(blocking)))
    for test in blocking:
        lines.append(f"  {test['id']:<28} {test['suite']}  (incident {test['incident']})")
    due = status["review_due"]
    lines.append(_heading("Tests due for review", len(due)))
    if status["review_due_unknown"]:
        lines.append(f"  unknown: {status['review_due_unknown']}")
    for test in due:
        lines.append(f"  {test['id']:<28} {test['state']:<11} {test['age_days']} days in the suite, {test['recommendation']}")
    gate = status["last_gate"]
    if gate is None:
        lines.append(click.style("Last gate decision: none recorded", bold=True))
    else:
        colour = "green" if gate["decision"] == "PASS" else "red"
        lines.append(click.style("Last gate decision: ", bold=True) + click.style(str(gate["decision"]), fg=colour, bold=True)
                     + f"  {gate['name']} ({gate['model_version']}, {gate['decided_at']}, {gate['path']})")
    if status["provisional"]:
        lines.append(_heading("Provisional ids (`incidentops renumber` on main gives them their number)",
                              len(status["provisional"])))
        lines.extend(f"  {record}" for record in status["provisional"])
    if status["attention"]:
        lines.append(click.style("Needs attention:", fg="red", bold=True))
        lines.extend(f"  - {item}" for item in status["attention"])
    else:
        lines.append(click.style("Nothing needs attention.", fg="green"))
    return "\n".join(lines)


@click.command("status")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(root: Path | None, as_of: str | None, fmt: str) -> int:
    """What needs doing: open incidents with their SLA clock, overdue action items,
    the tests that block releases, tests due for review, the last gate decision,
    and records still under a provisional id.

    Exit status, for scripts: 0 nothing needs attention, 1 something does (an open
    incident past its response SLA, an overdue action item, a last gate decision
    of BLOCK, an incident record with errors), 2 not a registry. Colour only on a
    terminal, never with NO_COLOR set. --format json: as_of, open_incidents,
    overdue_actions, blocking_tests, review_due, review_due_unknown, last_gate,
    provisional, attention.
    """
    registry = Registry(resolve_root(root))
    status = registry_status(registry, parse_as_of(as_of))
    click.echo(json.dumps(status, indent=2, default=str) if fmt == "json" else render_text(status))
    return 1 if status["attention"] else 0
