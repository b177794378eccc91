"""`incidentops show ID`: one incident or regression test, with what its site page shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.lifecycle.status import show
from incidentops.records.registry import Registry, resolve_root


def _field(name: str, value: Any) -> str:
    return f"  {click.style(name + ':', bold=True)} {value if value not in (None, '') else '-'}"


def _links(links: dict[str, list[str]]) -> list[str]:
    return [_field(name, ", ".join(paths)) for name, paths in links.items() if paths]


def render_incident(data: dict[str, Any]) -> list[str]:
    sla = data["sla"] or {}
    lines = [click.style(f"{data['id']}: {data['title']}", bold=True), _field("path", data["path"])]
    for key in ("type", "severity", "computed_severity", "status", "visibility", "model_version", "attack_vector",
                "reported_by", "detected_at", "first_response_at", "resolved_at"):
        lines.append(_field(key.replace("_", " "), data[key]))
    lines.append(_field("response SLA", f"{sla.get('status', '-')} ({sla.get('clock', '-')} clock,"
                                        f" {sla.get('sla_minutes', '-')} min)"))
    lines.append(_field("escalations", ", ".join(f"{e['team']} at {e['at']}" for e in data["escalations"])))
    lines.append(click.style("  summary:", bold=True))
    lines.extend(f"    {line}" for line in str(data["summary"] or "").strip().splitlines())
    lines.append(click.style("  timeline:", bold=True))
    lines.extend(f"    {e['at']}  {e['event']}" for e in data["timeline"])
    pm = data["postmortem"]
    if pm is None:
        lines.append(_field("postmortem", "none yet (`incidentops new postmortem " + data["id"] + "`)"))
    elif pm.get("errors"):
        lines.append(_field("postmortem", f"{pm['path']} has errors (run `incidentops check {pm['path']}`)"))
    else:
        lines.append(_field("postmortem", f"{pm['path']} ({pm['review_type']} review)"))
        lines.extend(f"    factor: {factor}" for factor in pm["contributing_factors"])
        lines.extend(f"    {a['id']} {a['status']:<11} due {a['due']}  {a['owner']}: {a['description']}"
                     for a in pm["action_items"])
    lines.append(_field("handoff", data["handoff"]))
    lines.append(_field("tests", ", ".join(f"{t['id']} ({t['state']}, {t['suite']})" for t in data["tests"])))
    lines.extend(_links(data["links"]))
    if data["provisional"]:
        lines.append(_field("note", "a provisional id: `incidentops renumber` on main gives it its number"))
    return lines


def render_test(data: dict[str, Any]) -> list[str]:
    incident = data["incident"] or {}
    lines = [click.style(f"{data['id']} ({data['state']})", bold=True), _field("path", data["path"]),
             _field("incident", f"{incident.get('id')}: {incident.get('title')}" if incident else None)]
    for key in ("suite", "scenario", "severity_weight", "expected_block_turn", "model_version", "owner"):
        lines.append(_field(key.replace("_", " "), data[key]))
    decay = data["decay"]
    if decay is not None:
        lines.append(_field("in the suite since", f"{decay['added_at']} ({decay['age_days']} days, from git)"))
        lines.append(_field("decay", f"{decay['recommendation']}" + ("; review due" if decay["review_due"] else "")))
        lines.extend(f"    {reason}" for reason in decay["reasons"])
    lines.append(click.style("  decisions:", bold=True))
    lines.extend(f"    {d['at']}  {d['decision']} {d['from_state'] or '-'} -> {d['to_state']}  by {d['by']}"
                 + (f", approved by {d['approver']}" if d["approver"] else "") + f": {d['reason']}"
                 for d in data["decisions"])
    lines.extend(_links(data["links"]))
    return lines


@click.command("show")
@click.argument("record_id", metavar="ID")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(record_id: str, root: Path | None, as_of: str | None, fmt: str) -> int:
    """Show one incident (INC_001) or regression test (regression_INC_001) in full.

    An incident with its severity (declared and computed from the checklist), SLA
    result, escalations, timeline, postmortem and action items, handoff, tests, and
    the audit entries, reviews and release records that name it; a test with its
    state, suite, time in the suite from git, decay recommendation, decision
    history and links. The same facts as its page on the site; --format json for tools.
    """
    registry = Registry(resolve_root(root))
    data = show(registry, record_id, parse_as_of(as_of))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo("\n".join(render_incident(data) if data["kind"] == "incident" else render_test(data)))
    return 0
