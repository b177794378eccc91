"""JSON Schemas and the example registry: schemas are well-formed and documented, records validate."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from incidentops.records.validate import validate as check_schema
from incidentops.records.yamlio import load_bytes

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "tools" / "incidentops" / "records" / "schemas"
SCHEMA_BASE = "https://incidentops.dev/schemas/"
OWN_SCHEMAS = ("policy", "models", "incident", "postmortem", "handoff", "regression", "audit")
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")

# Which example record files each schema validates (paths relative to the registry root).
RECORD_GLOBS: dict[str, tuple[str, ...]] = {
    "policy": ("incidentops.yaml",),
    "models": ("models.yaml",),
    "incident": ("incidents/*/incident.yaml",),
    "postmortem": ("incidents/*/postmortem.md",),
    "handoff": ("incidents/*/handoff.yaml",),
    "regression": ("regressions/*.yaml", "regressions/archive/*.yaml"),
    "audit": ("audit/*.yaml",),
}


def _schema_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("*.schema.json"))


def _load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    return data


def _validator(name: str) -> jsonschema.Draft202012Validator:
    cls = jsonschema.Draft202012Validator
    return cls(_load_schema(name), format_checker=cls.FORMAT_CHECKER)


def _record_files() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for name, globs in RECORD_GLOBS.items():
        for pattern in globs:
            found.extend((name, path) for path in sorted(ROOT.glob(pattern)))
    return found


def _front_matter(text: str) -> str:
    """The text between the first two `---` lines of a Markdown record."""
    lines = text.split("\n")
    assert lines[0] == "---", "a postmortem starts with its front matter"
    end = lines.index("---", 1)
    return "\n".join(lines[1:end])


def _record_text(name: str, path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return _front_matter(text) if name == "postmortem" else text


def _load_record(name: str, path: Path) -> Any:
    return yaml.safe_load(_record_text(name, path))


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every property schema at every depth, including array items and conditional branches."""
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            yield f"{where}.{key}", sub
        for key, value in node.items():
            if key == "properties":
                for name, sub in value.items():
                    yield from _properties(sub, f"{where}.{name}")
            elif key not in ("default", "enum", "const", "examples"):
                yield from _properties(value, where)
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item, where)


def _record_id(item: tuple[str, Path]) -> str:
    return item[1].relative_to(ROOT).as_posix()


# ---------------------------------------------------------------- schemas


def test_every_record_kind_has_its_schema() -> None:
    present = {p.name.removesuffix(".schema.json") for p in _schema_files()}
    assert set(OWN_SCHEMAS) <= present


@pytest.mark.parametrize("path", _schema_files(), ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12_with_id(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_BASE + path.name
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("path", _schema_files(), ids=lambda p: p.name)
def test_every_property_has_title_and_description(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    props = list(_properties(schema))
    assert props, "a record schema describes its fields"
    undocumented = [where for where, sub in props if not (sub.get("title") and sub.get("description"))]
    assert undocumented == []


@pytest.mark.parametrize("name", OWN_SCHEMAS)
def test_record_objects_reject_unknown_fields(name: str) -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "properties" in node and "type" in node:
                yield node
            for key, value in node.items():
                if key not in ("default", "enum", "const", "if"):
                    yield from objects(value)
        elif isinstance(node, list):
            for item in node:
                yield from objects(item)

    found = list(objects(_load_schema(name)))
    assert found
    assert all(obj.get("additionalProperties") is False for obj in found)


def _defaults(schema: dict[str, Any]) -> Any:
    """The document the schema's `default` keywords describe."""
    if "default" in schema:
        return schema["default"]
    return {key: _defaults(sub) for key, sub in schema["properties"].items()}


def test_policy_schema_defaults_are_the_shipped_policy() -> None:
    policy = _load_record("policy", ROOT / "tools" / "incidentops" / "scaffold" / "incidentops.yaml")
    assert _defaults(_load_schema("policy")) == policy
    # the example registry's policy is the default one, with its import declared and one test's turns published
    example = _load_record("policy", ROOT / "incidentops.yaml")
    assert example["history"] == {"imported_before": "2026-11-28T00:00:00Z", "import_commit": None}
    assert example["public_edition"]["publish"] == {"regression_INC_004": ["regression.turns"]}
    assert {**example, "history": policy["history"], "public_edition": policy["public_edition"]} == policy


# ---------------------------------------------------------------- example registry


@pytest.mark.parametrize("item", _record_files(), ids=_record_id)
def test_example_record_validates(item: tuple[str, Path]) -> None:
    name, path = item
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in _validator(name).iter_errors(_load_record(name, path))
    ]
    assert errors == []


@pytest.mark.parametrize("item", _record_files(), ids=_record_id)
def test_example_record_names_its_schema_on_its_first_line(item: tuple[str, Path]) -> None:
    name, path = item
    text = _record_text(name, path) if name == "postmortem" else path.read_text(encoding="utf-8")
    match = MODELINE.match(text)
    assert match, "the first line is the yaml-language-server modeline"
    target = (path.parent / match.group(1)).resolve()
    assert target == (SCHEMA_DIR / f"{name}.schema.json").resolve()


def test_example_registry_covers_every_kind_and_state() -> None:
    records = [(name, _load_record(name, path)) for name, path in _record_files()]
    incidents = [data for name, data in records if name == "incident"]
    tests = [data for name, data in records if name == "regression"]
    assert {i["type"] for i in incidents} == {
        "mass_harmful_output", "pii_exposure", "policy_violation_isolated", "policy_erosion",
        "false_positive_spike",
    }
    assert {i["severity"] for i in incidents} == {"SEV-0", "SEV-1", "SEV-2", "SEV-3"}
    assert sum(i["visibility"] == "internal" for i in incidents) >= 2
    states = [t["state"] for t in tests]
    assert states.count("ACTIVE") >= 3
    assert {"MONITORING", "DEPRECATED", "RETIRED"} <= set(states)
    assert {"viable", "patched", "obsolete"} == {t["attack_vector_status"] for t in tests}
    archived = [_load_record("regression", p) for p in sorted(ROOT.glob("regressions/archive/*.yaml"))]
    assert archived and all(t["state"] == "RETIRED" for t in archived)


def test_each_file_is_named_after_its_record_id() -> None:
    for name, path in _record_files():
        data = _load_record(name, path)
        if name == "incident":
            assert path.parent.name == data["id"]
        elif name == "regression":
            assert path.stem == data["test_id"]
        elif name == "audit":
            stamp = data["timestamp"].replace("-", "").replace(":", "")
            assert path.stem == f"{stamp}_{data['action']}_{data['test_id']}"


# ---------------------------------------------------------------- seed values

SEED_SLAS = {"SEV-0": 15, "SEV-1": 60, "SEV-2": 240, "SEV-3": 1440}
SEED_TYPES = {
    "mass_harmful_output": ("Mass harmful output", ["SEV-0"], ["Executive", "Legal", "PR"]),
    "pii_exposure": ("PII exposure", ["SEV-0", "SEV-1"], ["Security", "Legal"]),
    "policy_violation_isolated": ("Policy violation (isolated)", ["SEV-2"], ["Safety team"]),
    "policy_erosion": ("Policy erosion detected", ["SEV-2", "SEV-3"], ["Safety team"]),
    "false_positive_spike": ("False positive spike", ["SEV-3"], ["Product team"]),
}
SEED_CHECKLIST = {
    "harm": {"occurred": "SEV-1", "imminent": "SEV-2", "potential": "SEV-3"},
    "scope": {"many_users": 1, "single_user": 0, "internal_only": -1},
    "exploitable_at_scale": 1,
    "regulatory": {"minimum": "SEV-1", "escalate_to": ["Legal"]},
    "reputational_risk_high": {"advisory": "High reputational risk: consider SEV-0"},
}
SEED_HANDOFF = {
    "incident_id": "INC_001",
    "severity": "SEV-2",
    "incident_summary": "Model generated phishing template after gradual reframing",
    "regression_test": {
        "test_id": "regression_INC_001",
        "scenario": "authority_reframe_phishing",
        "expected_block_turn": 3,
        "severity_weight": 0.8,
    },
    "notes": [
        "Attack required 5 turns to succeed",
        "Single-turn classifier did not flag",
        "Trajectory monitor detected at turn 4 (too late)",
    ],
    "action_items": [
        "Adjust trajectory monitor threshold",
        "Add to misuse benchmark",
        "Update release gate config",
    ],
}


def _policy() -> dict[str, Any]:
    data: dict[str, Any] = _load_record("policy", ROOT / "incidentops.yaml")
    return data


def test_policy_keeps_the_seed_slas_most_severe_first() -> None:
    levels = _policy()["severity_levels"]
    assert [(lvl["id"], lvl["response_sla_minutes"]) for lvl in levels] == list(SEED_SLAS.items())
    assert [lvl["clock"] for lvl in levels] == ["wall", "wall", "business", "wall"]


def test_policy_keeps_the_seed_type_table() -> None:
    types = {t["id"]: (t["name"], t["typical_severity"], t["escalation_path"]) for t in _policy()["incident_types"]}
    assert types == SEED_TYPES


def test_policy_keeps_the_seed_checklist() -> None:
    assert _policy()["checklist"] == SEED_CHECKLIST


def test_inc_001_handoff_is_the_seed_template() -> None:
    path = ROOT / "incidents" / "INC_001" / "handoff.yaml"
    assert _load_record("handoff", path) == SEED_HANDOFF


# ---------------------------------------------------------------- rejected records


def _inc_001_text() -> str:
    return (ROOT / "incidents" / "INC_001" / "incident.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


def _findings(text: str) -> list[tuple[str, int]]:
    doc = load_bytes(text.encode("utf-8"), "incidents/INC_001/incident.yaml")
    assert doc.findings == []
    return [(f.rule, f.line) for f in check_schema(doc, "incident")]


def test_unknown_severity_is_rejected() -> None:
    text = _inc_001_text().replace("severity: SEV-2", "severity: SEV-5")
    data = yaml.safe_load(text)
    errors = list(_validator("incident").iter_errors(data))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("enum", ["severity"])]
    assert _findings(text) == [("schema.enum", _line_of(text, "severity: SEV-5"))]


def test_impossible_date_in_a_timestamp_is_rejected() -> None:
    text = _inc_001_text().replace('detected_at: "2026-03-10T14:05:00Z"', 'detected_at: "2026-13-45T14:05:00Z"')
    data = yaml.safe_load(text)
    errors = list(_validator("incident").iter_errors(data))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("format", ["detected_at"])]
    assert _findings(text) == [("schema.format", _line_of(text, "2026-13-45"))]


def test_unknown_key_is_rejected_at_every_depth() -> None:
    top = _inc_001_text().replace("visibility: public", "visibility: public\nvisibilty: internal")
    nested = _inc_001_text().replace("  regulatory: false", "  regulatory: false\n  regulator: none")
    for text, where in ((top, []), (nested, ["assessment"])):
        errors = list(_validator("incident").iter_errors(yaml.safe_load(text)))
        assert [(e.validator, list(e.absolute_path)) for e in errors] == [("additionalProperties", where)]
    assert _findings(top) == [("schema.unknown-key", _line_of(top, "visibilty:"))]
    assert _findings(nested) == [("schema.unknown-key", _line_of(nested, "regulator: none"))]


def _regression() -> dict[str, Any]:
    data: dict[str, Any] = _load_record("regression", ROOT / "regressions" / "regression_INC_001.yaml")
    return data


def test_regression_needs_exactly_one_source_of_turns() -> None:
    neither = _regression()
    del neither["turns"]
    both = {**_regression(), "scenario_file": "scenarios/authority_reframe_phishing.yaml"}
    file_only = copy.deepcopy(neither) | {"scenario_file": "scenarios/authority_reframe_phishing.yaml"}
    empty = {**_regression(), "turns": []}
    validator = _validator("regression")
    assert [e.validator for e in validator.iter_errors(neither)] == ["oneOf"]
    assert [e.validator for e in validator.iter_errors(both)] == ["oneOf"]
    assert list(validator.iter_errors(file_only)) == []
    assert [(e.validator, list(e.absolute_path)) for e in validator.iter_errors(empty)] == [("minItems", ["turns"])]


def test_regression_bounds_block_turn_and_weight() -> None:
    bad = {**_regression(), "expected_block_turn": 0, "severity_weight": 1.2}
    errors = sorted((e.validator, list(e.absolute_path)) for e in _validator("regression").iter_errors(bad))
    assert errors == [("maximum", ["severity_weight"]), ("minimum", ["expected_block_turn"])]


def test_deferred_action_item_needs_a_reason() -> None:
    data = _load_record("postmortem", ROOT / "incidents" / "INC_001" / "postmortem.md")
    data["action_items"][0]["status"] = "deferred"
    errors = list(_validator("postmortem").iter_errors(data))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("required", ["action_items", 0])]
    data["action_items"][0]["deferred_reason"] = "Waiting for the next model version."
    assert list(_validator("postmortem").iter_errors(data)) == []


def test_published_postmortem_needs_its_publication_time() -> None:
    data = _load_record("postmortem", ROOT / "incidents" / "INC_001" / "postmortem.md")
    data["published_at"] = None
    assert [e.validator for e in _validator("postmortem").iter_errors(data)] == ["type"]
    data["status"] = "draft"
    assert list(_validator("postmortem").iter_errors(data)) == []


def test_response_times_may_be_null_while_open() -> None:
    data = yaml.safe_load(_inc_001_text())
    data["first_response_at"] = None
    data["resolved_at"] = None
    assert list(_validator("incident").iter_errors(data)) == []
