"""Git history of the registry files, read in one `git log` pass.

This is the only module of incidentops that runs git. Everything else receives
the frozen dataclasses below: when a record file really appeared, when it last
changed, how often it changed and which names it had before.

Choices, and why:

* **First parent, merge diffs against the first parent**
  (``--first-parent --diff-merges=first-parent``). A record counts as added or
  changed when the change *landed* on the branch being read, not when someone
  committed it on a feature branch. A file committed on a branch on 1 May and
  merged on 10 May was added on 10 May: that is when it entered the suite.
* **Committer date** of that first-parent commit. For a merge commit it is the
  moment of the merge; for a rebased or squashed pull request it is the moment
  of the rebase/squash, i.e. again the landing. Author dates survive rebases and
  would date a test from the first draft of a branch. (Fast-forward merges keep
  the branch commits' own dates: use merge commits, squash or rebase merges.)
* **Renames** come from git's rename detection (``-M``, 50% similarity). In
  addition, a file deleted as ``<dir>/<name>`` and added as
  ``<dir>/archive/<name>`` in the same commit is a move into the archive,
  whatever the similarity: retiring a test rewrites much of a small file, and
  archiving must never reset its age.
* **Shallow clones are refused**: their oldest commit shows every file as
  added, so every date would be wrong. CI checkouts are shallow by default.
* **Imports are declared, never guessed.** A registry migrated from another
  tool gets its records in one import commit, and git dates them all to it.
  The policy's ``history`` section names the import (a date, or the import
  commit, see :class:`ImportDeclaration`); files git first saw up to that point
  are marked ``imported`` and their age is read from their own records
  (:func:`incidentops.lifecycle.decay.entered_suite`). Git stays authoritative for every
  file added after it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import IO, Any

from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Policy

REGISTRY_PATHS: tuple[str, ...] = ("incidents", "regressions", "audit", "reviews", "releases")
"""The folders of a registry whose files have a history worth reading."""

SHALLOW_HINT = (
    "fetch full history: `git fetch --unshallow` "
    "(GitHub Actions: actions/checkout with fetch-depth: 0)"
)

_CHUNK = 1 << 20
# One marker byte starts every commit header: status tokens start with a letter.
_LOG_FORMAT = "--format=%x01%H %ct"
_MISSING = b"\0"  # never a path: git paths cannot contain NUL

# name-status letters, as byte values
_A, _C, _D, _R = ord("A"), ord("C"), ord("D"), ord("R")
_NL, _MARK = ord("\n"), 1


@dataclass(frozen=True, slots=True)
class FileHistory:
    """What git says about one registry file, as of the requested date.

    ``path`` is the file's name at the revision read (posix, relative to the
    registry root). ``added_at`` is when the file landed on the branch,
    ``last_changed_at`` when it last changed (renames and the move into
    ``archive/`` count as changes), ``change_count`` how many landed commits
    touched it. ``rename_chain`` lists its names, oldest first, ending with
    ``path``. ``uncommitted`` files have no history yet: both dates are the
    caller's ``as_of`` and both commits are ``None``.
    """

    path: str
    added_at: datetime
    last_changed_at: datetime
    change_count: int
    rename_chain: tuple[str, ...]
    uncommitted: bool = False
    added_commit: str | None = None
    last_commit: str | None = None
    #: git first saw the file in the declared import (or before it): its git dates are those of the import
    imported: bool = False


@dataclass(frozen=True)
class RegistryHistory:
    """Per-file history of a registry, keyed by path at the revision read.

    ``available`` is false when the registry is not in a git repository: then
    every file is uncommitted. ``head`` is the commit read (``None`` when there
    is none yet). ``is_shallow`` is only ever true when the caller explicitly
    allowed a shallow clone.
    """

    files: Mapping[str, FileHistory] = field(default_factory=lambda: MappingProxyType({}))
    head: str | None = None
    is_shallow: bool = False
    available: bool = True
    as_of: datetime | None = None
    commits_parsed: int = 0
    #: files added up to this moment came with the import the policy declares (None: no import declared)
    imported_until: datetime | None = None

    def get(self, path: str | PurePath) -> FileHistory | None:
        """The history of ``path``, or ``None`` if git has none for it (as of ``as_of``)."""
        found = self.files.get(path) if isinstance(path, str) else None
        if found is None:
            found = self.files.get(_normalize(path))
        return found

    def for_path(self, path: str | PurePath, as_of: datetime | None = None) -> FileHistory:
        """The history of ``path``; for a file without one, an uncommitted file added at ``as_of``.

        ``as_of`` defaults to the date the history was loaded for; one of the
        two must be given, since "added now" needs an explicit now.
        """
        found = self.get(path)
        if found is not None:
            return found
        when = as_of if as_of is not None else self.as_of
        if when is None:
            raise ValueError("for_path needs as_of for a file without history")
        when = _utc(when)
        name = _normalize(path)
        return FileHistory(name, when, when, 0, (name,), uncommitted=True)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str | PurePath) and self.get(path) is not None

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)


def load_history(
    root: Path | str,
    paths: Sequence[str] = REGISTRY_PATHS,
    as_of: datetime | None = None,
    rev: str = "HEAD",
    *,
    progress: Callable[[int], None] | None = None,
    allow_shallow: bool = False,
    imported: ImportDeclaration | None = None,
) -> RegistryHistory:
    """Read the history of every file under ``paths`` (relative to ``root``) at ``rev``.

    Runs one ``git log`` over all the paths. Commits dated after ``as_of`` do
    not count (their renames are still followed, so files stay keyed by their
    name at ``rev``): with a past ``as_of`` the dates and counts are those of
    that day. ``progress`` is called with the number of commits parsed so far.

    Outside a git repository returns a history with ``available=False`` in
    which every file is uncommitted. A shallow clone raises
    :class:`IncidentOpsError` unless ``allow_shallow``. ``imported`` (the
    policy's declaration, :meth:`ImportDeclaration.from_policy`) marks the files
    that came with the import; an import commit that is not an ancestor of
    ``rev`` is an error.
    """
    root = Path(root)
    cutoff = _cutoff(as_of)
    as_of_utc = _utc(as_of) if as_of is not None else None
    info = _probe(root)
    if info is None:
        return RegistryHistory(available=False, as_of=as_of_utc)
    if info.shallow and not allow_shallow:
        raise IncidentOpsError(
            f"{root}: the repository is a shallow clone: git-derived dates would be wrong",
            hint=SHALLOW_HINT,
        )
    head = _resolve(root, rev, unborn_ok=True)
    if head is None:
        return RegistryHistory(head=None, is_shallow=info.shallow, as_of=as_of_utc)
    until = imported.until(root, head) if imported is not None else None
    if until is not None and cutoff is not None and cutoff < until.timestamp():
        # Before the import git knows nothing better than the import itself: as of an earlier
        # date, the files that came with it are read as the import brought them.
        cutoff = int(until.timestamp())
    walker = _Walker(cutoff)
    _stream(root, log_argv(paths, head), walker, progress)
    files = walker.result()
    if until is not None:
        files = {name: replace(found, imported=True) if found.added_at <= until else found
                 for name, found in files.items()}
    return RegistryHistory(
        files=MappingProxyType(files),
        head=head,
        is_shallow=info.shallow,
        as_of=as_of_utc,
        commits_parsed=walker.commits,
        imported_until=until,
    )


@dataclass(frozen=True, slots=True)
class ImportDeclaration:
    """The policy's ``history`` section: the records predate the registry's git history.

    ``imported_before``: files git first saw before this moment came with the
    import. ``import_commit``: files git first saw in this commit, or in an
    earlier one, came with it (the commit must be an ancestor of the revision
    read). Either declares the point from which git's dates are authoritative.
    Whoever reads the declaration decides where it is trusted: ``pr-check``
    reads it at the base, so a pull request cannot move it.
    """

    imported_before: datetime | None = None
    import_commit: str | None = None

    @classmethod
    def from_policy(cls, policy: Policy | None) -> ImportDeclaration | None:
        """The declaration of a (validated) policy, or None when it declares no import."""
        section = policy.history if policy is not None else None
        if section is None:
            return None
        when = section.imported_before
        commit = section.import_commit or None
        if when is None and commit is None:
            return None
        return cls(when, commit)

    def until(self, root: Path, head: str) -> datetime:
        """The last moment a file can have been added and still count as imported."""
        moments: list[datetime] = []
        if self.imported_before is not None:
            moments.append(self.imported_before.astimezone(UTC) - timedelta(seconds=1))
        if self.import_commit is not None:
            commit = _resolve_import(root, self.import_commit)
            if _call(root, ["git", "merge-base", "--is-ancestor", commit, head]).returncode != 0:
                raise IncidentOpsError(
                    f"incidentops.yaml: history.import_commit {self.import_commit} is not in the history"
                    f" of {head[:12]}",
                    hint="name the commit that imported the records on this branch",
                )
            stamp = _run(root, ["git", "show", "-s", "--format=%ct", commit]).decode().strip()
            moments.append(datetime.fromtimestamp(int(stamp), UTC))
        return max(moments)


def _resolve_import(root: Path, commit: str) -> str:
    _check_rev(commit)
    proc = _call(root, ["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"])
    if proc.returncode != 0:
        raise IncidentOpsError(
            f"incidentops.yaml: history.import_commit {commit} is not a commit of this repository",
            hint="name the commit that imported the records (`git log --diff-filter=A -- regressions`),"
                 " fetch it, or declare `imported_before` with a date instead",
        )
    return proc.stdout.decode().strip()


def log_argv(paths: Sequence[str] = REGISTRY_PATHS, rev: str = "HEAD") -> list[str]:
    """The exact ``git log`` command :func:`load_history` runs (for benchmarks and debugging)."""
    _check_rev(rev)
    return [
        "git",
        "--literal-pathspecs",
        # Settings that would change what the log prints are pinned.
        "-c", "log.showRoot=true",
        "-c", "log.showSignature=false",
        "-c", "diff.relative=false",
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "-M",
        "--name-status",
        "-z",
        "--no-color",
        "--relative",
        _LOG_FORMAT,
        rev,
        "--",
        *_pathspec(paths),
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class TreeLink:
    """An entry of a git tree that is not a file: a symbolic link or a submodule.

    ``kind`` is ``"symlink"`` (mode 120000; ``target`` is the text of the link) or
    ``"submodule"`` (mode 160000; ``target`` is the commit it pins). A checkout
    would read whatever such an entry points to, so it is never taken as a record.
    """

    path: str
    kind: str
    target: str


class TreeFiles(dict[str, bytes]):
    """``{path: content}`` of the regular files of a tree, plus ``links``:
    ``{path: TreeLink}`` for every symlink and submodule entry found under the same paths.
    """

    links: dict[str, TreeLink]

    def __init__(self) -> None:
        super().__init__()
        self.links = {}


_LINK_KINDS = {b"120000": "symlink", b"160000": "submodule"}


def read_tree_files(
    root: Path | str, rev: str, paths: Sequence[str] = REGISTRY_PATHS
) -> TreeFiles:
    """The registry files at ``rev``, read from git objects without a checkout.

    Returns ``{path relative to root: content}`` for regular files under ``paths``;
    symlink and submodule entries are not files: they are listed in the result's
    ``links`` (see :class:`TreeLink`) for the caller to report. Two processes:
    ``git ls-tree`` and one ``git cat-file --batch``. An unknown revision or a
    missing or corrupt object raises :class:`IncidentOpsError` with git's message.
    """
    root = Path(root)
    if _probe(root) is None:
        raise IncidentOpsError(
            f"{root}: not a git repository, cannot read files at {rev}",
            hint="run the command inside the registry's git checkout",
        )
    commit = _resolve(root, rev, unborn_ok=False)
    assert commit is not None
    listing = _run(
        root, ["git", "--literal-pathspecs", "ls-tree", "-r", "-z", commit, "--", *_pathspec(paths)]
    )
    files = TreeFiles()
    names: list[str] = []
    oids: list[bytes] = []
    symlinks: dict[int, str] = {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        fields = meta.split(b" ")
        if len(fields) != 3 or not raw_name:
            raise _corrupt(root, rev, f"unexpected `git ls-tree` line {entry[:80]!r}")
        mode, kind, oid = fields
        name = _decode(raw_name)
        link = _LINK_KINDS.get(mode)
        if link == "submodule":
            files.links[name] = TreeLink(name, link, oid.decode("ascii", "replace"))
        elif kind == b"blob":
            if link == "symlink":
                symlinks[len(oids)] = name
            names.append(name)
            oids.append(oid)
    if not oids:
        return files
    proc = _call(root, ["git", "cat-file", "--batch", "--buffer"], stdin=b"\n".join(oids) + b"\n")
    if proc.returncode != 0:
        raise _git_failure(root, ["git", "cat-file", "--batch"], proc.stderr)
    raw = proc.stdout
    pos = 0
    for index, (name, oid) in enumerate(zip(names, oids, strict=True)):
        eol = raw.find(b"\n", pos)
        header = raw[pos:eol].split(b" ") if eol >= 0 else []
        if len(header) != 3 or header[0] != oid or header[1] != b"blob" or not header[2].isdigit():
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            why = detail[0].removeprefix("error: ") if detail else "missing or corrupt"
            raise _corrupt(root, rev, f"the git object {oid.decode('ascii', 'replace')} of {name} cannot be read: {why}")
        size = int(header[2])
        start = eol + 1
        if len(raw) < start + size + 1:
            raise _corrupt(root, rev, f"the git object of {name} is truncated")
        content = raw[start : start + size]
        pos = start + size + 1
        if index in symlinks:
            files.links[name] = TreeLink(name, "symlink", _decode(content))
        else:
            files[name] = content
    return files


def _corrupt(root: Path, rev: str, message: str) -> IncidentOpsError:
    return IncidentOpsError(
        f"{root}: reading the registry at {rev}: {message}",
        hint="the repository is damaged: run `git fsck`, then fetch or clone it again",
    )


def current_user(root: Path | str) -> str:
    """Who is running the command: git's ``user.name``.

    Never ``user.email``: the name is written into records (a decision's ``by``, a
    retirement's ``requested_by``) that the site publishes, and an e-mail address
    there is personal data the PII scan refuses.
    """
    proc = _call(Path(root), ["git", "config", "--get", "user.name"])
    value = " ".join(proc.stdout.decode("utf-8", "replace").split())
    if proc.returncode == 0 and value:
        return value
    raise IncidentOpsError(
        "cannot tell who you are: git config user.name is unset",
        hint='set it with `git config --global user.name "Your Name"`',
    )


def git_mv(root: Path | str, src: str | PurePath, dst: str | PurePath) -> bool:
    """Move ``src`` to ``dst`` (relative to ``root``), staged with ``git mv`` when tracked.

    Outside a repository, or for a file git does not track, it is a plain
    rename. Returns whether git staged the move. Creates the destination folder.
    """
    root = Path(root)
    source, target = root / src, root / dst
    if not source.is_file():
        raise IncidentOpsError(f"{_normalize(src)}: no such file", hint="check the path")
    if target.exists():
        raise IncidentOpsError(
            f"{_normalize(dst)}: already exists, refusing to overwrite it",
            hint="archived records are never overwritten; pick another name",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if _probe(root) is not None:
        tracked = _call(
            root, ["git", "--literal-pathspecs", "ls-files", "--error-unmatch", "--", str(src)]
        )
        if tracked.returncode == 0:
            _run(root, ["git", "mv", "--", str(src), str(dst)])
            return True
    source.rename(target)
    return False


# --- the log walk -----------------------------------------------------------


class _Walker:
    """Folds ``git log --name-status -z`` tokens, newest commit first, into per-file history.

    ``alias`` maps a path, as named at the commit being read, to the file's
    name at the revision read (``None``: a file that no longer exists there).
    Each commit's entries are first resolved against the names *after* the
    commit; only then are the names before it (rename sources, freed paths)
    recorded, so renames within one commit in any order resolve correctly.
    """

    def __init__(self, cutoff: int | None) -> None:
        self.cutoff = cutoff
        self.alias: dict[bytes, bytes | None] = {}
        # key -> [added_ts, added_sha, last_ts, last_sha, count]
        self.records: dict[bytes, list[Any]] = {}
        self.chains: dict[bytes, list[bytes]] = {}
        self.commits = 0
        self.need = 0
        self.status = 0
        self.old = b""
        self.ts = 0
        self.sha = b""
        self.live = False
        self.freed: list[bytes] = []
        self.sources: list[tuple[bytes, bytes | None]] = []
        self.deleted: list[bytes] = []
        self.archived: list[tuple[bytes, bytes | None]] = []

    def feed(self, tokens: list[bytes]) -> None:
        alias, records = self.alias, self.records
        freed, sources, deleted, archived = self.freed, self.sources, self.deleted, self.archived
        cutoff = self.cutoff
        need, status, old = self.need, self.status, self.old
        ts, sha, live, commits = self.ts, self.sha, self.live, self.commits
        for tok in tokens:
            if need:
                if need == 2:
                    old = tok
                    need = 1
                    continue
                need = 0
                key = alias.get(tok, _MISSING)
                if key is _MISSING:
                    if status == _D:
                        alias[tok] = None
                        deleted.append(tok)
                        continue
                    alias[tok] = key = tok
                elif status == _D:
                    deleted.append(tok)
                    continue
                if live and key is not None:
                    rec = records.get(key)
                    if rec is None:
                        records[key] = [ts, sha, ts, sha, 1]
                    else:
                        rec[0] = ts
                        rec[1] = sha
                        rec[4] += 1
                if status == _R:
                    freed.append(tok)
                    sources.append((old, key))
                elif status in (_A, _C):
                    freed.append(tok)
                    if b"/archive/" in tok:
                        archived.append((tok, key))
                continue
            code = tok[0]
            if code == _NL:
                tok = tok[1:]
                if not tok:
                    continue
                code = tok[0]
            if code == _MARK:
                if freed or sources or deleted:
                    self._close_commit()
                commits += 1
                space = tok.index(b" ")
                sha = tok[1:space]
                ts = int(tok[space + 1 :])
                live = cutoff is None or ts <= cutoff
                continue
            status = code
            need = 2 if code in (_R, _C) else 1
        self.need, self.status, self.old = need, status, old
        self.ts, self.sha, self.live, self.commits = ts, sha, live, commits

    def _close_commit(self) -> None:
        """Record the names files had before the commit just read."""
        alias = self.alias
        for path in self.freed:
            alias[path] = None
        if self.archived and self.deleted:
            gone = set(self.deleted)
            for path, key in self.archived:
                parent, _, name = path.rpartition(b"/archive/")
                origin = parent + b"/" + name
                if b"/" not in name and origin in gone:
                    self.sources.append((origin, key))
        for origin, key in self.sources:
            alias[origin] = key
            if key is not None:
                self.chains.setdefault(key, []).append(origin)
        self.freed.clear()
        self.sources.clear()
        self.deleted.clear()
        self.archived.clear()

    def result(self) -> dict[str, FileHistory]:
        self._close_commit()
        dates: dict[int, datetime] = {}
        shas: dict[bytes, str] = {}

        def when(ts: int) -> datetime:
            found = dates.get(ts)
            if found is None:
                found = dates[ts] = datetime.fromtimestamp(ts, UTC)
            return found

        def commit(sha: bytes) -> str:
            found = shas.get(sha)
            if found is None:
                found = shas[sha] = sha.decode("ascii")
            return found

        out: dict[str, FileHistory] = {}
        for key, (added_ts, added_sha, last_ts, last_sha, count) in self.records.items():
            name = _decode(key)
            older = self.chains.get(key)
            chain = (*(_decode(p) for p in reversed(older)), name) if older else (name,)
            out[name] = FileHistory(
                path=name,
                added_at=when(added_ts),
                last_changed_at=when(last_ts),
                change_count=count,
                rename_chain=chain,
                uncommitted=False,
                added_commit=commit(added_sha),
                last_commit=commit(last_sha),
            )
        return out


def _stream(
    root: Path, argv: list[str], walker: _Walker, progress: Callable[[int], None] | None
) -> None:
    """Run ``git log`` and feed its output to ``walker`` while git is still writing."""
    with tempfile.TemporaryFile() as errors:
        proc = _popen(root, argv, errors)
        try:
            stdout = proc.stdout
            assert stdout is not None
            rest = b""
            while chunk := stdout.read1(_CHUNK):  # type: ignore[attr-defined]
                tokens = (rest + chunk).split(b"\0")
                rest = tokens.pop()
                walker.feed(tokens)
                if progress is not None:
                    progress(walker.commits)
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if code != 0:
            errors.seek(0)
            raise _git_failure(root, argv, errors.read())
        if rest.strip(b"\n"):
            walker.feed([rest])
        if progress is not None:
            progress(walker.commits)


# --- running git ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RepoInfo:
    shallow: bool


def _probe(root: Path) -> _RepoInfo | None:
    """Whether ``root`` is inside a git work tree (``None`` if not) and whether it is shallow."""
    if not root.is_dir():
        raise IncidentOpsError(f"{root}: no such directory", hint="check --root")
    try:
        proc = _call(root, ["git", "rev-parse", "--is-inside-work-tree", "--is-shallow-repository"])
    except IncidentOpsError:
        # Without git a plain folder is simply not versioned; a checkout is a problem.
        if any((parent / ".git").exists() for parent in (root.resolve(), *root.resolve().parents)):
            raise
        return None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace")
        if "not a git repository (or any" in message:
            return None
        raise _git_failure(root, ["git", "rev-parse"], proc.stderr)
    lines = proc.stdout.decode().split()
    if not lines or lines[0] != "true":
        return None
    return _RepoInfo(shallow=len(lines) > 1 and lines[1] == "true")


def _resolve(root: Path, rev: str, *, unborn_ok: bool) -> str | None:
    """The commit ``rev`` names; ``None`` for a repository without commits yet if ``unborn_ok``."""
    _check_rev(rev)
    proc = _call(root, ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if unborn_ok and rev == "HEAD":
        return None
    raise IncidentOpsError(
        f"{root}: git revision {rev!r} not found",
        hint="fetch it first (e.g. `git fetch origin main`; GitHub Actions: actions/checkout with fetch-depth: 0)",
    )


def _check_rev(rev: str) -> None:
    if not rev or rev.startswith("-") or "\0" in rev:
        raise IncidentOpsError(f"invalid git revision {rev!r}", hint="give a branch, tag or commit")


def _pathspec(paths: Sequence[str]) -> list[str]:
    if isinstance(paths, str):
        return [paths]
    return [PurePath(p).as_posix() if isinstance(p, PurePath) else p for p in paths]


def _env() -> dict[str, str]:
    # Plain-English messages: a few are recognised below.
    return {**os.environ, "LC_ALL": "C"}


def _popen(root: Path, argv: list[str], errors: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=_env(),
        )
    except FileNotFoundError as exc:
        raise _no_git() from exc


def _call(
    root: Path, argv: list[str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            argv,
            cwd=root,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        if not root.is_dir():
            raise IncidentOpsError(f"{root}: no such directory", hint="check --root") from exc
        raise _no_git() from exc


def _run(root: Path, argv: list[str], stdin: bytes | None = None) -> bytes:
    proc = _call(root, argv, stdin)
    if proc.returncode != 0:
        raise _git_failure(root, argv, proc.stderr)
    return proc.stdout


def _no_git() -> IncidentOpsError:
    return IncidentOpsError("git is not installed or not on PATH", hint="install git 2.31 or newer")


def _git_failure(root: Path, argv: list[str], stderr: bytes) -> IncidentOpsError:
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    first = message[0].removeprefix("fatal: ") if message else "unknown error"
    command = " ".join(a for a in argv[:4] if not a.startswith("-c"))
    hint = "run the same git command by hand to see the whole message"
    text = "\n".join(message)
    if "dubious ownership" in text:
        hint = f"mark the checkout as trusted: `git config --global --add safe.directory {root.resolve()}`"
    elif "diff-merges" in text:
        hint = "install git 2.31 or newer"
    return IncidentOpsError(f"{root}: `{command}` failed: {first}", hint=hint)


# --- small helpers ----------------------------------------------------------


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _normalize(path: str | PurePath) -> str:
    text = path.as_posix() if isinstance(path, PurePath) else path
    while text.startswith("./"):
        text = text[2:]
    return text


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    return when.astimezone(UTC)


def _cutoff(as_of: datetime | None) -> int | None:
    """``as_of`` as whole epoch seconds: git dates have second precision."""
    if as_of is None:
        return None
    return int(_utc(as_of).timestamp())
