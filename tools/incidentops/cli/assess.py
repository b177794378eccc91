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
from incidentops.policy.severity import (
    ANSWER_KEYS,
    UNKNOWN,
    Assessment,
    assess,
    compare,
    severity_level,
)
from incidentops.records.errors import IncidentOpsError
from incidentops.records.kinds import check_id
from incidentops.records.model import Assessment as IncidentAssessment
from incidentops.records.model import Policy
from incidentops.records.registry import Registry, default_policy_record, find_root, resolve_root
from incidentops.records.yamledit import edit_file, mapping_at
from incidentops.records.yamlio import Document

HARM = ("occurred", "imminent", "potential", UNKNOWN)
SCOPE = ("many_users", "single_user", "internal_only", UNKNOWN)
REPUTATIONAL = ("high", "normal", UNKNOWN)
YES_NO = ("yes", "no", UNKNOWN)


class PrefixChoice(click.Choice):  # type: ignore[type-arg]
    """A choice that takes any case and any unambiguous prefix (`occ`, `Occurred`, `u`)."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        super().__init__(choices, case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            typed = value.strip().casefold().replace("-", "_").replace(" ", "_")
            exact = [c for c in self.choices if str(c).casefold() == typed]
            starts = [c for c in self.choices if str(c).casefold().startswith(typed)] if typed else []
            if exact:
                return exact[0]
            if len(starts) == 1:
                return starts[0]
            if len(starts) > 1:
                self.fail(f"{value!r} could be {' or '.join(map(str, starts))}: type a few more letters",
                          param, ctx)
        return super().convert(value, param, ctx)


class TriState(PrefixChoice):
    """yes / no / unknown, as True / False / ``unknown`` (counted as yes)."""

    def __init__(self) -> None:
        super().__init__(YES_NO)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().casefold() in ("true", "y"):
            return True
        if isinstance(value, str) and value.strip().casefold() in ("false",):
            return False
        answer = super().convert(value, param, ctx)
        return {"yes": True, "no": False}.get(str(answer), UNKNOWN)

OPTION_NAMES = {
    "harm": "--harm",
    "scope": "--scope",
    "regulatory": "--regulatory",
    "reputational_risk": "--reputational-risk",
    "exploitable_at_scale": "--exploitable-at-scale",
}


@click.command("assess")
@click.option("--harm", type=PrefixChoice(HARM), default=None,
              help="1. Harm occurred? occurred (at least SEV-1), imminent (SEV-2), potential only (SEV-3),"
                   " unknown (counts as occurred).")
@click.option("--scope", type=PrefixChoice(SCOPE), default=None,
              help="2. Scope of impact? many_users (increase), single_user (maintain), internal_only (decrease),"
                   " unknown (counts as many_users).")
@click.option("--regulatory", "regulatory", type=TriState(), is_flag=False, flag_value="yes", default=None,
              metavar="[yes|no|unknown]",
              help="3. Regulatory implications? yes (the default when no value is given): at least SEV-1, involve"
                   " Legal; unknown counts as yes.")
@click.option("--no-regulatory", "no_regulatory", is_flag=True, help="Same as --regulatory no.")
@click.option("--reputational-risk", "reputational_risk", type=PrefixChoice(REPUTATIONAL), default=None,
              help="4. Reputational risk? high (consider SEV-0), normal, unknown (counts as high).")
@click.option("--exploitable-at-scale", "exploitable_at_scale", type=TriState(), is_flag=False, flag_value="yes",
              default=None, metavar="[yes|no|unknown]",
              help="5. Exploitable at scale? yes (the default when no value is given): increase severity;"
                   " unknown counts as yes.")
@click.option("--no-exploitable-at-scale", "no_exploitable", is_flag=True, help="Same as --exploitable-at-scale no.")
@click.option("--type", "incident_type", metavar="TYPE", default=None,
              help="Incident type id from the policy (adds its escalation path). Default with --write: the incident's type.")
@click.option("--write", "write_id", metavar="INC_ID", default=None,
              help="Record the answers in this incident's `assessment` (comments and layout are kept).")
@click.option("--set-severity/--keep-severity", "set_severity", default=None,
              help="With --write: also record the computed severity as the incident's `severity`"
                   " (--keep-severity only compares). Default: asked in a terminal, kept otherwise.")
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(
    harm: str | None,
    scope: str | None,
    regulatory: bool | str | None,
    no_regulatory: bool,
    reputational_risk: str | None,
    exploitable_at_scale: bool | str | None,
    no_exploitable: bool,
    incident_type: str | None,
    write_id: str | None,
    set_severity: bool | None,
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
    regulatory = _negated("regulatory", regulatory, no_regulatory)
    exploitable_at_scale = _negated("exploitable-at-scale", exploitable_at_scale, no_exploitable)
    given: dict[str, Any] = {
        "harm": harm,
        "scope": scope,
        "regulatory": regulatory,
        "reputational_risk": reputational_risk,
        "exploitable_at_scale": exploitable_at_scale,
    }
    registry, policy = _policy(root, write_id)
    incident: Document | None = None  # as written, valid or not: `assess --write` is how a blank answer is filled
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
        given.update(_ask(missing, policy, incident))
        if incident_type is None and write_id is None:
            incident_type = _ask_type(policy)
    result = assess(IncidentAssessment(**given), policy, incident_type)
    declared: str | None = None
    recorded: str | None = None
    if set_severity is not None and write_id is None:
        raise click.UsageError("--set-severity and --keep-severity go with --write INC_ID")
    if write_id is not None and registry is not None:
        path = registry.incident_path(write_id)
        declared = incident.string(("severity",)) if incident is not None else None
        if set_severity is None and declared != result.severity and sys.stdin.isatty():
            set_severity = click.confirm(
                f"Record the computed {result.severity} as {write_id}'s severity (declared: {declared or 'none'})?",
                default=_comparison(declared, result.severity, policy) != "more-severe", err=True,
            )
        severity = result.severity if set_severity and declared != result.severity else None
        _write(registry.root / path, path, given, severity)
        registry.forget(path)
        if severity is not None:
            recorded, declared = declared or "none", severity
    if fmt == "json":
        out = _as_json(result, given, incident_type, policy, write_id, declared)
        if write_id is not None:
            out["incident"]["severity_set_from"] = recorded
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(_as_text(result, incident_type, policy, write_id, declared, recorded))
    return 0


def _negated(name: str, value: bool | str | None, negated: bool) -> bool | str | None:
    if negated and value is not None:
        raise click.UsageError(f"--{name} and --no-{name} exclude each other")
    return False if negated else value


def _policy(root: Path | None, write_id: str | None) -> tuple[Registry | None, Policy]:
    if root is None and write_id is None:
        try:
            found = find_root()
        except IncidentOpsError:
            click.echo("incidentops: no registry here: using the built-in policy (the seed's rubric)", err=True)
            return None, default_policy_record()
        registry = Registry(found)
        return registry, registry.policy_record
    registry = Registry(resolve_root(root))
    return registry, registry.policy_record


def _incident(registry: Registry, incident_id: str) -> Document:
    check_id("incident", incident_id, "--write")
    doc = registry.doc(registry.incident_path(incident_id))
    if doc is None or doc.data is None:
        ids = registry.incident_ids
        close = difflib.get_close_matches(incident_id, ids, n=1)
        raise IncidentOpsError(
            f"--write {incident_id}: there is no {registry.incident_path(incident_id)} that can be read",
            f"did you mean {close[0]}?" if close else "create it with `incidentops new incident`",
        )
    return doc


def _incident_type(incident: Document, incident_id: str, given: str | None) -> str | None:
    recorded = incident.string(("type",))
    if given is not None and recorded is not None and given != recorded:
        raise IncidentOpsError(
            f"--type {given} differs from {incident_id}'s type {recorded}",
            f"drop --type, or change `type:` in {incident_id}'s record first",
        )
    return given or recorded


def _ask(missing: list[str], policy: Policy, incident: Document | None) -> dict[str, Any]:
    """Ask the missing checklist questions in the seed's order (prompts go to stderr).

    An answer the incident already records is the default (``true``/``false`` as yes/no).
    """
    harm = policy.checklist.harm
    harm_map = {"occurred": harm.occurred, "imminent": harm.imminent, "potential": harm.potential}
    regulatory = policy.checklist.regulatory
    legal = " + ".join(regulatory.escalate_to) or "no team"
    questions: dict[str, tuple[str, list[str], tuple[str, ...]]] = {
        "harm": ("1. Harm occurred?", [f"{answer}: start at {sev}" for answer, sev in harm_map.items()], HARM),
        # every question also takes `unknown`: it counts as the most severe answer
        "scope": ("2. Scope of impact?", ["many_users: increase severity", "single_user: maintain severity",
                                         "internal_only: decrease severity"], SCOPE),
        "regulatory": ("3. Regulatory implications?",
                       [f"yes: at least {regulatory.minimum}, involve {legal}", "no"], YES_NO),
        "reputational_risk": ("4. Reputational risk?", ["high: consider SEV-0", "normal"], REPUTATIONAL),
        "exploitable_at_scale": ("5. Exploitable at scale?", ["yes: increase severity", "no"], YES_NO),
    }
    answers: dict[str, Any] = {}
    click.echo("Answer each question (any case, or the first letters of an answer; `unknown` counts as the"
               " most severe answer).", err=True)
    for key in ANSWER_KEYS:
        if key not in missing:
            continue
        title, notes, choices = questions[key]
        click.echo(title, err=True)
        for note in (*notes, "unknown: counts as the most severe answer"):
            click.echo(f"   - {note}", err=True)
        written = incident.scalar(("assessment", key)) if incident is not None else None
        default = {"True": "yes", "False": "no"}.get(written or "", written)
        value = click.prompt(
            "  answer", type=TriState() if choices == YES_NO else PrefixChoice(choices), err=True,
            default=default if default in choices else None, show_choices=True,
        )
        answers[key] = value
    return answers


def _ask_type(policy: Policy) -> str | None:
    types = [t.id for t in policy.incident_types]
    if not types:
        return None
    click.echo("Incident type (adds its escalation path; `none` to skip)?", err=True)
    value = click.prompt("  type", type=PrefixChoice((*types, "none")), default="none", err=True, show_choices=True)
    return None if value == "none" else str(value)


def _write(full: Path, display: str, answers: Mapping[str, Any], severity: str | None = None) -> None:
    def mutate(data: CommentedMap) -> None:
        if severity is not None:
            data["severity"] = severity
        block = mapping_at(data, "assessment", before="escalations")
        for key in ANSWER_KEYS:
            block[key] = answers[key]

    edit_file(full, mutate, display)


def _comparison(declared: str | None, computed: str, policy: Policy) -> str | None:
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
    policy: Policy,
    write_id: str | None,
    declared: str | None,
) -> dict[str, Any]:
    level = severity_level(result.severity, policy)
    out: dict[str, Any] = {
        "severity": result.severity,
        "name": level.name,
        "definition": level.definition,
        "answers": dict(answers),
        "type": incident_type,
        "reasons": result.reasons,
        "advisories": result.advisories,
        "escalation_path": result.escalation_path,
        "response_sla_minutes": result.response_sla_minutes,
        "clock": result.clock,
        "response_mode": level.response_mode,
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
    policy: Policy,
    write_id: str | None,
    declared: str | None,
    recorded: str | None = None,
) -> str:
    level = severity_level(result.severity, policy)
    lines = ["Severity assessment checklist:"]
    lines.extend(f"  - {reason}" for reason in result.reasons)
    lines.append("")
    lines.append(f"Computed severity: {result.severity} ({level.name}: {level.definition})")
    for advisory in result.advisories:
        lines.append(f"Advisory: {advisory}")
    path = " -> ".join(result.escalation_path) or "none"
    lines.append(f"Escalation path: {path}" + ("" if incident_type else "  (give --type to add the type's path)"))
    clock = "business minutes" if result.clock == "business" else "minutes"
    mode = f", {level.response_mode}" if level.response_mode else ""
    lines.append(f"Response SLA: {result.response_sla_minutes} {clock} from detection{mode}")
    if write_id is not None:
        lines.append("")
        lines.append(f"Recorded the answers in incidents/{write_id}/incident.yaml (assessment).")
        if recorded is not None:
            lines.append(f"Recorded the severity: {declared} (was {recorded}).")
        comparison = _comparison(declared, result.severity, policy)
        if comparison == "under-declared":
            lines.append(
                f"Declared severity {declared} is less severe than the computed {result.severity}:"
                f" declare {result.severity} (`--set-severity` records it), or record a severity_override"
                " (reason, approver)."
            )
        elif comparison == "more-severe":
            lines.append(f"Declared severity {declared} is more severe than the computed {result.severity} (allowed).")
        elif comparison == "matches":
            lines.append(f"Declared severity {declared} matches the computed severity.")
        else:
            lines.append(f"Declared severity: {declared or 'none'}; set `severity: {result.severity}`.")
    return "\n".join(lines)
