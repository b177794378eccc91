"""Gate decisions as text (terminal), Markdown (``$GITHUB_STEP_SUMMARY``) and JSON-ready dicts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from incidentops.gate.decision import FlakyTest, GateDecision, GateWarning, RunSeries, TestOutcome

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]#+~|"})


def _series_dict(series: RunSeries) -> dict[str, Any]:
    return {"check": series.check, "runs": series.runs, "passes": series.passes,
            "pass_rate": round(series.pass_rate, 4), "interval": [round(v, 4) for v in series.interval],
            "threshold": list(series.threshold)}


def _outcome_dict(outcome: TestOutcome) -> dict[str, Any]:
    data = asdict(outcome)
    data["series"] = [_series_dict(s) for s in outcome.series]
    return data


def _warning_dict(warning: GateWarning) -> dict[str, Any]:
    return asdict(warning)


def _flaky_dict(flaky: FlakyTest) -> dict[str, Any]:
    data = asdict(flaky)
    data["pass_rate"] = round(flaky.pass_rate, 4)
    data["interval"] = [round(v, 4) for v in flaky.interval]
    return data


#: a results file as read: (path, format found, results read)
Input = tuple[str, str, int]


def decision_as_dict(decision: GateDecision, inputs: Sequence[Input] = ()) -> dict[str, Any]:
    """The decision as plain JSON-ready data (``--format json``); field names are stable."""
    data: dict[str, Any] = {
        "decision": decision.decision,
        "suite": decision.suite,
        "model": decision.model,
        "score": round(decision.score, 4),
        "tests_run": decision.tests_run,
        "blocking": [_outcome_dict(o) for o in decision.blocking],
        "warnings": [_warning_dict(w) for w in decision.warnings],
        "missing": list(decision.missing),
        "flaky": [_flaky_dict(f) for f in decision.flaky],
        "per_test": [_outcome_dict(o) for o in decision.per_test],
        "findings": [f.as_dict() for f in decision.findings],
        "inputs": [{"path": path, "format": fmt, "results": count} for path, fmt, count in inputs],
        "models": [],
    }
    data["models"] = [
        {k: v for k, v in decision_as_dict(d).items() if k not in ("inputs", "models", "findings")}
        for d in decision.models
    ]
    return data


def _scope(decision: GateDecision) -> str:
    return f"suite {decision.suite}" if decision.suite else "all suites"


_SCORE_MEANING = "severity-weighted share of the tests that ran which failed; 0 is best"


def _score_line(decision: GateDecision) -> str:
    return f"score {decision.score:.3f} over {decision.tests_run} tests run ({_SCORE_MEANING})"


def _repeats(decision: GateDecision) -> list[str]:
    lines = []
    for o in decision.per_test:
        for series in o.series:
            low, high = series.interval
            check = f" {series.check}" if series.check and len(o.series) > 1 else ""
            need = "" if series.threshold == (1, 1) else f"; needs {series.threshold[0]} of {series.threshold[1]}"
            lines.append(
                f"  {o.test_id}{check}: {series.passes} of {series.runs} runs passed ({series.pass_rate:.0%}, "
                f"95% Wilson interval {low:.0%}-{high:.0%}{need})"
            )
    return lines


def _body(decision: GateDecision, indent: str = "") -> list[str]:
    lines = [f"  {_score_line(decision)}"]
    if decision.blocking:
        lines.append(f"Blocking ({len(decision.blocking)}):")
        for o in decision.blocking:
            where = f" [{o.source}]" if o.source else ""
            lines.append(f"  {o.test_id} ({o.state}, weight {o.severity_weight:g}): {o.reason}{where}")
    if decision.findings:
        lines.append(f"Record problems ({len(decision.findings)}):")
        for f in decision.findings:
            lines.append(f"  {f.location()}: {f.level} [{f.rule}] {f.message}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
    if decision.missing:
        lines.append(f"Missing from the results ({len(decision.missing)}): {', '.join(decision.missing)}")
    if decision.flaky:
        lines.append(f"Flaky ({len(decision.flaky)}):")
        lines.extend(f"  {f.test_id} ({f.state}): {f.suggestion}" for f in decision.flaky)
    repeats = _repeats(decision)
    if repeats:
        lines.append(f"Repeated runs ({len(repeats)}):")
        lines.extend(repeats)
    if decision.warnings:
        lines.append(f"Warnings ({len(decision.warnings)}):")
        for w in decision.warnings:
            where = f" [{w.source}]" if w.source else ""
            lines.append(f"  {w.message}{where}")
    return [indent + line for line in lines]


def render_text(decision: GateDecision, inputs: Sequence[Input] = ()) -> str:
    """A terminal report: decision first, then what blocks, what is flaky, what to read."""
    model = f", model {decision.model}" if decision.model else ""
    several = f", {len(decision.models)} models" if decision.models else ""
    tests = len(decision.models[0].per_test) if decision.models else len(decision.per_test)
    lines = [f"Release gate: {decision.decision} ({_scope(decision)}{model}, {tests} tests{several})"]
    lines += [f"  read {path}: {fmt}, {count} results" for path, fmt, count in inputs]
    if not decision.models:
        lines += _body(decision)
    for each in decision.models:
        lines.append(f"Model {each.model}: {each.decision}")
        lines += _body(each, "  ")
    return "\n".join(lines) + "\n"


def _cell(text: str, limit: int = 300) -> str:
    """Text from results files is untrusted: no HTML, no Markdown, one line, bounded."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return html.escape(flat, quote=False).translate(_MD_SPECIAL)


def render_markdown(decision: GateDecision) -> str:
    """A GitHub job summary: headline, table of blocking tests, flaky tests, warnings, score."""
    icon = "✅" if decision.passed else "⛔"
    if decision.models:
        lines = [f"## {icon} Release gate: {decision.decision} ({len(decision.models)} models)", ""]
        for each in decision.models:
            body = render_markdown(each).split("\n", 1)[1]
            lines += [f"## Model {_cell(each.model or '')}: {each.decision}", body]
        return "\n".join(lines)
    model = f" (model {_cell(decision.model)})" if decision.model else ""
    lines = [f"## {icon} Release gate: {decision.decision}{model}", ""]
    lines.append(
        f"{len(decision.per_test)} regression tests in {_cell(_scope(decision))}; "
        f"{decision.tests_run} ran; {len(decision.blocking)} blocking; "
        f"{len(decision.warnings)} warnings."
    )
    lines += ["", f"**Score:** {decision.score:.3f} ({_cell(_SCORE_MEANING)})", ""]
    if decision.blocking:
        lines += ["### Blocking tests", "", "| Test | State | Outcome | Weight | Reason |", "|---|---|---|---:|---|"]
        for o in decision.blocking:
            lines.append(
                f"| {_cell(o.test_id)} | {_cell(o.state)} | {_cell(o.outcome)} | {o.severity_weight:g} | {_cell(o.reason)} |"
            )
        lines.append("")
    if decision.findings:
        lines += ["### Record problems", ""]
        lines += [
            f"- {_cell(f.location())} {_cell(f.level)} {_cell(f.rule)}: {_cell(f.message)} ({_cell(f.hint)})"
            for f in decision.findings
        ]
        lines.append("")
    if decision.missing:
        lines += ["### Missing from the results", ""]
        lines += [f"- {_cell(test_id)}" for test_id in decision.missing]
        lines.append("")
    if decision.flaky:
        lines += ["### Flaky tests", "", "| Test | State | Passes | Suggestion |", "|---|---|---:|---|"]
        for f in decision.flaky:
            lines.append(f"| {_cell(f.test_id)} | {_cell(f.state)} | {f.passes}/{f.runs} | {_cell(f.suggestion)} |")
        lines.append("")
    if decision.warnings:
        lines += ["### Warnings", ""]
        lines += [f"- {_cell(w.message)}" for w in decision.warnings]
        lines.append("")
    return "\n".join(lines)
