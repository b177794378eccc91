"""The JSON Schemas shipped inside the package (``schemas/`` at the repo root links here)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from incidentops.records.fsio import FsProblem, read_registry_file

SCHEMA_DIR = Path(__file__).with_name("schemas")


def schema_path(name: str) -> Path:
    return SCHEMA_DIR / f"{name}.schema.json"


@cache
def load_schema(name: str) -> dict[str, Any] | None:
    """The schema for a record kind, or None when this version ships none."""
    path = schema_path(name)
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def available() -> list[str]:
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))


def installed_schemas() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}


def _is_installed_dir(target: Path) -> bool:
    """Whether ``schemas/`` is the installed package's own folder (this tool's repository links it)."""
    folder = target / "schemas"
    return folder.is_symlink() and folder.resolve() == SCHEMA_DIR.resolve()


def stale_schemas(target: Path) -> list[tuple[str, str]]:
    """``(file, what)`` for each schema in ``schemas/`` that is not the installed incidentops's."""
    if not os.path.lexists(target / "schemas") or _is_installed_dir(target):
        return []
    out: list[tuple[str, str]] = []
    for name, text in installed_schemas().items():
        rel = f"schemas/{name}"
        try:
            found = read_registry_file(target, rel, 4 * 1024 * 1024)
        except FsProblem as problem:
            out.append((rel, f"cannot be compared: {problem.message}"))
            continue
        if found is None:
            out.append((rel, "is missing"))
        elif found.decode("utf-8", "replace") != text:
            out.append((rel, "differs from the schema of the installed incidentops"))
    return out
