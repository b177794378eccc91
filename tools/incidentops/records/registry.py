"""A registry on disk: an index of its record files, loaded on demand and cached.

The index comes from listing folders (cheap), so a check of one changed file can
resolve references against the whole registry without parsing every record.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

from incidentops.records import model
from incidentops.records.errors import IncidentOpsError
from incidentops.records.findings import ERROR, Finding
from incidentops.records.fsio import Entry, FsProblem, read_registry_file, scan_registry_dir
from incidentops.records.kinds import BY_NAME, kind_of, valid_id
from incidentops.records.validate import validate
from incidentops.records.yamlio import MAX_BYTES, Document, load_bytes

POLICY_FILE = "incidentops.yaml"
MODELS_FILE = "models.yaml"
SCAFFOLD_DIR = Path(__file__).resolve().parent.parent / "scaffold"

T = TypeVar("T")


def find_root(start: Path | None = None) -> Path:
    """The folder holding incidentops.yaml: ``start`` itself or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / POLICY_FILE).is_file():
            return folder
    raise IncidentOpsError(
        f"no {POLICY_FILE} in {here} or any folder above it",
        "run this inside a registry, pass --root DIR, or create one with `incidentops init`",
    )


def resolve_root(root: Path | None) -> Path:
    if root is None:
        return find_root()
    if not root.is_dir():
        raise IncidentOpsError(f"--root {root}: no such folder", "pass the folder that holds incidentops.yaml")
    if not (root / POLICY_FILE).is_file():
        raise IncidentOpsError(
            f"{root} holds no {POLICY_FILE}, so it is not a registry",
            f"create one with `incidentops init {root}`",
        )
    return root.resolve()


_NOT_A_FOLDER = ("file", "symlink", "special")


class Registry:
    """All records of one registry root, indexed by id and by path.

    The index lists folders without following links: a link, FIFO, device or
    unreadable folder where a record would be is kept as a *problem* of its path
    (``fs.symlink``, ``fs.special``, ``fs.unreadable``), listed by :meth:`all_paths`
    and reported by :meth:`doc` as a finding; nothing behind it is read.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[str, Document] = {}
        self._typed: dict[str, model.Record | None] = {}
        self._problems: dict[str, FsProblem] = {}

    # ---- index -------------------------------------------------------------
    def _scan(self, folder: str) -> list[Entry]:
        try:
            return scan_registry_dir(self.root, folder)
        except FsProblem as problem:
            self._problems.setdefault(problem.path, problem)
            return []

    def _yaml_names(self, folder: str) -> list[str]:
        return [e.name for e in self._scan(folder) if e.kind in _NOT_A_FOLDER and e.name.endswith(".yaml")]

    @cached_property
    def incident_ids(self) -> list[str]:
        ids: list[str] = []
        for entry in self._scan("incidents"):
            if entry.name.startswith("."):
                continue
            if entry.kind == "dir":
                ids.append(entry.name)
            elif entry.kind in ("symlink", "special"):
                self._problem_of(f"incidents/{entry.name}")
        return ids

    def _problem_of(self, relpath: str) -> None:
        """Record what is wrong with ``relpath`` (a link or special file found by the index)."""
        try:
            read_registry_file(self.root, relpath, 0)
        except FsProblem as problem:
            if problem.rule != "yaml.too-large":  # a plain file after all (replaced meanwhile)
                self._problems.setdefault(problem.path, problem)

    @cached_property
    def incident_id_set(self) -> frozenset[str]:
        """``incident_ids`` for membership tests (constant time, however large the registry)."""
        return frozenset(self.incident_ids)

    @cached_property
    def test_paths(self) -> dict[str, list[str]]:
        """test id (file stem) -> the paths holding it (more than one is a duplicate)."""
        index: dict[str, list[str]] = {}
        for sub in ("regressions", "regressions/archive"):
            for name in self._yaml_names(sub):
                index.setdefault(name[:-5], []).append(f"{sub}/{name}")
        return index

    def files_in(self, folder: str) -> list[str]:
        return [f"{folder}/{name}" for name in self._yaml_names(folder)]

    @cached_property
    def audit_paths(self) -> list[str]:
        return self.files_in("audit")

    def all_paths(self) -> list[str]:
        """Every record file of the registry, in a stable order."""
        paths = [POLICY_FILE]
        if _present(self.root / MODELS_FILE):
            paths.append(MODELS_FILE)
        for inc in self.incident_ids:
            for name in ("incident.yaml", "postmortem.md", "handoff.yaml"):
                rel = f"incidents/{inc}/{name}"
                try:
                    if _present(self.root / rel):
                        paths.append(rel)
                except PermissionError:
                    self._problem_of(rel)
                    break
        for test_paths in self.test_paths.values():
            paths.extend(test_paths)
        for folder in ("audit", "reviews", "releases", "scenarios"):
            paths.extend(self.files_in(folder))
        listed = set(paths)
        paths.extend(p for p in sorted(self._problems) if p not in listed)
        return paths

    @property
    def problems(self) -> dict[str, FsProblem]:
        """Paths the index found but will not read (links, special files, unreadable folders)."""
        return dict(self._problems)

    # ---- loading -----------------------------------------------------------
    def doc(self, relpath: str) -> Document | None:
        """The parsed, schema-checked record at ``relpath`` (cached), or None if absent."""
        if relpath in self._docs:
            return self._docs[relpath]
        problem = self._problems.get(relpath)
        try:
            if problem is not None:
                raise problem
            raw = read_registry_file(self.root, relpath, MAX_BYTES)
        except FsProblem as found:
            doc = Document(relpath)
            doc.findings.append(Finding(found.path, 1, 1, ERROR, found.rule, found.message, found.hint))
            self._docs[relpath] = doc
            return doc
        if raw is None:
            return None
        kind = kind_of(relpath)
        doc = load_bytes(raw, relpath, markdown=bool(kind and kind.markdown))
        if kind is not None and doc.data is not None:
            doc.findings.extend(validate(doc, kind.schema))
        self._docs[relpath] = doc
        return doc

    def release(self, relpaths: list[str]) -> None:
        """Drop parsed records from memory (they are parsed again if asked for); indexes stay."""
        for relpath in relpaths:
            self._docs.pop(relpath, None)
            self._typed.pop(relpath, None)

    def forget(self, relpath: str) -> None:
        """Drop a cached record (after a command rewrote it)."""
        self._docs.pop(relpath, None)
        self._typed.pop(relpath, None)
        self.__dict__.pop("policy_record", None)
        for name in ("test_paths", "audit_paths", "incident_ids", "incident_id_set"):
            self.__dict__.pop(name, None)
        self._problems.clear()

    # ---- typed records (records/model.py): only records that passed their schema ----
    def record(self, relpath: str) -> model.Record | None:
        """The typed record at ``relpath`` (cached); None if absent or if it failed validation."""
        if relpath not in self._typed:
            doc = self.doc(relpath)
            kind = kind_of(relpath)
            self._typed[relpath] = model.build(kind.name, doc) if doc is not None and kind else None
        return self._typed[relpath]

    def typed(self, cls: type[T], relpath: str | None) -> T | None:
        """The record at ``relpath`` when it is a valid ``cls`` (``registry.typed(Incident, path)``)."""
        found = self.record(relpath) if relpath else None
        return found if isinstance(found, cls) else None

    @cached_property
    def policy_record(self) -> model.Policy:
        """The policy in force, typed: incidentops.yaml when valid, else the built-in defaults."""
        found = self.typed(model.Policy, POLICY_FILE)
        return found if found is not None else default_policy_record()

    @cached_property
    def lineage(self) -> model.ModelLineage | None:
        """models.yaml, typed; None when absent or invalid."""
        return self.typed(model.ModelLineage, MODELS_FILE)

    def incident_record(self, incident_id: str) -> model.Incident | None:
        return self.typed(model.Incident, self._incident_file(incident_id, "incident.yaml"))

    def postmortem_record(self, incident_id: str) -> model.Postmortem | None:
        return self.typed(model.Postmortem, self._incident_file(incident_id, "postmortem.md"))

    def handoff_record(self, incident_id: str) -> model.Handoff | None:
        return self.typed(model.Handoff, self._incident_file(incident_id, "handoff.yaml"))

    def test_record(self, test_id: str) -> model.RegressionTest | None:
        return self.typed(model.RegressionTest, self.test_path(test_id))

    def incident_records(self) -> Iterator[model.Incident]:
        """Every valid incident, in id order."""
        for incident_id in self.incident_ids:
            found = self.incident_record(incident_id)
            if found is not None:
                yield found

    def test_records(self) -> Iterator[model.RegressionTest]:
        """Every valid regression test (archived ones included), in id order."""
        for test_id in sorted(self.test_paths):
            for path in self.test_paths[test_id]:
                found = self.typed(model.RegressionTest, path)
                if found is not None:
                    yield found

    def audit_records(self) -> Iterator[model.AuditEntry]:
        for path in self.audit_paths:
            found = self.typed(model.AuditEntry, path)
            if found is not None:
                yield found

    def review_records(self) -> Iterator[model.Review]:
        for path in self.files_in("reviews"):
            found = self.typed(model.Review, path)
            if found is not None:
                yield found

    def release_records(self) -> Iterator[model.Release]:
        for path in self.files_in("releases"):
            found = self.typed(model.Release, path)
            if found is not None:
                yield found

    @cached_property
    def policy(self) -> dict[str, Any]:
        """The policy in force as data: incidentops.yaml when valid, else the built-in defaults.

        What the check's result cache is keyed on; every analysis reads :attr:`policy_record`.
        """
        doc = self.doc(POLICY_FILE)
        if doc is not None and doc.ok:
            return dict(doc.data)
        return default_policy()

    @cached_property
    def model_versions(self) -> tuple[str, ...]:
        """The versions models.yaml lists, as written (also while the file fails its schema), in its order."""
        doc = self.doc(MODELS_FILE)
        count = doc.count(("models",)) if doc is not None else 0
        names = (doc.scalar(("models", i, "version")) for i in range(count)) if doc is not None else ()
        return tuple(dict.fromkeys(name for name in names if name is not None))

    def incident_path(self, incident_id: str) -> str:
        return f"incidents/{incident_id}/incident.yaml"

    def _incident_file(self, incident_id: str, name: str) -> str | None:
        """``incidents/<id>/<name>`` for an id listed on disk or of the schema's id pattern, else None.

        Ids read from records (a test's ``incident_id``...) reach here unchecked when
        the record fails its schema: such an id never becomes a path.
        """
        if incident_id in self.incident_id_set or valid_id("incident", incident_id):
            return f"incidents/{incident_id}/{name}"
        return None

    def postmortem(self, incident_id: str) -> Document | None:
        path = self._incident_file(incident_id, "postmortem.md")
        return self.doc(path) if path else None

    def test_path(self, test_id: str) -> str | None:
        paths = self.test_paths.get(test_id)
        return paths[0] if paths else None


def default_policy() -> dict[str, Any]:
    """The seed guide's defaults, as shipped in the package."""
    doc = load_bytes((SCAFFOLD_DIR / POLICY_FILE).read_bytes(), POLICY_FILE)
    if not isinstance(doc.data, dict):  # pragma: no cover - the packaged file is tested
        raise IncidentOpsError("the built-in policy is damaged; reinstall incidentops")
    return doc.data


@cache
def default_policy_record() -> model.Policy:
    """The built-in defaults, typed."""
    doc = load_bytes((SCAFFOLD_DIR / POLICY_FILE).read_bytes(), POLICY_FILE)
    doc.findings.extend(validate(doc, "policy"))
    found = model.build_as(model.Policy, doc)
    if found is None:  # pragma: no cover - the packaged file is tested
        raise IncidentOpsError("the built-in policy is damaged; reinstall incidentops")
    return found


def _present(path: Path) -> bool:
    """Whether something other than a folder is at ``path`` (links not followed)."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def kind_name(relpath: str) -> str | None:
    kind = kind_of(relpath)
    return kind.name if kind else None


__all__ = ["BY_NAME", "Registry", "default_policy", "find_root", "resolve_root"]
