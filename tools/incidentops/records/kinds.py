"""Record kinds: which file holds which record, and the schema that validates it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    schema: str
    pattern: re.Pattern[str]
    markdown: bool = False
    example: str = ""
    #: globs an editor maps to the schema (none for Markdown: editors do not validate front matter)
    globs: tuple[str, ...] = ()


KINDS: tuple[Kind, ...] = (
    Kind("policy", "policy", re.compile(r"incidentops\.yaml\Z"), example="incidentops.yaml", globs=("incidentops.yaml",)),
    Kind("models", "models", re.compile(r"models\.yaml\Z"), example="models.yaml", globs=("models.yaml",)),
    Kind("incident", "incident", re.compile(r"incidents/[^/]+/incident\.yaml\Z"), example="incidents/INC_001/incident.yaml",
         globs=("incidents/*/incident.yaml",)),
    Kind("postmortem", "postmortem", re.compile(r"incidents/[^/]+/postmortem\.md\Z"), markdown=True,
         example="incidents/INC_001/postmortem.md"),
    Kind("handoff", "handoff", re.compile(r"incidents/[^/]+/handoff\.yaml\Z"), example="incidents/INC_001/handoff.yaml",
         globs=("incidents/*/handoff.yaml",)),
    Kind("regression", "regression", re.compile(r"regressions/(?:archive/)?[^/]+\.yaml\Z"),
         example="regressions/regression_INC_001.yaml", globs=("regressions/*.yaml", "regressions/archive/*.yaml")),
    Kind("audit", "audit", re.compile(r"audit/[^/]+\.yaml\Z"), example="audit/20260901T100000Z_RETIRE_REGRESSION_regression_INC_004.yaml",
         globs=("audit/*.yaml",)),
    Kind("review", "review", re.compile(r"reviews/[^/]+\.yaml\Z"), example="reviews/2026-Q4.yaml", globs=("reviews/*.yaml",)),
    Kind("release", "release", re.compile(r"releases/[^/]+\.yaml\Z"), example="releases/aurora-3.1.yaml", globs=("releases/*.yaml",)),
    Kind("scenario", "scenario", re.compile(r"scenarios/[^/]+\.yaml\Z"), example="scenarios/authority_reframe_phishing.yaml",
         globs=("scenarios/*.yaml",)),
)

BY_NAME = {kind.name: kind for kind in KINDS}

#: the pre-commit `files` regex: every registry record, nothing else
FILES_REGEX = (
    r"^(incidentops\.yaml|models\.yaml|incidents/[^/]+/(incident\.yaml|postmortem\.md|handoff\.yaml)"
    r"|regressions/(archive/)?[^/]+\.yaml|audit/[^/]+\.yaml|reviews/[^/]+\.yaml|releases/[^/]+\.yaml"
    r"|scenarios/[^/]+\.yaml)$"
)

REGISTRY_DIRS = ("incidents", "regressions", "audit", "reviews", "releases", "scenarios")


def kind_of(relpath: str) -> Kind | None:
    """The record kind of a path relative to the registry root, or None."""
    for kind in KINDS:
        if kind.pattern.fullmatch(relpath):
            return kind
    return None


def editor_settings() -> str:
    """`.vscode/settings.json` for the YAML language server: each schema mapped to its files."""
    import json

    mapping: dict[str, str | list[str]] = {}
    for kind in KINDS:
        if kind.globs:
            mapping[f"schemas/{kind.schema}.schema.json"] = kind.globs[0] if len(kind.globs) == 1 else list(kind.globs)
    settings = {"yaml.schemas": mapping, "yaml.validate": True, "yaml.completion": True, "yaml.hover": True}
    return json.dumps(settings, indent=2) + "\n"


# --- ids that become paths ------------------------------------------------------

#: what an id names -> (schema, property) holding its pattern: the schemas are the one source
ID_SOURCES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "incident": ("incident", ("id",), "INC_010"),
    "test": ("regression", ("test_id",), "regression_INC_010"),
    "scenario": ("regression", ("scenario",), "multi_turn_reframing"),
}


@cache
def id_pattern(what: str) -> re.Pattern[str]:
    """The pattern an id of ``what`` (incident, test, scenario) must match, from its JSON schema."""
    from incidentops.records.schemas import load_schema

    schema_name, where, _ = ID_SOURCES[what]
    node: Any = load_schema(schema_name)
    node = (node or {}).get("properties", {})
    for step in where[:-1]:
        node = node.get(step, {}).get("properties", {})
    pattern = node.get(where[-1], {}).get("pattern")
    if not isinstance(pattern, str):  # pragma: no cover - the packaged schemas are tested
        raise RuntimeError(f"the {schema_name} schema gives no pattern for {'.'.join(where)}")
    return re.compile(pattern)


def valid_id(what: str, value: object) -> bool:
    """Whether ``value`` is a whole, well-formed id of ``what`` (safe to use as a file or folder name)."""
    return isinstance(value, str) and id_pattern(what).fullmatch(value) is not None


def check_id(what: str, value: str, label: str | None = None) -> str:
    """``value`` if it is a valid id of ``what``; else the user error naming it and the pattern."""
    if valid_id(what, value):
        return value
    from incidentops.records.errors import IncidentOpsError

    example = ID_SOURCES[what][2]
    raise IncidentOpsError(
        f"{label or what + ' id'} {value!r} is not a valid {what} id: it must match {id_pattern(what).pattern}",
        f"give an id such as {example}; ids never hold '/', '..' or spaces",
    )
