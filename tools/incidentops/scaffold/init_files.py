"""The files `incidentops init` writes into a registry repository, and how they are merged.

A registry is a repository of its own, often made from an existing one: ``init`` never
overwrites a file. What exists already is left alone and listed, except ``.gitignore``,
to which the missing ignore lines are added. The pre-commit hooks and the CI install
and run the incidentops this registry is pinned to; ``init --upgrade`` re-pins them and
refreshes ``schemas/`` after an upgrade.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incidentops import __version__
from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import (
    FsProblem,
    create_text_exclusive,
    ensure_registry_dir,
    read_registry_file,
    write_text_atomic,
)
from incidentops.records.kinds import FILES_REGEX, editor_settings
from incidentops.records.registry import POLICY_FILE, SCAFFOLD_DIR
from incidentops.records.schemas import _is_installed_dir, installed_schemas

INIT_DIR = SCAFFOLD_DIR / "init"
REGISTRY_FOLDERS = ("incidents", "regressions/archive", "audit", "reviews", "releases", "scenarios")
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
SETUP_ACTION = ".github/actions/setup-incidentops/action.yml"
GITIGNORE = ".gitignore"

#: registry path -> template file in scaffold/init (``.j2`` ones are rendered)
CI_FILES: dict[str, str] = {
    SETUP_ACTION: "setup-incidentops.action.yml.j2",
    ".github/actions/release-gate/action.yml": "release-gate.action.yml",
    ".github/workflows/checks.yml": "checks.yml",
    ".github/workflows/notify.yml": "notify.yml",
    ".github/workflows/pages.yml": "pages.yml",
    ".github/workflows/renumber.yml": "renumber.yml",
    ".github/PULL_REQUEST_TEMPLATE/declare-regression-test.md": "declare-regression-test.md",
    ".github/PULL_REQUEST_TEMPLATE/retire-regression-test.md": "retire-regression-test.md",
    ".github/CODEOWNERS": "CODEOWNERS",
}
CI_CHOICES = ("github", "none")


# --- where this incidentops came from (PEP 610) -------------------------------------------


@dataclass(frozen=True, slots=True)
class InstallSource:
    """How another machine installs the incidentops running now.

    ``spec`` is a pip requirement; ``exact`` is False when it is only a guess (an
    install from a local folder that is not a clone with a remote): the CI's install
    line then needs editing, and ``init`` says so.
    """

    spec: str
    origin: str
    exact: bool = True


def _git_output(folder: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def _network_url(url: str) -> bool:
    return re.match(r"^(https?|ssh|git)://|^[\w.-]+@[\w.-]+:", url) is not None


def _git_spec(url: str, commit: str, subdirectory: str | None = None) -> str:
    url = url if url.startswith("git+") else f"git+{url}"
    spec = f"incidentops @ {url}@{commit}"
    return f"{spec}#subdirectory={subdirectory}" if subdirectory else spec


def source_from_direct_url(raw: str | None, version: str = __version__) -> InstallSource:
    """The install source recorded in ``direct_url.json`` (None: installed from a package index)."""
    index = InstallSource(f"incidentops=={version}", "the package index")
    if raw is None:
        return index
    try:
        data = json.loads(raw)
    except ValueError:
        return InstallSource(index.spec, "an unreadable direct_url.json", exact=False)
    url = str(data.get("url") or "") if isinstance(data, dict) else ""
    sub = data.get("subdirectory") if isinstance(data, dict) else None
    subdirectory = sub if isinstance(sub, str) else None
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        commit = str(vcs["commit_id"])
        return InstallSource(_git_spec(url, commit, subdirectory), f"{url} at commit {commit[:12]}",
                             exact=_network_url(url))
    if isinstance(data, dict) and "archive_info" in data and url.startswith(("https://", "http://")):
        return InstallSource(f"incidentops @ {url}", url)
    if url.startswith("file://"):
        folder = Path(url.removeprefix("file://"))
        remote = _git_output(folder, "remote", "get-url", "origin")
        head = _git_output(folder, "rev-parse", "HEAD")
        if remote and head and _network_url(remote):
            return InstallSource(_git_spec(remote, head), f"the clone {folder} of {remote} at commit {head[:12]}")
        return InstallSource(index.spec, f"the local folder {folder}", exact=False)
    return InstallSource(index.spec, url or "an unknown source", exact=False)


def install_source() -> InstallSource:
    """Where the running incidentops was installed from, read from its ``direct_url.json``."""
    from importlib import metadata

    try:
        raw = metadata.distribution("incidentops").read_text("direct_url.json")
    except metadata.PackageNotFoundError:  # running from a source tree (PYTHONPATH)
        return source_from_direct_url(None)
    return source_from_direct_url(raw)


# --- what init writes ---------------------------------------------------------------------


@dataclass
class InitReport:
    """What ``init`` did to each file: created, lines added, left alone (and why)."""

    created: list[str] = field(default_factory=list)
    added_lines: dict[str, list[str]] = field(default_factory=dict)
    left_alone: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    source: InstallSource | None = None


def _render(name: str, **values: str) -> str:
    from incidentops.scaffold.new import _ENV

    return _ENV.get_template(f"init/{name}").render(**values)


def _template(name: str, spec: str) -> str:
    if name.endswith(".j2"):
        return _render(name, spec=spec, version=__version__, files=FILES_REGEX)
    return (INIT_DIR / name).read_text(encoding="utf-8")


def _read(target: Path, rel: str) -> bytes | None:
    """The file at ``rel`` (None when absent); a link or special file there is never read or replaced."""
    try:
        return read_registry_file(target, rel, 4 * 1024 * 1024)
    except FsProblem as problem:
        raise IncidentOpsError(f"{target / rel}: {problem.message}", problem.hint) from None


def _place(target: Path, rel: str, text: str, report: InitReport) -> None:
    """Create ``rel`` unless something is there already (then it is listed as left alone)."""
    try:
        existing = _read(target, rel)
    except IncidentOpsError:
        report.left_alone.append((rel, "not a regular file"))
        return
    if existing is not None:
        if existing.decode("utf-8", "replace") == text:
            report.unchanged.append(rel)
        else:
            report.left_alone.append((rel, "exists"))
        return
    create_text_exclusive(target / rel, text, "init never overwrites a file", root=target)
    report.created.append(rel)


def ignore_lines() -> list[str]:
    """The entries ``.gitignore`` needs: built sites, generated pages, exports, results, tool state."""
    return [line for line in _template("gitignore", "").splitlines() if line and not line.startswith("#")]


def merge_gitignore(target: Path, report: InitReport) -> None:
    """Add the missing ignore lines to ``.gitignore`` (created when absent); lines already there stay."""
    try:
        existing = _read(target, GITIGNORE)
    except IncidentOpsError:
        report.left_alone.append((GITIGNORE, "not a regular file"))
        return
    template = _template("gitignore", "")
    if existing is None:
        create_text_exclusive(target / GITIGNORE, template, root=target)
        report.created.append(GITIGNORE)
        return
    text = existing.decode("utf-8", "replace")
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in ignore_lines() if line not in have and line.lstrip("/") not in have]
    if not missing:
        report.unchanged.append(GITIGNORE)
        return
    header = template.splitlines()[0]
    addition = ("" if text.endswith("\n") or not text else "\n") + ("\n" if text.strip() else "")
    addition += "\n".join([header, *missing]) + "\n"
    write_text_atomic(target / GITIGNORE, text + addition, root=target)
    report.added_lines[GITIGNORE] = missing


def registry_files(spec: str) -> dict[str, str]:
    """The registry's own files (not CI): policy, models, site, hooks, editor settings."""
    from incidentops.scaffold.new import render

    return {
        POLICY_FILE: (SCAFFOLD_DIR / POLICY_FILE).read_text(encoding="utf-8"),
        "models.yaml": render("models.yaml.j2", schema_prefix="schemas/", today=datetime.now().strftime("%Y-%m-%d")),
        "mkdocs.yml": (SCAFFOLD_DIR / "mkdocs.yml").read_text(encoding="utf-8"),
        "docs/contributing.md": (SCAFFOLD_DIR / "contributing.md").read_text(encoding="utf-8"),
        PRE_COMMIT_CONFIG: _template("pre-commit-config.yaml.j2", spec),
        ".vscode/settings.json": editor_settings(),
    }


def ci_files(ci: str, spec: str) -> dict[str, str]:
    if ci == "none":
        return {}
    if ci != "github":
        raise IncidentOpsError(f"--ci {ci!r} is not known", f"choose one of {', '.join(CI_CHOICES)}")
    return {rel: _template(name, spec) for rel, name in CI_FILES.items()}


def init_registry(target: Path, ci: str = "github", spec: str | None = None) -> InitReport:
    """Make ``target`` a registry that passes `check`: write what is missing, never overwrite a file."""
    ensure_target(target)
    if os.path.lexists(target / POLICY_FILE):
        raise IncidentOpsError(
            f"{target / POLICY_FILE} already exists: this is a registry already",
            "add the CI files with `incidentops init --ci github`; after upgrading incidentops,"
            " `incidentops init --upgrade`",
        )
    source = install_source() if spec is None else InstallSource(spec, "--install-spec")
    report = InitReport(source=source)
    for rel, text in {**registry_files(source.spec), **ci_files(ci, source.spec)}.items():
        _place(target, rel, text, report)
    merge_gitignore(target, report)
    for folder in REGISTRY_FOLDERS:
        ensure_registry_dir(target, folder)
        if not any((target / folder).iterdir()):
            create_text_exclusive(target / folder / ".gitkeep", "", root=target)
    sync_schemas(target, report)
    return report


def add_ci(target: Path, ci: str, spec: str | None = None) -> InitReport:
    """Add the CI files to an existing registry (what `init --ci github` does there)."""
    source = install_source() if spec is None else InstallSource(spec, "--install-spec")
    report = InitReport(source=source)
    for rel, text in ci_files(ci, source.spec).items():
        _place(target, rel, text, report)
    merge_gitignore(target, report)
    return report


def ensure_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise IncidentOpsError(f"{target} is not a folder", "give the folder to make a registry of")
    target.mkdir(parents=True, exist_ok=True)


# --- the installed version: schemas and pins ------------------------------------------------


def sync_schemas(target: Path, report: InitReport) -> None:
    """Write the installed incidentops's schemas into ``schemas/`` (same names: modelines keep working)."""
    if _is_installed_dir(target):
        report.unchanged.append("schemas/")
        return
    ensure_registry_dir(target, "schemas")
    for name, text in installed_schemas().items():
        rel = f"schemas/{name}"
        existing = _read(target, rel)
        if existing is not None and existing.decode("utf-8", "replace") == text:
            report.unchanged.append(rel)
            continue
        write_text_atomic(target / rel, text, root=target)
        (report.updated if existing is not None else report.created).append(rel)


_PIN = re.compile(r"(--require-version )([0-9A-Za-z.+!-]+)")
_SPEC = re.compile(r'^(\s*INCIDENTOPS_SPEC: )"[^"\n]*"(.*# incidentops: pin.*)$', re.M)
_NAME = re.compile(r"^(\s*- name: Install incidentops ).*$", re.M)


def repin(target: Path, rel: str, spec: str, report: InitReport) -> None:
    """Point the pins of ``rel`` (hooks or the CI's install step) at the installed version."""
    try:
        raw = _read(target, rel)
    except IncidentOpsError:
        report.left_alone.append((rel, "not a regular file"))
        return
    if raw is None:
        return
    text = raw.decode("utf-8", "replace")
    new = _PIN.sub(lambda m: m.group(1) + __version__, text)
    new = _SPEC.sub(lambda m: f'{m.group(1)}"{spec}"{m.group(2)}', new)
    new = _NAME.sub(lambda m: m.group(1) + __version__, new)
    if new == text:
        if _PIN.search(text) is None and _SPEC.search(text) is None:
            report.left_alone.append((rel, "no incidentops pin in it"))
        else:
            report.unchanged.append(rel)
        return
    write_text_atomic(target / rel, new, root=target)
    report.updated.append(rel)


def upgrade(target: Path, spec: str | None = None) -> InitReport:
    """After an upgrade: refresh ``schemas/``, re-pin the hooks and the CI to the installed incidentops."""
    source = install_source() if spec is None else InstallSource(spec, "--install-spec")
    report = InitReport(source=source)
    sync_schemas(target, report)
    for rel in (PRE_COMMIT_CONFIG, SETUP_ACTION):
        repin(target, rel, source.spec, report)
    merge_gitignore(target, report)
    return report


def pinned_version(target: Path) -> str | None:
    """The incidentops version the registry's hooks are pinned to, if they are."""
    try:
        raw = read_registry_file(target, PRE_COMMIT_CONFIG, 1024 * 1024)
    except FsProblem:
        return None
    found = _PIN.search(raw.decode("utf-8", "replace")) if raw else None
    return found.group(2) if found else None
