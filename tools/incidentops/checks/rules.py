"""Cross-record rules: ids match their files, references resolve, archive holds only RETIRED tests."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.kinds import kind_of
from incidentops.records.model import (
    AuditEntry,
    Handoff,
    Incident,
    ModelLineage,
    Policy,
    Postmortem,
    RegressionTest,
    Scenario,
    Source,
    State,
)
from incidentops.records.placeholders import RUN_STATES, placeholder_turns
from incidentops.records.redact import entry_problem
from incidentops.records.yamlio import Document, Path_, label

if TYPE_CHECKING:
    from incidentops.checks import CheckContext


def _suggest(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _folder_id(path: str) -> str:
    return path.split("/")[1]


def _model_ref(ctx: CheckContext, source: Source, field: str, version: str) -> Iterator[Finding]:
    known = ctx.registry.model_versions
    if version not in known:
        hint = _suggest(version, list(known)) or (
            f"add it to models.yaml or use one of: {', '.join(known)}" if known else "add it to models.yaml"
        )
        yield source.finding((field,), ERROR, "ref.model", f"{field}: model version '{version}' is not in models.yaml", hint)


def _incident_ref(ctx: CheckContext, source: Source, field: tuple[str, ...], value: str) -> Iterator[Finding]:
    if value not in ctx.registry.incident_id_set:
        yield source.finding(field, ERROR, "ref.incident", f"{'.'.join(field)}: incident '{value}' does not exist",
                             _suggest(value, ctx.registry.incident_ids)
                             or "check the id, or declare the incident under incidents/<id>/")


def incident_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    incident = ctx.registry.typed(Incident, path)
    if incident is None:
        return
    source, folder = incident.source, _folder_id(path)
    if incident.id != folder:
        yield source.finding(("id",), ERROR, "id.filename", f"id '{incident.id}' does not match its folder '{folder}'",
                             f"an incident lives in incidents/<id>/: set `id: {folder}` or rename the folder")
    yield from _model_ref(ctx, source, "model_version", incident.model_version)
    types = [t.id for t in ctx.registry.policy_record.incident_types]
    if types and incident.type not in types:
        yield source.finding(("type",), ERROR, "ref.type", f"type: '{incident.type}' is not an incident type of the policy",
                             _suggest(incident.type, types) or f"one of: {', '.join(types)}")


def postmortem_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    postmortem = ctx.registry.typed(Postmortem, path)
    if postmortem is None:
        return
    folder = _folder_id(path)
    if postmortem.incident != folder:
        yield postmortem.source.finding(("incident",), ERROR, "id.filename",
                                        f"incident '{postmortem.incident}' does not match the folder '{folder}' this"
                                        " postmortem lives in", f"set `incident: {folder}`")
    if not (ctx.registry.root / "incidents" / folder / "incident.yaml").is_file():
        yield postmortem.source.finding(("incident",), ERROR, "ref.incident",
                                        f"there is no incidents/{folder}/incident.yaml for this postmortem",
                                        "declare the incident next to its postmortem")


def handoff_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    handoff = ctx.registry.typed(Handoff, path)
    if handoff is None:
        return
    source, folder = handoff.source, _folder_id(path)
    if handoff.incident_id != folder:
        yield source.finding(("incident_id",), ERROR, "id.filename",
                             f"incident_id '{handoff.incident_id}' does not match the folder '{folder}' this handoff"
                             " lives in", f"set `incident_id: {folder}`")
    yield from _incident_ref(ctx, source, ("incident_id",), handoff.incident_id)
    test_id = handoff.regression_test.test_id
    if test_id not in ctx.registry.test_paths:
        # suggest only this incident's own tests that still run: never a retired one, nor another incident's
        own = [t.test_id for t in ctx.registry.test_records() if t.incident_id == folder and t.state is not State.RETIRED]
        yield source.finding(("regression_test", "test_id"), ERROR, "ref.test",
                             f"regression_test.test_id: test '{test_id}' does not exist",
                             _suggest(test_id, own)
                             or f"declare it in regressions/{test_id}.yaml (`incidentops new regression {folder}"
                                f" --test-id {test_id}` creates it)")


def regression_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    test = ctx.registry.typed(RegressionTest, path)
    if test is None:
        return
    source, test_id, state = test.source, test.test_id, test.state
    stem = path.rsplit("/", 1)[1][:-5]
    if test_id != stem:
        yield source.finding(("test_id",), ERROR, "id.filename", f"test_id '{test_id}' does not match the file name '{stem}.yaml'",
                             f"rename the file to {test_id}.yaml or set `test_id: {stem}`")
    others = [p for p in ctx.registry.test_paths.get(stem, []) if p != path]
    if others:
        yield source.finding(("test_id",), ERROR, "id.duplicate", f"test id '{stem}' is also used by {others[0]}",
                             "test ids are permanent and never reused; pick a new id")
    yield from _incident_ref(ctx, source, ("incident_id",), test.incident_id)
    yield from _model_ref(ctx, source, "model_version", test.model_version)
    archived = path.startswith("regressions/archive/")
    if archived and state is not State.RETIRED:
        yield source.finding(("state",), ERROR, "archive.location",
                             f"regressions/archive/ holds only RETIRED tests; this one is {state}",
                             "move it back to regressions/ or retire it with `incidentops lifecycle retire`")
    if not archived and state is State.RETIRED:
        yield source.finding(("state",), ERROR, "archive.location", "a RETIRED test must live in regressions/archive/",
                             "use `incidentops lifecycle retire`, which archives the file and writes the audit entry")
    if state is State.RETIRED and test_id not in _retired_in_audit(ctx):
        yield source.finding(("state",), ERROR, "archive.audit", f"RETIRED test '{test_id}' has no RETIRE_REGRESSION audit entry",
                             "the retirement ceremony writes one under audit/; add it with the reason and approver")
    if test.scenario_file is not None and not (ctx.registry.root / test.scenario_file).is_file():
        yield source.finding(("scenario_file",), ERROR, "ref.scenario", f"scenario_file '{test.scenario_file}' does not exist",
                             "give a path relative to the registry root, e.g. scenarios/<name>.yaml")


def _retired_in_audit(ctx: CheckContext) -> set[str]:
    """Test ids with a RETIRE_REGRESSION audit entry: read once per check, not once per test."""
    key = "rules.retired-in-audit"
    if key not in ctx.cache:
        ctx.cache[key] = {entry.test_id for entry in ctx.registry.audit_records() if entry.action == "RETIRE_REGRESSION"}
    found: set[str] = ctx.cache[key]
    return found


def audit_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    entry = ctx.registry.typed(AuditEntry, path)
    if entry is None:
        return
    if entry.test_id not in ctx.registry.test_paths:
        yield entry.source.finding(("test_id",), ERROR, "ref.test", f"test_id: test '{entry.test_id}' does not exist",
                                   "audit entries refer to tests that stay in regressions/archive/ forever")
    yield from _incident_ref(ctx, entry.source, ("original_incident",), entry.original_incident)
    codes = list(ctx.registry.policy_record.regression.retirement_reason_codes)
    if codes and entry.reason_code not in codes:
        yield entry.source.finding(("reason_code",), ERROR, "audit.reason-code",
                                   f"reason_code '{entry.reason_code}' is not one of {', '.join(codes)}",
                                   _suggest(entry.reason_code, codes))


def models_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    lineage = ctx.registry.typed(ModelLineage, path)
    if lineage is None:
        return
    seen: dict[str, int] = {}
    for index, model in enumerate(lineage.models):
        if model.version in seen:
            yield model.source.finding(("version",), ERROR, "id.duplicate",
                                       f"model version '{model.version}' is listed twice", "each version appears once")
        seen[model.version] = index
    for model in lineage.models:
        if model.predecessor is not None and model.predecessor not in seen:
            yield model.source.finding(("predecessor",), ERROR, "ref.model",
                                       f"predecessor '{model.predecessor}' is not a listed model version",
                                       _suggest(model.predecessor, list(seen)))
    if lineage.current not in seen:
        yield lineage.source.finding(("current",), ERROR, "ref.model",
                                     f"current model '{lineage.current}' is not listed under models",
                                     _suggest(lineage.current, list(seen)))


def policy_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``policy.redact-field``: every ``public_edition`` entry names a field of its kind's records.

    An entry that names none redacts nothing, so a typo (``incident.assesment.harm``)
    would publish the field it was meant to hold back: an error for ``redact``; in
    ``publish`` it publishes nothing (a warning).
    """
    policy = ctx.registry.typed(Policy, path)
    section = policy.public_edition if policy is not None else None
    if section is None:
        return
    for index, entry in enumerate(section.redact or ()):
        problem = entry_problem(entry)
        if problem is not None:
            yield section.source.finding(("redact", index), ERROR, "policy.redact-field",
                                         f"public_edition.redact: {problem[0]}, so nothing is redacted"
                                         " and the field is published", problem[1])
    for record_id, entries in section.publish.items():
        for index, entry in enumerate(entries):
            problem = entry_problem(entry)
            if problem is not None:
                yield section.source.finding(("publish", record_id, index), WARNING, "policy.redact-field",
                                             f"public_edition.publish.{record_id}: {problem[0]}, so it"
                                             " publishes nothing", problem[1])


RULES = {
    "policy": [policy_rules],
    "incident": [incident_rules],
    "postmortem": [postmortem_rules],
    "handoff": [handoff_rules],
    "regression": [regression_rules],
    "audit": [audit_rules],
    "models": [models_rules],
}


def todo_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """Scaffolds mark what is left to fill in with TODO; say so, naming the field, until it is done.

    A placeholder attack turn of a test that runs is ``regression.placeholder-turn`` (an
    error), so it is not reported twice.
    """
    if "TODO" not in doc.text:
        return
    placed = sorted((*((pos, p) for p, pos in doc.values.items()), *((pos, p) for p, pos in doc.keys.items())),
                    key=lambda entry: entry[0])
    skip = set(_placeholder_lines(ctx, path)) if kind_of(path) is not None and path.startswith("regressions/") else set()
    lines = doc.text.splitlines()
    for number, line in enumerate(lines, start=1):
        col = line.find("TODO")
        if col < 0 or number in skip:
            continue
        where = _todo_field(doc, placed, lines, number, col + 1)
        yield Finding(path, number, col + 1, WARNING, "record.todo", f"unfinished: {where} still holds a TODO",
                      "fill in the value the scaffold asks for, then remove the TODO")


def _todo_field(doc: Document, placed: list[tuple[tuple[int, int], Path_]], lines: list[str],
                line: int, col: int) -> str:
    """The field a TODO at (line, col) belongs to, for the message."""
    if doc.body_line and line >= doc.body_line:
        for number in range(line, doc.body_line - 1, -1):
            text = lines[number - 1].strip()
            if text.startswith("#") and text.lstrip("#").startswith(" "):
                return f"the section '{text.lstrip('#').strip()}' of the Markdown body"
        return "the Markdown body"
    index = bisect.bisect_right(placed, (line, col), key=lambda entry: entry[0])
    for (found_line, _), field_path in reversed(placed[:index]):
        if field_path and (found_line == line or _inside(lines, found_line, line)):
            return f"`{label(field_path)}`"
    return "the record"


def _inside(lines: list[str], start: int, line: int) -> bool:
    """Whether ``line`` continues the value that starts on line ``start`` (more indented, or blank)."""
    head = lines[start - 1]
    indent = len(head) - len(head.lstrip(" "))
    for number in range(start + 1, line + 1):
        text = lines[number - 1]
        if text.strip() and len(text) - len(text.lstrip(" ")) <= indent:
            return False
    return True


def _placeholder_lines(ctx: CheckContext, path: str) -> list[int]:
    test = ctx.registry.typed(RegressionTest, path)
    if test is None or test.state not in RUN_STATES:
        return []
    return [test.source.where("turns", number - 1)[0] for number in placeholder_turns(test.turns)]


def placeholder_turn_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``regression.placeholder-turn``: a test that runs must replay the attack, not the scaffold's TODO."""
    test = ctx.registry.typed(RegressionTest, path)
    if test is None or test.state not in RUN_STATES:
        return
    turns: tuple[str, ...] = test.turns
    where: Path_ = ("turns",)
    source = ""
    if not turns and test.scenario_file is not None and kind_of(test.scenario_file) is not None:
        scenario = ctx.registry.typed(Scenario, test.scenario_file)
        if scenario is None:
            return
        turns, where, source = scenario.turns, ("scenario_file",), f" (in {test.scenario_file})"
    for number in placeholder_turns(turns):
        at = (*where, number - 1) if where == ("turns",) else where
        yield test.source.finding(
            at, ERROR, "regression.placeholder-turn",
            f"turn {number}{source} is a placeholder, not the attack, and the test is {test.state}: replayed to the"
            " model it proves nothing, so the gate could pass a release that repeats the incident",
            "write the attack's user turn from the incident's transcript before the test joins the suite",
        )


RULES["*"] = [todo_rule]
RULES["regression"].append(placeholder_turn_rule)
