"""Renderers of findings: text (people), json (machines), github (workflow annotations)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from incidentops.records.findings import Finding

FORMATS = ("text", "json", "github")


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    files = len({f.path for f in findings})
    if not findings:
        return f"{files_checked} record file(s) checked: no problems."
    return (
        f"{files_checked} record file(s) checked: {errors} error(s), {warnings} warning(s)"
        f" in {files} file(s)."
    )


def render_text(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.location()}: {f.level} [{f.rule}] {f.message}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    return "\n".join(lines)


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False)


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        level = "error" if f.is_error else "warning"
        text = f.message + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(
            f"::{level} file={_escape_property(f.path)},line={f.line},col={f.col},"
            f"title={_escape_property(f.rule)}::{_escape_data(text)}"
        )
    return "\n".join(lines)


def render(findings: Sequence[Finding], fmt: str) -> str:
    return {"text": render_text, "json": render_json, "github": render_github}[fmt](findings)
