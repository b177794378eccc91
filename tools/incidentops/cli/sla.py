"""`incidentops sla`: response times against the severity SLAs, attainment, MTTA and MTTR."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentops.cli.common import as_of_option, parse_as_of, root_option
from incidentops.policy.sla import SlaReport, sla_report
from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Incident
from incidentops.records.registry import Registry, resolve_root


@click.command("sla")
@root_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(root: Path | None, as_of: str | None, fmt: str) -> int:
    """Report each incident's first response against its severity's response SLA.

    SEV-2 counts business minutes (the policy's business_hours, public holidays
    excluded); the other levels count wall-clock minutes. An incident without a
    response is `pending` while within its SLA, `breached` after it. Also prints
    the attainment per severity (met / decided), MTTA (detection to first
    response) and MTTR (detection to resolution), both in wall-clock time.
    Incidents whose record has errors are skipped (run `incidentops check`).
    """
    registry = Registry(resolve_root(root))
    moment = parse_as_of(as_of)
    policy = registry.policy_record
    incidents: list[Incident] = []
    skipped: list[str] = []
    for incident_id in registry.incident_ids:
        path = registry.incident_path(incident_id)
        if registry.doc(path) is None:
            continue
        incident = registry.incident_record(incident_id)
        if incident is not None:
            try:  # one inconsistent record must not hide the others' results
                sla_report([incident], policy, moment)
            except IncidentOpsError as exc:
                click.echo(f"incidentops: skipped {path}: {exc.message}", err=True)
                skipped.append(path)
                continue
            incidents.append(incident)
        else:
            click.echo(f"incidentops: skipped {path}: it has errors (run `incidentops check {path}`)", err=True)
            skipped.append(path)
    report = sla_report(incidents, policy, moment)
    click.echo(render_json(report, skipped) if fmt == "json" else render_text(report))
    return 0


def _stamp(report: SlaReport) -> str:
    return report.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_json(report: SlaReport, skipped: list[str]) -> str:
    return json.dumps(
        {
            "as_of": _stamp(report),
            "incidents": [
                {
                    "id": r.incident_id,
                    "severity": r.severity,
                    "clock": r.clock,
                    "response_minutes": r.response_minutes,
                    "elapsed_minutes": r.elapsed_minutes,
                    "sla_minutes": r.sla_minutes,
                    "status": r.status,
                }
                for r in report.results
            ],
            "attainment": {
                severity: {
                    "met": counts.met,
                    "breached": counts.breached,
                    "pending": counts.pending,
                    "attainment": counts.attainment,
                }
                for severity, counts in report.by_severity.items()
            },
            "mtta_minutes": report.mtta_minutes,
            "mttr_minutes": report.mttr_minutes,
            "skipped": skipped,
        },
        indent=2,
    )


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    whole = round(value)
    if whole < 60:
        return f"{whole} min"
    hours, minutes = divmod(whole, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def render_text(report: SlaReport) -> str:
    lines = [f"Response SLA as of {_stamp(report)}", ""]
    if not report.results:
        lines.append("No incidents detected by then.")
    else:
        lines.append(f"{'incident':<10} {'severity':<8} {'response':>10} {'SLA':>10}  clock     status")
        for r in report.results:
            response = str(r.response_minutes) if r.response_minutes is not None else f"({r.elapsed_minutes})"
            lines.append(
                f"{r.incident_id:<10} {r.severity:<8} {response:>10} {r.sla_minutes:>10}"
                f"  {r.clock:<8}  {r.status}"
            )
        lines.append("  minutes; (n) = no response yet, n minutes elapsed; business = business minutes")
    lines.append("")
    lines.append("Attainment (met / met + breached):")
    for severity, counts in report.by_severity.items():
        share = f"{counts.attainment:.0%}" if counts.attainment is not None else "-"
        lines.append(
            f"  {severity:<6} {share:>5}  met {counts.met}, breached {counts.breached}, pending {counts.pending}"
        )
    lines.append("")
    lines.append(f"MTTA (detection to first response): {_minutes(report.mtta_minutes)}")
    lines.append(f"MTTR (detection to resolution):     {_minutes(report.mttr_minutes)}")
    return "\n".join(lines)
