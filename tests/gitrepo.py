"""Real git repositories with a scripted history, for tests.

    repo = GitRepo(tmp_path / "registry")      # git init (if needed), identity configured
    repo.write("regressions/regression_INC_001.yaml", "state: ACTIVE\\n")
    repo.commit("Add regression_INC_001", date="2025-01-01T10:00:00Z")
    repo.branch("feature")                      # create and switch
    ...
    repo.checkout("main")
    repo.merge("feature", date="2025-02-01T09:00:00Z")   # --no-ff by default

Every git call runs with a clean environment: no global or system config, no
``GIT_*`` variables inherited from the caller (tests may run inside a git
hook), and pinned author/committer identity and dates. Code under test runs
git with ``os.environ``: call ``isolate_git(monkeypatch)`` (e.g. in an autouse
fixture) so it, too, ignores the caller's git config and ``GIT_*`` variables.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

DEFAULT_DATE = "2025-01-01T10:00:00Z"
DEFAULT_AUTHOR = "Safety Team <safety@example.org>"


def git_env(**extra: str) -> dict[str, str]:
    """An environment for git that ignores the user's config and any ``GIT_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
        GIT_AUTHOR_NAME="Safety Team",
        GIT_AUTHOR_EMAIL="safety@example.org",
        GIT_COMMITTER_NAME="Safety Team",
        GIT_COMMITTER_EMAIL="safety@example.org",
    )
    env.update(extra)
    return env


def isolate_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make code under test (which runs git with ``os.environ``) ignore the caller's git setup."""
    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)


def git_date(date: str | datetime) -> str:
    """A date in git's internal ``<epoch> +0000`` form; strings are ISO 8601 (``Z`` allowed)."""
    when = datetime.fromisoformat(date) if isinstance(date, str) else date
    if when.tzinfo is None:
        raise ValueError(f"date {date!r} needs a timezone (e.g. a trailing Z)")
    return f"{int(when.timestamp())} +0000"


def utc(date: str) -> datetime:
    """Parse an ISO 8601 date into an aware UTC datetime (for assertions)."""
    return datetime.fromisoformat(date).astimezone(UTC)


def _split_identity(identity: str) -> tuple[str, str]:
    name, _, rest = identity.partition("<")
    return name.strip(), rest.rstrip(">").strip()


class GitRepo:
    """A git working tree under ``path`` with helpers to script its history."""

    def __init__(self, path: Path | str, *, branch: str = "main") -> None:
        """Use the repository at ``path``, creating it (folder and ``git init``) if needed."""
        self.path = Path(path)
        if not (self.path / ".git").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            self.git("init", "--quiet", f"--initial-branch={branch}")
            self.git("config", "user.name", "Safety Team")
            self.git("config", "user.email", "safety@example.org")
            self.git("config", "commit.gpgsign", "false")

    @classmethod
    def init(cls, path: Path | str, branch: str = "main") -> GitRepo:
        """Create an empty repository (same as ``GitRepo(path)``, reads better in fixtures)."""
        return cls(path, branch=branch)

    @classmethod
    def clone(
        cls, source: GitRepo | Path | str, dest: Path | str, depth: int | None = None
    ) -> GitRepo:
        """Clone ``source`` into ``dest`` via ``file://`` (so ``depth`` really makes it shallow)."""
        src = source.path if isinstance(source, GitRepo) else Path(source)
        args = ["clone", "--quiet"]
        if depth is not None:
            args += ["--depth", str(depth)]
        args += [src.resolve().as_uri(), str(dest)]
        subprocess.run(["git", *args], check=True, capture_output=True, env=git_env())
        return cls(dest)

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run ``git <args>`` in the repository and return its stdout (raises on failure)."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            env=env or git_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"git {' '.join(args)} failed ({proc.returncode}): "
                f"{proc.stderr.decode('utf-8', 'replace')}"
            )
        return proc.stdout.decode("utf-8", "surrogateescape")

    # --- files -----------------------------------------------------------

    def write(self, path: str, text: str | bytes, *, add: bool = True) -> Path:
        """Write a file (creating folders) and stage it unless ``add=False``."""
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
        if add:
            self.git("add", "--", path)
        return target

    def read(self, path: str) -> str:
        return (self.path / path).read_text(encoding="utf-8")

    def mv(self, src: str, dst: str) -> None:
        """``git mv`` (creating the destination folder)."""
        (self.path / dst).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", src, dst)

    def rm(self, path: str) -> None:
        self.git("rm", "--quiet", "--", path)

    def add(self, *paths: str) -> None:
        self.git("add", "--", *paths)

    # --- history ---------------------------------------------------------

    def commit(
        self,
        message: str,
        date: str | datetime = DEFAULT_DATE,
        author: str = DEFAULT_AUTHOR,
        *,
        author_date: str | datetime | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Commit what is staged; ``date`` is the committer date (and the author date by default)."""
        args = ["commit", "--quiet", "--no-verify", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, env=self._dated_env(date, author, author_date))
        return self.head()

    def branch(self, name: str, start: str | None = None, *, switch: bool = True) -> None:
        """Create branch ``name`` at ``start`` (default HEAD) and switch to it."""
        if switch:
            self.git("checkout", "--quiet", "-b", name, *([start] if start else []))
        else:
            self.git("branch", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)

    def merge(
        self,
        name: str,
        *,
        no_ff: bool = True,
        date: str | datetime = DEFAULT_DATE,
        message: str | None = None,
        author: str = DEFAULT_AUTHOR,
    ) -> str:
        """Merge ``name`` into the current branch (a merge commit unless ``no_ff=False``)."""
        args = ["merge", "--quiet", "--no-verify", "--no-edit"]
        args.append("--no-ff" if no_ff else "--ff")
        args += ["-m", message or f"Merge branch '{name}'", name]
        self.git(*args, env=self._dated_env(date, author, None))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def rev(self, name: str) -> str:
        return self.git("rev-parse", "--verify", f"{name}^{{commit}}").strip()

    def _dated_env(
        self, date: str | datetime, author: str, author_date: str | datetime | None
    ) -> dict[str, str]:
        name, email = _split_identity(author)
        return git_env(
            GIT_AUTHOR_NAME=name,
            GIT_AUTHOR_EMAIL=email,
            GIT_AUTHOR_DATE=git_date(author_date if author_date is not None else date),
            GIT_COMMITTER_DATE=git_date(date),
        )
