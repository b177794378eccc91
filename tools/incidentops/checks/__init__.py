"""Checks: every record file is parsed, schema-validated, then run through the rules of its kind.

Rule modules expose ``RULES``: a mapping from record kind (or ``"*"`` for every
file) to functions ``rule(ctx, path, doc) -> Iterable[Finding]``. Checks collect
every finding and carry on; one bad file never hides the others. Results of the
text rules are cached outside the registry, signed (cache).

May use: records, policy, lifecycle.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incidentops.checks.cache import RESULT_CACHE
from incidentops.records.findings import WARNING, Finding
from incidentops.records.kinds import kind_of
from incidentops.records.yamlio import Document

if TYPE_CHECKING:
    from incidentops.checks.cache import Entry, ResultCache
    from incidentops.records.registry import Registry

Rule = Callable[["CheckContext", str, Document], Iterable[Finding]]

#: rule modules, in the order their findings read best
RULE_MODULES = (
    "incidentops.checks.rules",
    "incidentops.checks.time_rules",
    "incidentops.checks.unicode_rules",
    "incidentops.checks.severity_rules",
    "incidentops.checks.postmortem_rules",
    "incidentops.checks.text_rules",
    "incidentops.checks.lifecycle_rules",
    "incidentops.checks.ceremony_rules",
    "incidentops.checks.gate_rules",
)


#: The record kinds some rule modules have rules for (their ``RULES`` keys), so that a check
#: of a few files does not import what their rules do not need (these modules pull in git
#: history, ruamel.yaml and the site templates). A module not named here is always imported;
#: tests/test_check_cache.py keeps this table equal to the modules' ``RULES``.
RULE_KINDS: dict[str, frozenset[str]] = {
    "incidentops.checks.lifecycle_rules": frozenset({"review", "regression"}),
    "incidentops.checks.ceremony_rules": frozenset({"regression", "audit"}),
    "incidentops.checks.gate_rules": frozenset({"regression", "handoff", "release"}),
}


@dataclass
class CheckContext:
    registry: Registry
    as_of: datetime
    cache: dict[str, Any]


def _rules(kinds: Iterable[str] | None = None) -> dict[str, list[Rule]]:
    """The rules by kind; with ``kinds``, at least every rule of those kinds (and of ``"*"``)."""
    wanted = None if kinds is None else frozenset(kinds)
    table: dict[str, list[Rule]] = {}
    for name in RULE_MODULES:
        hint = RULE_KINDS.get(name)
        if wanted is not None and hint is not None and not hint & wanted:
            continue
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
    *,
    cache: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Check ``paths`` (default: every record) against the whole registry.

    With ``cache``, the text checks' findings for files unchanged since the last cached
    run are read back from this user's result cache (outside the repository, see
    checks/cache.py), and the new ones saved there; the findings are the same either
    way. ``warn`` hears, in words for people, about cache files that were ignored.
    """
    targets = list(paths) if paths is not None else registry.all_paths()
    workers = min(os.cpu_count() or 1, 8)
    table = _rules(_kinds(targets) if paths is not None else None)
    store = _open_cache(registry, warn) if cache else None
    parallel = len(targets) >= PARALLEL_THRESHOLD and workers > 1 and _can_fork()
    if store is not None and (parallel or paths is None):
        store.preload()  # workers share what the parent read; a whole check prunes every file
    with _few_collections():
        if parallel:
            findings = _check_parallel(registry, as_of, targets, workers, progress, table, store)
        else:
            ctx = CheckContext(registry, as_of, {})
            if store is not None:
                ctx.cache[RESULT_CACHE] = store
            findings = []
            for number, path in enumerate(targets, start=1):
                findings.extend(check_file(ctx, path, table))
                if progress is not None and number % 500 == 0:
                    progress(number, len(targets))
            if progress is not None:
                progress(len(targets), len(targets))
    if store is not None:
        store.save(keep=targets if paths is None else None)
        for problem in dict.fromkeys(store.problems):
            if warn is not None:
                warn(problem)
    if paths is None:
        findings.extend(_legacy_cache(registry))
        findings.extend(_stale_schemas(registry))
    return sorted(set(findings), key=Finding.sort_key)


def _kinds(paths: Iterable[str]) -> set[str]:
    return {kind.name for kind in map(kind_of, paths) if kind is not None}


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _open_cache(registry: Registry, warn: Callable[[str], None] | None) -> ResultCache | None:
    """The registry's result cache (empty when missing or stale); None when it cannot be used."""
    from incidentops.checks.cache import ResultCache, salt

    key = salt(registry.policy)
    if key is None:
        return None
    store, problems = ResultCache.open(registry.root, key)
    for problem in problems:
        if warn is not None:
            warn(problem)
    return store


def _legacy_cache(registry: Registry) -> list[Finding]:
    """A ``.incidentops-cache`` in the registry is never read: say so (a commit may have planted it)."""
    from incidentops.checks.cache import LEGACY_DIR

    if not os.path.lexists(registry.root / LEGACY_DIR):
        return []
    return [Finding(
        LEGACY_DIR, 1, 1, WARNING, "cache.in-registry",
        f"{LEGACY_DIR} in the registry is not read: check keeps its result cache outside the repository,"
        " so nothing committed can change a finding",
        f"delete it; if it is tracked by git, `git rm -r --cached {LEGACY_DIR}` and commit",
    )]


def _stale_schemas(registry: Registry) -> list[Finding]:
    """``schemas/`` is what editors validate against: say when it is not the installed incidentops's."""
    from incidentops import __version__
    from incidentops.records.schemas import stale_schemas

    return [Finding(rel, 1, 1, WARNING, "schemas.stale", f"{rel} {what} ({__version__})",
                    "refresh schemas/ with `incidentops schemas sync` (or `incidentops init --upgrade`,"
                    " which also re-pins the hooks and the CI), then commit")
            for rel, what in stale_schemas(registry.root)]


@contextmanager
def _few_collections() -> Iterator[None]:
    """Pause the cycle collector while records pile up in the registry's cache.

    Parsed records stay cached while the check runs, so each collection rescans a heap
    that keeps growing (a quarter of the parse time on a large registry, even with
    mypy's raised thresholds); records hold no reference cycles, so nothing is left for
    it to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: below this many files one process is faster than starting workers
PARALLEL_THRESHOLD = 1500

# What a forked worker starts from: the parent's registry (policy and schemas already
# loaded), the date, the rule table and the result cache. Each worker keeps one context
# for all its chunks, so indexes and what rules collect across the registry (e.g. the
# suites of all tests) are built once per worker.
_fork_state: tuple[Registry, datetime, dict[str, list[Rule]], ResultCache | None] | None = None
_worker_ctx: CheckContext | None = None


def _check_chunk(chunk: list[list[str]]) -> tuple[list[Finding], dict[str, Entry]]:
    """One chunk (of work units) in a worker: its findings, and the result-cache entries it computed.

    A unit's records are let go once it is checked: other units rarely read them (they
    are parsed again if so), and a worker holding every record it met would grow with
    the registry.
    """
    global _worker_ctx
    if _fork_state is None:  # pragma: no cover - workers are forked after it is set
        raise RuntimeError("check worker started without the registry")
    registry, as_of, table, store = _fork_state
    if _worker_ctx is None:
        _worker_ctx = CheckContext(registry, as_of, {})
        if store is not None:
            _worker_ctx.cache[RESULT_CACHE] = store
    out: list[Finding] = []
    for unit in chunk:
        for path in unit:
            out.extend(check_file(_worker_ctx, path, table))
        registry.release(unit)
    return out, store.take_new() if store is not None else {}


def _work_units(targets: list[str]) -> list[list[str]]:
    """Files that read each other, together: an incident's files and the tests named after it."""
    units: list[list[str]] = []
    by_incident: dict[str, list[str]] = {}
    rest: list[str] = []
    for path in targets:
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "incidents":
            unit = by_incident.get(parts[1])
            if unit is None:
                unit = by_incident[parts[1]] = []
                units.append(unit)
            unit.append(path)
        else:
            rest.append(path)
    for path in rest:
        name = path.rsplit("/", 1)[-1]
        owner = name[len("regression_") : -len(".yaml")] if path.startswith("regressions/") else ""
        while owner and owner not in by_incident:
            owner = owner.rpartition("_")[0]
        if owner:
            by_incident[owner].append(path)
        else:
            units.append([path])
    return units


def _check_parallel(
    registry: Registry, as_of: datetime, targets: list[str], workers: int,
    progress: Callable[[int, int], None] | None, table: dict[str, list[Rule]], store: ResultCache | None,
) -> list[Finding]:
    """Large registries: chunks of related files on every core (forked, sharing what is loaded)."""
    global _fork_state, _worker_ctx
    _warm(registry)
    # small chunks, so that no worker is left with a long last chunk while the others wait
    size = max(200, len(targets) // (workers * 16))
    chunks: list[list[list[str]]] = [[]]
    filled = 0
    for unit in _work_units(targets):
        if filled >= size:
            chunks.append([])
            filled = 0
        chunks[-1].append(unit)
        filled += len(unit)
    findings: list[Finding] = []
    done = 0
    _fork_state, _worker_ctx = (registry, as_of, table, store), None
    import multiprocessing

    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for chunk, (result, entries) in zip(chunks, pool.imap(_check_chunk, chunks), strict=True):
                findings.extend(result)
                if store is not None:
                    store.merge(entries)
                done += sum(len(unit) for unit in chunk)
                if progress is not None:
                    progress(done, len(targets))
    finally:
        _fork_state = None
    return findings


def _warm(registry: Registry) -> None:
    """Load what every worker needs once, before forking: the policy and the schema validators."""
    from incidentops.records.kinds import KINDS
    from incidentops.records.validate import prepare

    registry.policy_record  # noqa: B018 - a cached property: loading it is the point
    for kind in KINDS:
        prepare(kind.schema)


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
