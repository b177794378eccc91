"""`incidentops assess`: the severity assessment checklist, asked or given as options."""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from ruamel.yaml.comments import CommentedMap

from incidentops.cli.common import root_option
from incidentops.errors import IncidentOpsError
from incidentops.kinds import check_id
from incidentops.registry import Registry, default_policy, find_root, resolve_root
from incidentops.severity import ANSWER_KEYS, Assessment, assess, compare, severity_level
from incidentops.yamledit import edit_file

HARM = ("occurred", "imminent", "potential")
SCOPE = ("many_users", "single_user", "internal_only")
REPUTATIONAL = ("high", "normal")

OPTION_NAMES = {
    "harm": "--harm",
    "scope": "--scope",
    "regulatory": "--regulatory/--no-regulatory",
    "reputational_risk": "--reputational-risk",
    "exploitable_at_scale": "--exploitable-at-scale/--no-exploitable-at-scale",
}


@click.command("assess")
@click.option("--harm", type=click.Choice(HARM), default=None,
              help="1. Harm occurred? occurred (at least SEV-1), imminent (SEV-2), potential only (SEV-3).")
@click.option("--scope", type=click.Choice(SCOPE), default=None,
              help="2. Scope of impact? many_users (increase), single_user (maintain), internal_only (decrease).")
@click.option("--regulatory/--no-regulatory", default=None,
              help="3. Regulatory implications? (yes: at least SEV-1, involve Legal)")
@click.option("--reputational-risk", "reputational_risk", type=click.Choice(REPUTATIONAL), default=None,
              help="4. Reputational risk? high (consider SEV-0) or normal.")
@click.option("--exploitable-at-scale/--no-exploitable-at-scale", "exploitable_at_scale", default=None,
              help="5. Exploitable at scale? (yes: increase severity)")
@click.option("--type", "incident_type", metavar="TYPE", default=None,
              help="Incident type id from the policy (adds its escalation path). Default with --write: the incident's type.")
@click.option("--write", "write_id", metavar="INC_ID", default=None,
              help="Record the answers in this incident's `assessment` (comments and layout are kept).")
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(
    harm: str | None,
    scope: str | None,
    regulatory: bool | None,
    reputational_risk: str | None,
    exploitable_at_scale: bool | None,
    incident_type: str | None,
    write_id: str | None,
    root: Path | None,
    fmt: str,
) -> int:
    """Compute an incident's severity from the severity assessment checklist.

    Give the five answers as options, or run it in a terminal and answer the
    questions. Prints the computed severity, each checklist rule that applied,
    the escalation path and the response SLA. With --write INC_ID the answers
    are recorded in that incident's `assessment`, and its declared severity is
    compared with the computed one (`incidentops check` flags an under-declared
    severity unless a severity_override records the decision).

    \b
    Examples:
      incidentops assess --write INC_007
      incidentops assess --harm occurred --scope many_users --no-regulatory \\
          --reputational-risk high --no-exploitable-at-scale --type pii_exposure
    """
    given: dict[str, Any] = {
        "harm": harm,
        "scope": scope,
        "regulatory": regulatory,
        "reputational_risk": reputational_risk,
        "exploitable_at_scale": exploitable_at_scale,
    }
    registry, policy = _policy(root, write_id)
    incident: dict[str, Any] | None = None
    if write_id is not None:
        assert registry is not None
        incident = _incident(registry, write_id)
        incident_type = _incident_type(incident, write_id, incident_type)
    missing = [key for key in ANSWER_KEYS if given[key] is None]
    if missing:
        if not sys.stdin.isatty():
            raise click.UsageError(
                "missing answer(s): " + ", ".join(OPTION_NAMES[key] for key in missing)
                + ". Give every answer as an option, or run in a terminal to be asked."
            )
        previous = incident.get("assessment") if incident else None
        given.update(_ask(missing, policy, previous if isinstance(previous, Mapping) else {}))
        if incident_type is None and write_id is None:
            incident_type = _ask_type(policy)
    result = assess(given, policy, incident_type)
    declared: str | None = None
    if write_id is not None and registry is not None:
        path = registry.incident_path(write_id)
        _write(registry.root / path, path, given)
        registry.forget(path)
        value = incident.get("severity") if incident else None
        declared = value if isinstance(value, str) else None
    if fmt == "json":
        click.echo(json.dumps(_as_json(result, given, incident_type, policy, write_id, declared), indent=2))
    else:
        click.echo(_as_text(result, incident_type, policy, write_id, declared))
    return 0


def _policy(root: Path | None, write_id: str | None) -> tuple[Registry | None, Mapping[str, Any]]:
    if root is None and write_id is None:
        try:
            found = find_root()
        except IncidentOpsError:
            click.echo("incidentops: no registry here: using the built-in policy (the seed's rubric)", err=True)
            return None, default_policy()
        registry = Registry(found)
        return registry, registry.policy
    registry = Registry(resolve_root(root))
    return registry, registry.policy


def _incident(registry: Registry, incident_id: str) -> dict[str, Any]:
    check_id("incident", incident_id, "--write")
    data = registry.incident(incident_id)
    if data is None:
        ids = registry.incident_ids
        close = difflib.get_close_matches(incident_id, ids, n=1)
        raise IncidentOpsError(
            f"--write {incident_id}: there is no {registry.incident_path(incident_id)} that can be read",
            f"did you mean {close[0]}?" if close else "create it with `incidentops new incident`",
        )
    return data


def _incident_type(incident: Mapping[str, Any], incident_id: str, given: str | None) -> str | None:
    recorded = incident.get("type")
    recorded = recorded if isinstance(recorded, str) else None
    if given is not None and recorded is not None and given != recorded:
        raise IncidentOpsError(
            f"--type {given} differs from {incident_id}'s type {recorded}",
            f"drop --type, or change `type:` in {incident_id}'s record first",
        )
    return given or recorded


def _ask(missing: list[str], policy: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Ask the missing checklist questions in the seed's order (prompts go to stderr)."""
    checklist: Mapping[str, Any] = policy.get("checklist") or {}
    harm_map: Mapping[str, Any] = checklist.get("harm") or {}
    regulatory: Mapping[str, Any] = checklist.get("regulatory") or {}
    legal = " + ".join(str(t) for t in regulatory.get("escalate_to") or []) or "no team"
    questions: dict[str, tuple[str, list[str], tuple[str, ...]]] = {
        "harm": ("1. Harm occurred?", [f"{answer}: start at {sev}" for answer, sev in harm_map.items()], HARM),
        "scope": ("2. Scope of impact?", ["many_users: increase severity", "single_user: maintain severity",
                                         "internal_only: decrease severity"], SCOPE),
        "regulatory": ("3. Regulatory implications?",
                       [f"yes: at least {regulatory.get('minimum', 'SEV-1')}, involve {legal}", "no"], ("yes", "no")),
        "reputational_risk": ("4. Reputational risk?", ["high: consider SEV-0", "normal"], REPUTATIONAL),
        "exploitable_at_scale": ("5. Exploitable at scale?", ["yes: increase severity", "no"], ("yes", "no")),
    }
    answers: dict[str, Any] = {}
    for key in ANSWER_KEYS:
        if key not in missing:
            continue
        title, notes, choices = questions[key]
        click.echo(title, err=True)
        for note in notes:
            click.echo(f"   - {note}", err=True)
        default = previous.get(key)
        if isinstance(default, bool):
            default = "yes" if default else "no"
        value = click.prompt(
            "  answer", type=click.Choice(choices), err=True,
            default=default if default in choices else None, show_choices=True,
        )
        answers[key] = value == "yes" if choices == ("yes", "no") else value
    return answers


def _ask_type(policy: Mapping[str, Any]) -> str | None:
    types = [str(t.get("id")) for t in policy.get("incident_types") or [] if isinstance(t, Mapping)]
    if not types:
        return None
    click.echo("Incident type (adds its escalation path; `none` to skip)?", err=True)
    value = click.prompt("  type", type=click.Choice([*types, "none"]), default="none", err=True, show_choices=True)
    return None if value == "none" else str(value)


def _write(full: Path, display: str, answers: Mapping[str, Any]) -> None:
    def mutate(data: CommentedMap) -> None:
        block = data.get("assessment")
        if not isinstance(block, CommentedMap):
            block = CommentedMap()
            keys = list(data.keys())
            position = keys.index("escalations") if "escalations" in keys else len(keys)
            data.insert(position, "assessment", block)
        for key in ANSWER_KEYS:
            block[key] = answers[key]

    edit_file(full, mutate, display)


def _comparison(declared: str | None, computed: str, policy: Mapping[str, Any]) -> str | None:
    if declared is None:
        return None
    try:
        order = compare(declared, computed, policy)
    except IncidentOpsError:
        return None
    return {0: "matches", -1: "more-severe", 1: "under-declared"}[order]


def _as_json(
    result: Assessment,
    answers: Mapping[str, Any],
    incident_type: str | None,
    policy: Mapping[str, Any],
    write_id: str | None,
    declared: str | None,
) -> dict[str, Any]:
    level = severity_level(result.severity, policy)
    out: dict[str, Any] = {
        "severity": result.severity,
        "name": level.get("name"),
        "definition": level.get("definition"),
        "answers": dict(answers),
        "type": incident_type,
        "reasons": result.reasons,
        "advisories": result.advisories,
        "escalation_path": result.escalation_path,
        "response_sla_minutes": result.response_sla_minutes,
        "clock": result.clock,
        "response_mode": level.get("response_mode"),
    }
    if write_id is not None:
        out["incident"] = {
            "id": write_id,
            "path": f"incidents/{write_id}/incident.yaml",
            "declared_severity": declared,
            "comparison": _comparison(declared, result.severity, policy),
        }
    return out


def _as_text(
    result: Assessment,
    incident_type: str | None,
    policy: Mapping[str, Any],
    write_id: str | None,
    declared: str | None,
) -> str:
    level = severity_level(result.severity, policy)
    lines = ["Severity assessment checklist:"]
    lines.extend(f"  - {reason}" for reason in result.reasons)
    lines.append("")
    lines.append(f"Computed severity: {result.severity} ({level.get('name')}: {level.get('definition')})")
    for advisory in result.advisories:
        lines.append(f"Advisory: {advisory}")
    path = " -> ".join(result.escalation_path) or "none"
    lines.append(f"Escalation path: {path}" + ("" if incident_type else "  (give --type to add the type's path)"))
    clock = "business minutes" if result.clock == "business" else "minutes"
    mode = f", {level.get('response_mode')}" if level.get("response_mode") else ""
    lines.append(f"Response SLA: {result.response_sla_minutes} {clock} from detection{mode}")
    if write_id is not None:
        lines.append("")
        lines.append(f"Recorded the answers in incidents/{write_id}/incident.yaml (assessment).")
        comparison = _comparison(declared, result.severity, policy)
        if comparison == "under-declared":
            lines.append(
                f"Declared severity {declared} is less severe than the computed {result.severity}:"
                f" declare {result.severity}, or record a severity_override (reason, approver)."
            )
        elif comparison == "more-severe":
            lines.append(f"Declared severity {declared} is more severe than the computed {result.severity} (allowed).")
        elif comparison == "matches":
            lines.append(f"Declared severity {declared} matches the computed severity.")
        else:
            lines.append(f"Declared severity: {declared or 'none'}; set `severity: {result.severity}`.")
    return "\n".join(lines)
