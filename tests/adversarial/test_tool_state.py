"""Tool state a pull request can write never changes a verdict of `incidentops check`.

The attack: a pull request adds a postmortem with an e-mail address, a live-looking API
key and a sentence that blames a person, and commits next to it a result cache that
says the file is clean -- in the folder older versions read (``.incidentops-cache/``)
and where a workflow that keeps its caches in the workspace (``XDG_CACHE_HOME`` or
``INCIDENTOPS_CACHE_DIR`` under the checkout) would look. The forged cache is made
the strongest way: by incidentops itself, for this very registry path, with the
entries rewritten to the new text and signed with the key committed beside them.

Then the cache files that are not files: a symbolic link to /dev/zero, a FIFO, a
folder, a 200 MB sparse file, an unreadable file. Every run is a real process with a
timeout: reading without bound or blocking on a FIFO fails the test.

The legitimate look-alike: a user's own cache from an earlier run is used (the second
run rewrites nothing and finds the same), and a changed file is checked again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import GitRepo, git_env
from incidentops.checks.cache import (
    BUCKETS,
    CACHE_ENV,
    KEY_FILE,
    LEGACY_DIR,
    MAX_BYTES,
    bucket_of,
    digest,
)

AS_OF = "2026-11-27T12:00:00Z"  # the example registry is clean then: exit 1 is the leak
POSTMORTEM = "incidents/INC_001/postmortem.md"  # a public incident's postmortem
LEAK = (
    "\n## Notes from the on-call\n\n"
    "Contact: jane.roe@acme-corp.com for the logs.\n"
    "The leaked token was sk-proj-AbCdEfGhIjKlMnOpQrStUvWx.\n"
    "Bob forgot to rotate the key.\n"
)
TIMEOUT = 60  # seconds: a check of the example registry takes about one


def leaked(lines: int) -> list[tuple[str, str, str]]:
    """The findings the leak must get, at its lines (the postmortem had ``lines`` lines before it)."""
    return [
        (f"{POSTMORTEM}:{lines + 4}:10", "error", "pii.email"),
        (f"{POSTMORTEM}:{lines + 5}:22", "error", "pii.api-key"),
        (f"{POSTMORTEM}:{lines + 6}:1", "error", "blameless.named-individual"),
    ]


class Check:
    """The outcome of one `incidentops check` process."""

    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.err = proc.stderr
        self.findings = json.loads(proc.stdout) if proc.stdout.strip() else None

    def located(self, path: str = POSTMORTEM) -> list[tuple[str, str, str]]:
        assert self.findings is not None, self.err
        return [(f"{f['path']}:{f['line']}:{f['col']}", f["level"], f["rule"]) for f in self.findings if f["path"] == path]

    @property
    def warnings(self) -> list[str]:
        return [line.removeprefix("incidentops: warning: ") for line in self.err.splitlines()
                if line.startswith("incidentops: warning: ")]


def check(repo: GitRepo, *args: str, env: dict[str, str]) -> Check:
    """`incidentops check --format json ARGS` in the repository, as CI or pre-commit runs it, with a timeout."""
    proc = subprocess.run(
        [sys.executable, "-m", "incidentops", "check", "--format", "json", "--as-of", AS_OF, *args],
        cwd=repo.path, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    return Check(proc)


@pytest.fixture
def user_cache(tmp_path: Path) -> Path:
    return tmp_path / "user-cache"


@pytest.fixture
def env(user_cache: Path) -> dict[str, str]:
    """A developer's machine: this test's own user cache folder, not under CI, git isolated."""
    base = {k: v for k, v in git_env().items() if k not in ("CI", CACHE_ENV, "XDG_CACHE_HOME")}
    return {**base, CACHE_ENV: str(user_cache), "NO_COLOR": "1"}


@pytest.fixture
def repo(example: Path) -> GitRepo:
    """The example registry as a git repository: main is the base of the pull request."""
    repo = GitRepo(example)
    repo.git("add", "-A")
    repo.commit("The example registry", date="2026-05-01T09:00:00Z")
    return repo


def registry_folder(cache_root: Path, repo: GitRepo) -> Path:
    return cache_root / "check" / hashlib.blake2b(os.fsencode(repo.path.resolve()), digest_size=10).hexdigest()


def bucket(cache_root: Path, repo: GitRepo, path: str = POSTMORTEM) -> Path:
    return registry_folder(cache_root, repo) / f"{bucket_of(path):02d}.json"


def sign(cache_root: Path, body: bytes) -> bytes:
    key = bytes.fromhex((cache_root / KEY_FILE).read_text())
    return hashlib.blake2b(body, key=key, digest_size=32).hexdigest().encode() + b"\n" + body


def forge_clean_cache(repo: GitRepo, where: Path, env: dict[str, str]) -> None:
    """A cache in ``where`` that says the leaking postmortem is clean, made as incidentops makes one.

    incidentops fills it from the clean text at this very registry path; then every entry
    of the postmortem gets the digest of the leaking text and no findings, and the file
    is signed again with the key in ``where``.
    """
    leaking = repo.read(POSTMORTEM)
    (repo.path / POSTMORTEM).write_text(leaking.replace(LEAK, ""))
    try:
        made = check(repo, "--cache", env={**env, CACHE_ENV: str(where)})
        assert made.located() == [] and made.warnings == [], made.err
    finally:
        (repo.path / POSTMORTEM).write_text(leaking)
    file = bucket(where, repo)
    data = json.loads(file.read_bytes().partition(b"\n")[2])
    forged = [key for key in data["entries"] if key.endswith(f"\0{POSTMORTEM}")]
    assert sorted(forged) == [f"blameless-postmortem\0{POSTMORTEM}", f"pii\0{POSTMORTEM}"]
    for key in forged:
        data["entries"][key][0] = digest(leaking)
        data["entries"][key][2] = []
    file.write_bytes(sign(where, json.dumps(data, separators=(",", ":")).encode()))


def leaking_pull_request(repo: GitRepo) -> int:
    """Branch ``pr``: the postmortem gets the leak. Returns its length before."""
    repo.branch("pr")
    before = len(repo.read(POSTMORTEM).splitlines())
    repo.write(POSTMORTEM, repo.read(POSTMORTEM) + LEAK)
    return before


def commit_tree(repo: GitRepo, source: Path, dest: str) -> None:
    shutil.copytree(source, repo.path / dest, symlinks=True)
    repo.git("add", "-f", "--", dest)


# ---- (a) a committed cache that says the leak is clean -------------------------------------------


@pytest.mark.parametrize("ci", ["", "true"], ids=["developer", "CI"])
def test_a_committed_forged_cache_never_hides_the_pii_credential_and_blame_findings(
    repo: GitRepo, env: dict[str, str], tmp_path: Path, ci: str
) -> None:
    base = check(repo, env=env)
    assert (base.code, base.located(), base.warnings) == (0, [], [])
    before = leaking_pull_request(repo)
    forge = tmp_path / "forged"
    forge_clean_cache(repo, forge, env)
    commit_tree(repo, forge, ".cache/incidentops")  # where a workspace-local XDG_CACHE_HOME points
    commit_tree(repo, forge, LEGACY_DIR)  # where older versions looked
    commit_tree(repo, forge, "tool-state")
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    assert repo.git("status", "--porcelain") == ""
    env = {**env, "CI": ci}

    # the control: the very same files in a folder outside the repository, with the key they were
    # signed with, are believed -- the forgery is as good as incidentops' own cache
    control = check(repo, "--cache", env={**env, CACHE_ENV: str(forge)})
    assert control.located() == []

    refusal = (
        "the result cache is not used: its folder {} is inside the registry {}, where a commit could plant it;"
        f" set {CACHE_ENV} to a folder outside the repository"
    )
    workspace = {k: v for k, v in env.items() if k != CACHE_ENV}
    for label, run_env, args, warned in [
        ("default", env, (), []),
        ("forced on", env, ("--cache",), []),
        ("XDG_CACHE_HOME in the checkout", {**workspace, "XDG_CACHE_HOME": str(repo.path / ".cache")}, ("--cache",),
         [refusal.format(repo.path / ".cache" / "incidentops", repo.path)]),
        (f"{CACHE_ENV} in the checkout", {**env, CACHE_ENV: str(repo.path / "tool-state")}, ("--cache",),
         [refusal.format(repo.path / "tool-state", repo.path)]),
        ("one file, as pre-commit runs it", {**env, CACHE_ENV: str(repo.path / "tool-state")}, ("--cache", POSTMORTEM),
         [refusal.format(repo.path / "tool-state", repo.path)]),
    ]:
        result = check(repo, *args, env=run_env)
        assert result.code == 1, (label, result.err)
        assert result.located() == leaked(before), label
        assert result.warnings == warned, label
        if POSTMORTEM not in args:  # a whole check names the committed tool-state folder
            assert result.located(LEGACY_DIR) == [(f"{LEGACY_DIR}:1:1", "warning", "cache.in-registry")], label
    assert check(repo, "--no-cache", env=env).located() == leaked(before)


def test_under_ci_the_cache_is_neither_read_nor_written(repo: GitRepo, env: dict[str, str], user_cache: Path) -> None:
    before = leaking_pull_request(repo)
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    forge_clean_cache(repo, user_cache, env)  # even this user's own folder holds a lie
    mtimes = {p: p.stat().st_mtime_ns for p in user_cache.rglob("*")}
    result = check(repo, env={**env, "CI": "true"})
    assert (result.code, result.located(), result.warnings) == (1, leaked(before), [])
    assert {p: p.stat().st_mtime_ns for p in user_cache.rglob("*")} == mtimes


# ---- (b) cache files that are not cache files -----------------------------------------------------


def plant_symlink_to_dev_zero(file: Path) -> str:
    file.symlink_to("/dev/zero")
    return "it is a symbolic link"


def plant_fifo(file: Path) -> str:
    os.mkfifo(file)
    return "it is not a regular file"


def plant_folder(file: Path) -> str:
    file.mkdir()
    return "it is not a regular file"


def plant_sparse(file: Path) -> str:
    with file.open("wb") as handle:
        handle.truncate(200 << 20)
    return f"it holds {200 << 20} bytes, more than a cache file ever does ({MAX_BYTES})"


def plant_unreadable(file: Path) -> str:
    file.write_bytes(b"0" * 64 + b"\n{}")
    file.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: then it does not verify
        return "it was not written by incidentops under this account (its authentication code does not match)"
    return "it cannot be opened (Permission denied)"


PLANTS = {
    "symlink to /dev/zero": plant_symlink_to_dev_zero,
    "FIFO": plant_fifo,
    "folder": plant_folder,
    "200 MB sparse file": plant_sparse,
    "unreadable file": plant_unreadable,
}


@pytest.mark.parametrize("whole", [True, False], ids=["whole check", "one file"])
@pytest.mark.parametrize("plant", PLANTS.values(), ids=PLANTS.keys())
def test_a_cache_file_that_is_not_a_regular_file_of_bounded_size_is_ignored_promptly(
    repo: GitRepo, env: dict[str, str], user_cache: Path, plant, whole: bool
) -> None:
    before = leaking_pull_request(repo)
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    expected = check(repo, "--no-cache", *(() if whole else (POSTMORTEM,)), env=env)
    assert expected.located() == leaked(before)
    assert check(repo, env=env).code == 1  # this user's cache, filled
    file = bucket(user_cache, repo)
    file.unlink()
    why = plant(file)
    try:
        result = check(repo, *(() if whole else (POSTMORTEM,)), env=env)
        assert result.code == 1, result.err
        assert result.findings == expected.findings
        warned = [f"ignored the result cache file {file}: {why}"]
        if file.is_dir() and not file.is_symlink():
            warned.append(f"the result cache could not be saved in {file.parent} (Is a directory)")
        assert result.warnings == warned
    finally:
        if file.is_dir() and not file.is_symlink():
            file.rmdir()
        else:
            file.unlink()
    again = check(repo, *(() if whole else (POSTMORTEM,)), env=env)
    assert (again.findings, again.warnings) == (expected.findings, [])  # the cache heals itself


@pytest.mark.parametrize("plant", [plant_symlink_to_dev_zero, plant_fifo, plant_sparse],
                         ids=["symlink to /dev/zero", "FIFO", "200 MB sparse file"])
def test_a_key_that_is_not_a_small_private_file_turns_the_cache_off(
    repo: GitRepo, env: dict[str, str], user_cache: Path, plant
) -> None:
    before = leaking_pull_request(repo)
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    user_cache.mkdir()
    why = plant(user_cache / KEY_FILE)
    if "bytes" in why:  # private, or it would be refused for that
        (user_cache / KEY_FILE).chmod(0o600)
        why = f"it holds {200 << 20} bytes, more than a cache file ever does (1024)"
    result = check(repo, env=env)
    assert (result.code, result.located()) == (1, leaked(before))
    assert result.warnings == [f"the result cache is not used: the key {user_cache / KEY_FILE} is not trusted: {why};"
                               f" delete {user_cache} to start afresh"]
    assert not (user_cache / "check").exists()


def test_a_key_others_may_read_turns_the_cache_off(repo: GitRepo, env: dict[str, str], user_cache: Path) -> None:
    assert check(repo, env=env).code in (0, 1)
    (user_cache / KEY_FILE).chmod(0o644)
    result = check(repo, env=env)
    assert result.warnings == [f"the result cache is not used: the key {user_cache / KEY_FILE} is not trusted: other"
                               f" users may read or write it; delete {user_cache} to start afresh"]


def test_a_registry_cache_folder_that_is_a_symlink_is_not_followed(
    repo: GitRepo, env: dict[str, str], user_cache: Path, tmp_path: Path
) -> None:
    before = leaking_pull_request(repo)
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    forge = tmp_path / "forged"
    forge_clean_cache(repo, forge, env)
    assert check(repo, env=env).code == 1  # makes this user's key
    shutil.copy(forge / KEY_FILE, user_cache / KEY_FILE)  # the same key, even
    folder = registry_folder(user_cache, repo)
    shutil.rmtree(folder)
    folder.symlink_to(registry_folder(forge, repo))
    result = check(repo, env=env)
    assert (result.code, result.located()) == (1, leaked(before))
    assert result.warnings == [
        f"ignored the result cache folder {folder}: it is not a folder (a symbolic link is never followed)",
        f"the result cache could not be saved in {folder} ({folder} is not a folder of this user)",
    ]


def test_a_committed_legacy_cache_that_is_a_device_link_is_never_opened(
    repo: GitRepo, env: dict[str, str]
) -> None:
    before = leaking_pull_request(repo)
    (repo.path / LEGACY_DIR).mkdir()
    (repo.path / LEGACY_DIR / "text-checks.json").symlink_to("/dev/zero")
    os.mkfifo(repo.path / LEGACY_DIR / "fifo.json")  # a FIFO cannot be committed; it can be left there
    repo.git("add", "-f", "--", f"{LEGACY_DIR}/text-checks.json")
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    for ci in ("", "true"):
        result = check(repo, env={**env, "CI": ci})
        assert (result.code, result.located(), result.warnings) == (1, leaked(before), [])
        assert result.located(LEGACY_DIR) == [(f"{LEGACY_DIR}:1:1", "warning", "cache.in-registry")]


# ---- (c) the legitimate look-alike: this user's own cache ------------------------------------------


def test_a_users_own_cache_is_used_and_a_changed_file_is_checked_again(
    repo: GitRepo, env: dict[str, str], user_cache: Path
) -> None:
    cold = check(repo, "--no-cache", env=env)
    first = check(repo, env=env)
    assert (first.findings, first.warnings) == (cold.findings, [])
    files = sorted(registry_folder(user_cache, repo).glob("*.json"))
    assert 1 < len(files) <= BUCKETS
    stamp = {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files}

    warm = check(repo, env=env)
    assert (warm.code, warm.findings, warm.warnings) == (first.code, cold.findings, [])
    # every entry was read back and matched: an entry ignored or recomputed would rewrite its file
    assert {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files} == stamp
    one = check(repo, POSTMORTEM, env=env)
    assert (one.findings, one.warnings) == ([f for f in cold.findings if f["path"] == POSTMORTEM], [])
    assert {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files} == stamp

    before = len(repo.read(POSTMORTEM).splitlines())
    repo.write(POSTMORTEM, repo.read(POSTMORTEM) + LEAK)
    changed = check(repo, POSTMORTEM, env=env)
    assert (changed.code, changed.located(), changed.warnings) == (1, leaked(before), [])
    mine = bucket(user_cache, repo)
    assert {f: (f.stat().st_ino, f.stat().st_mtime_ns) for f in files if f != mine} == {
        f: s for f, s in stamp.items() if f != mine
    }
    assert mine.stat().st_ino != stamp[mine][0]
    whole = check(repo, env=env)
    assert whole.findings == check(repo, "--no-cache", env=env).findings
    assert whole.located() == leaked(before)


def test_the_public_site_is_not_built_from_a_leak_a_committed_cache_calls_clean(
    env: dict[str, str], tmp_path: Path
) -> None:
    from site_support import copy_registry

    repo = GitRepo(copy_registry(tmp_path / "registry"))
    repo.git("add", "-A")
    repo.commit("The example registry", date="2026-05-01T09:00:00Z")
    before = leaking_pull_request(repo)
    forge = tmp_path / "forged"
    forge_clean_cache(repo, forge, env)
    commit_tree(repo, forge, ".cache/incidentops")
    commit_tree(repo, forge, LEGACY_DIR)
    repo.commit("Postmortem notes", date="2026-05-20T09:00:00Z")
    workspace = {k: v for k, v in env.items() if k != CACHE_ENV}
    for ci in ("", "true"):
        site = tmp_path / f"site-{ci or 'local'}"
        proc = subprocess.run(
            [sys.executable, "-m", "incidentops", "site", "build", "--public", "--as-of", AS_OF, "--site-dir", str(site)],
            cwd=repo.path, env={**workspace, "XDG_CACHE_HOME": str(repo.path / ".cache"), "CI": ci,
                                "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 1, proc.stderr
        for location, _level, rule in leaked(before):
            assert f"{location}: error [{rule}]" in proc.stderr
        assert "not building the site" in proc.stderr
        assert not site.exists()
