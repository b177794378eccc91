"""Cross-record rules: ids match their files, references resolve, archive holds only RETIRED tests."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from incidentops.records.findings import ERROR, WARNING, Finding
from incidentops.records.kinds import kind_of
from incidentops.records.placeholders import RUN_STATES, placeholder_turns
from incidentops.records.yamlio import Document, Path_, label

if TYPE_CHECKING:
    from incidentops.checks import CheckContext


def _suggest(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _folder_id(path: str) -> str:
    return path.split("/")[1]


def _model_ref(ctx: CheckContext, doc: Document, field: str) -> Iterator[Finding]:
    version = doc.data.get(field)
    if not isinstance(version, str):
        return
    known = ctx.registry.model_versions
    if version not in known:
        hint = _suggest(version, list(known)) or (
            f"add it to models.yaml or use one of: {', '.join(known)}" if known else "add it to models.yaml"
        )
        yield doc.finding((field,), ERROR, "ref.model", f"{field}: model version '{version}' is not in models.yaml", hint)


def _incident_ref(ctx: CheckContext, doc: Document, field: tuple[str, ...]) -> Iterator[Finding]:
    value: object = doc.data
    for part in field:
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, str):
        return
    if value not in ctx.registry.incident_id_set:
        yield doc.finding(field, ERROR, "ref.incident", f"{'.'.join(field)}: incident '{value}' does not exist",
                          _suggest(value, ctx.registry.incident_ids)
                          or "check the id, or declare the incident under incidents/<id>/")


def incident_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    folder = _folder_id(path)
    if isinstance(data.get("id"), str) and data["id"] != folder:
        yield doc.finding(("id",), ERROR, "id.filename", f"id '{data['id']}' does not match its folder '{folder}'",
                          f"an incident lives in incidents/<id>/: set `id: {folder}` or rename the folder")
    yield from _model_ref(ctx, doc, "model_version")
    kind = data.get("type")
    types = [str(t.get("id")) for t in ctx.registry.policy.get("incident_types", []) if isinstance(t, dict)]
    if isinstance(kind, str) and types and kind not in types:
        yield doc.finding(("type",), ERROR, "ref.type", f"type: '{kind}' is not an incident type of the policy",
                          _suggest(kind, types) or f"one of: {', '.join(types)}")


def postmortem_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    folder = _folder_id(path)
    ref = doc.data.get("incident")
    if isinstance(ref, str) and ref != folder:
        yield doc.finding(("incident",), ERROR, "id.filename",
                          f"incident '{ref}' does not match the folder '{folder}' this postmortem lives in",
                          f"set `incident: {folder}`")
    if not (ctx.registry.root / "incidents" / folder / "incident.yaml").is_file():
        yield doc.finding(("incident",), ERROR, "ref.incident", f"there is no incidents/{folder}/incident.yaml for this postmortem",
                          "declare the incident next to its postmortem")


def handoff_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    folder = _folder_id(path)
    ref = doc.data.get("incident_id")
    if isinstance(ref, str) and ref != folder:
        yield doc.finding(("incident_id",), ERROR, "id.filename",
                          f"incident_id '{ref}' does not match the folder '{folder}' this handoff lives in",
                          f"set `incident_id: {folder}`")
    yield from _incident_ref(ctx, doc, ("incident_id",))
    rt = doc.data.get("regression_test")
    test_id = rt.get("test_id") if isinstance(rt, dict) else None
    if isinstance(test_id, str) and test_id not in ctx.registry.test_paths:
        # suggest only this incident's own tests that still run: never a retired one, nor another incident's
        own = [str(t["test_id"]) for _p, t in ctx.registry.tests()
               if t.get("incident_id") == folder and t.get("state") != "RETIRED" and isinstance(t.get("test_id"), str)]
        yield doc.finding(("regression_test", "test_id"), ERROR, "ref.test",
                          f"regression_test.test_id: test '{test_id}' does not exist",
                          _suggest(test_id, own)
                          or f"declare it in regressions/{test_id}.yaml (`incidentops new regression {folder}"
                             f" --test-id {test_id}` creates it)")


def regression_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    stem = path.rsplit("/", 1)[1][:-5]
    test_id = data.get("test_id")
    if isinstance(test_id, str) and test_id != stem:
        yield doc.finding(("test_id",), ERROR, "id.filename", f"test_id '{test_id}' does not match the file name '{stem}.yaml'",
                          f"rename the file to {test_id}.yaml or set `test_id: {stem}`")
    others = [p for p in ctx.registry.test_paths.get(stem, []) if p != path]
    if others:
        yield doc.finding(("test_id",), ERROR, "id.duplicate", f"test id '{stem}' is also used by {others[0]}",
                          "test ids are permanent and never reused; pick a new id")
    yield from _incident_ref(ctx, doc, ("incident_id",))
    yield from _model_ref(ctx, doc, "model_version")
    state = data.get("state")
    archived = path.startswith("regressions/archive/")
    if archived and state != "RETIRED":
        yield doc.finding(("state",), ERROR, "archive.location",
                          f"regressions/archive/ holds only RETIRED tests; this one is {state}",
                          "move it back to regressions/ or retire it with `incidentops lifecycle retire`")
    if not archived and state == "RETIRED":
        yield doc.finding(("state",), ERROR, "archive.location", "a RETIRED test must live in regressions/archive/",
                          "use `incidentops lifecycle retire`, which archives the file and writes the audit entry")
    if state == "RETIRED" and isinstance(test_id, str) and test_id not in _retired_in_audit(ctx):
        yield doc.finding(("state",), ERROR, "archive.audit", f"RETIRED test '{test_id}' has no RETIRE_REGRESSION audit entry",
                          "the retirement ceremony writes one under audit/; add it with the reason and approver")
    scenario_file = data.get("scenario_file")
    if isinstance(scenario_file, str) and not (ctx.registry.root / scenario_file).is_file():
        yield doc.finding(("scenario_file",), ERROR, "ref.scenario", f"scenario_file '{scenario_file}' does not exist",
                          "give a path relative to the registry root, e.g. scenarios/<name>.yaml")


def _retired_in_audit(ctx: CheckContext) -> set[str]:
    """Test ids with a RETIRE_REGRESSION audit entry: read once per check, not once per test."""
    key = "rules.retired-in-audit"
    if key not in ctx.cache:
        ctx.cache[key] = {
            str(d.get("test_id")) for _, d in ctx.registry.audit_entries() if d.get("action") == "RETIRE_REGRESSION"
        }
    found: set[str] = ctx.cache[key]
    return found


def audit_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    data = doc.data
    test_id = data.get("test_id")
    if isinstance(test_id, str) and test_id not in ctx.registry.test_paths:
        yield doc.finding(("test_id",), ERROR, "ref.test", f"test_id: test '{test_id}' does not exist",
                          "audit entries refer to tests that stay in regressions/archive/ forever")
    yield from _incident_ref(ctx, doc, ("original_incident",))
    codes = ctx.registry.policy.get("regression", {}).get("retirement_reason_codes", [])
    code = data.get("reason_code")
    if isinstance(code, str) and codes and code not in codes:
        yield doc.finding(("reason_code",), ERROR, "audit.reason-code", f"reason_code '{code}' is not one of {', '.join(codes)}",
                          _suggest(code, codes))


def models_rules(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    models = doc.data.get("models")
    if not isinstance(models, list):
        return
    seen: dict[str, int] = {}
    for index, model in enumerate(models):
        if not isinstance(model, dict):
            continue
        version = model.get("version")
        if isinstance(version, str):
            if version in seen:
                yield doc.finding(("models", index, "version"), ERROR, "id.duplicate",
                                  f"model version '{version}' is listed twice", "each version appears once")
            seen[version] = index
    for index, model in enumerate(models):
        pred = model.get("predecessor") if isinstance(model, dict) else None
        if isinstance(pred, str) and pred not in seen:
            yield doc.finding(("models", index, "predecessor"), ERROR, "ref.model",
                              f"predecessor '{pred}' is not a listed model version", _suggest(pred, list(seen)))
    current = doc.data.get("current")
    if isinstance(current, str) and current not in seen:
        yield doc.finding(("current",), ERROR, "ref.model", f"current model '{current}' is not listed under models",
                          _suggest(current, list(seen)))



RULES = {
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
    skip = set(_placeholder_lines(doc)) if kind_of(path) is not None and path.startswith("regressions/") else set()
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


def _placeholder_lines(doc: Document) -> list[int]:
    data = doc.data if isinstance(doc.data, dict) else {}
    turns = data.get("turns")
    if data.get("state") not in RUN_STATES or not isinstance(turns, list):
        return []
    return [doc.where(("turns", number - 1))[0] for number in placeholder_turns(turns)]


def placeholder_turn_rule(ctx: CheckContext, path: str, doc: Document) -> Iterator[Finding]:
    """``regression.placeholder-turn``: a test that runs must replay the attack, not the scaffold's TODO."""
    data = doc.data
    state = data.get("state")
    if state not in RUN_STATES:
        return
    turns = data.get("turns")
    where: Path_ = ("turns",)
    source = ""
    scenario_file = data.get("scenario_file")
    if turns is None and isinstance(scenario_file, str) and kind_of(scenario_file) is not None:
        scenario = ctx.registry.data(scenario_file)
        turns = scenario.get("turns") if scenario else None
        where, source = ("scenario_file",), f" (in {scenario_file})"
    if not isinstance(turns, list):
        return
    for number in placeholder_turns(turns):
        at = (*where, number - 1) if where == ("turns",) else where
        yield doc.finding(
            at, ERROR, "regression.placeholder-turn",
            f"turn {number}{source} is a placeholder, not the attack, and the test is {state}: replayed to the model"
            " it proves nothing, so the gate could pass a release that repeats the incident",
            "write the attack's user turn from the incident's transcript before the test joins the suite",
        )


RULES["*"] = [todo_rule]
RULES["regression"].append(placeholder_turn_rule)
