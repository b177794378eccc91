"""Checks: every record file is parsed, schema-validated, then run through the rules of its kind.

Rule modules expose ``RULES``: a mapping from record kind (or ``"*"`` for every
file) to functions ``rule(ctx, path, doc) -> Iterable[Finding]``. Checks collect
every finding and carry on; one bad file never hides the others.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentops.findings import Finding
from incidentops.kinds import kind_of
from incidentops.yamlio import Document

if TYPE_CHECKING:
    from incidentops.registry import Registry

Rule = Callable[["CheckContext", str, Document], Iterable[Finding]]

#: rule modules, in the order their findings read best
RULE_MODULES = (
    "incidentops.checks.rules",
    "incidentops.checks.severity_rules",
    "incidentops.checks.postmortem_rules",
    "incidentops.checks.text_rules",
    "incidentops.checks.lifecycle_rules",
    "incidentops.checks.gate_rules",
)


@dataclass
class CheckContext:
    registry: Registry
    as_of: datetime
    cache: dict[str, Any]


def _rules() -> dict[str, list[Rule]]:
    table: dict[str, list[Rule]] = {}
    for name in RULE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for kind, funcs in getattr(module, "RULES", {}).items():
            table.setdefault(kind, []).extend(funcs)
    return table


def check_registry(
    registry: Registry,
    as_of: datetime,
    paths: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Finding]:
    """Check ``paths`` (default: every record) against the whole registry."""
    targets = list(paths) if paths is not None else registry.all_paths()
    workers = min(os.cpu_count() or 1, 8)
    if len(targets) >= PARALLEL_THRESHOLD and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        return _check_parallel(registry, as_of, targets, workers, progress)
    ctx = CheckContext(registry, as_of, {})
    table = _rules()
    findings: list[Finding] = []
    for number, path in enumerate(targets, start=1):
        findings.extend(check_file(ctx, path, table))
        if progress is not None and number % 500 == 0:
            progress(number, len(targets))
    if progress is not None:
        progress(len(targets), len(targets))
    return sorted(set(findings), key=Finding.sort_key)


#: below this many files one process is faster than starting workers
PARALLEL_THRESHOLD = 1500


def _check_chunk(job: tuple[str, datetime, list[str]]) -> list[Finding]:
    from incidentops.registry import Registry

    root, as_of, chunk = job
    ctx = CheckContext(Registry(Path(root)), as_of, {})
    table = _rules()
    out: list[Finding] = []
    for path in chunk:
        out.extend(check_file(ctx, path, table))
    return out


def _check_parallel(
    registry: Registry, as_of: datetime, targets: list[str], workers: int,
    progress: Callable[[int, int], None] | None,
) -> list[Finding]:
    """Large registries: contiguous chunks (an incident's files stay together) on every core."""
    size = max(200, len(targets) // (workers * 4))
    chunks = [targets[i : i + size] for i in range(0, len(targets), size)]
    findings: list[Finding] = []
    done = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        jobs = [(str(registry.root), as_of, chunk) for chunk in chunks]
        for chunk, result in zip(chunks, pool.imap(_check_chunk, jobs), strict=True):
            findings.extend(result)
            done += len(chunk)
            if progress is not None:
                progress(done, len(targets))
    return sorted(set(findings), key=Finding.sort_key)


def check_file(ctx: CheckContext, path: str, table: dict[str, list[Rule]] | None = None) -> list[Finding]:
    table = table if table is not None else _rules()
    doc = ctx.registry.doc(path)
    if doc is None:
        return []
    findings = list(doc.findings)
    kind = kind_of(path)
    if kind is None or doc.data is None:
        return findings
    for rule in (*table.get(kind.name, ()), *table.get("*", ())):
        findings.extend(rule(ctx, path, doc))
    return findings


def iter_rule_modules() -> Iterable[str]:
    return RULE_MODULES
