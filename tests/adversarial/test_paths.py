"""Path and id injection, links and special files in a registry, damaged git objects, and
terminals that cannot print every character.

Every attack is built for real (ids typed on the command line, links, FIFOs, a corrupted
loose object in a real repository) and run through the real command line; each has a
legitimate look-alike next to it that must keep working.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scripted_registry
from conftest import REPO, run_cli
from gitrepo import GitRepo
from incidentops.lifecycle.history import read_tree_files
from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import create_text_exclusive, write_text_atomic
from incidentops.records.kinds import check_id

AS_OF = "2026-11-27T10:00:00Z"
ANSWERS = ("--harm", "occurred", "--scope", "many_users", "--no-regulatory", "--reputational-risk", "high",
           "--no-exploitable-at-scale")
INCIDENT_PATTERN = json.loads((REPO / "tools/incidentops/records/schemas/incident.schema.json").read_text())[
    "properties"]["id"]["pattern"]  # the one source of the id pattern
#: a machine's own git identity must not leak into the commands under test
NO_GIT_USER = scripted_registry.ISOLATED_GIT
AS_ROOT = os.geteuid() == 0


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry below ``folder`` (links as their target), to prove nothing changed."""
    out: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
        else:
            out[rel] = "dir"
    return out


@pytest.fixture
def outside(tmp_path: Path, example: Path) -> Path:
    """A folder next to the registry holding an incident an injected path could reach."""
    folder = tmp_path / "outside"
    shutil.copytree(example / "incidents" / "INC_009", folder / "INC_666")
    shutil.copytree(example / "incidents" / "INC_009", folder / "INC_011")
    (folder / "secret.yaml").write_text("token: keep-me\n")
    return folder


def cli_in(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    """The command line in ``root``, killed (and the test failed) if it hangs."""
    full = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "incidentops", *args], cwd=root, env=full,
                          capture_output=True, text=True, timeout=timeout)
    return proc


def check_json(root: Path) -> tuple[int, list[dict]]:
    proc = cli_in(root, "check", "--format", "json", "--as-of", AS_OF, "--no-cache")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def fs_findings(found: list[dict]) -> list[tuple[str, int, int, str]]:
    return sorted((f["path"], f["line"], f["col"], f["rule"]) for f in found if f["rule"].startswith("fs."))


# --- ids typed by a user -------------------------------------------------------------------

INJECTIONS = {
    "postmortem-parent": (("new", "postmortem", "../../outside/INC_666"), "../../outside/INC_666"),
    "postmortem-absolute": (("new", "postmortem", "{outside}/INC_666"), "{outside}/INC_666"),
    "regression-parent": (("new", "regression", "../../outside/INC_666", "--by", "Dana"), "../../outside/INC_666"),
    "regression-suffix": (("new", "regression", "INC_009/../../../outside/INC_666", "--by", "Dana"),
                          "INC_009/../../../outside/INC_666"),
    "handoff-parent": (("handoff", "../../outside/INC_666", "--by", "Dana"), "../../outside/INC_666"),
    "new-handoff-absolute": (("new", "handoff", "{outside}/INC_666", "--by", "Dana"), "{outside}/INC_666"),
    "handoff-newline": (("handoff", "INC_009\n", "--by", "Dana"), "INC_009\\n"),
    "assess-write-parent": (("assess", "--write", "../../outside/INC_666", *ANSWERS), "../../outside/INC_666"),
    "assess-write-absolute": (("assess", "--write", "{outside}/INC_666", *ANSWERS), "{outside}/INC_666"),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS))
def test_an_id_that_would_leave_the_registry_is_refused(case: str, example: Path, outside: Path) -> None:
    args, shown = INJECTIONS[case]
    args = tuple(a.replace("{outside}", str(outside)) for a in args)
    before_outside, before_registry = tree(outside), tree(example)
    result = run_cli(*args, "--as-of", AS_OF, cwd=example) if args[0] != "assess" else run_cli(*args, cwd=example)
    assert result.code == 2, result.out + result.err
    first = result.err.splitlines()[0]
    assert shown.replace("{outside}", str(outside)) in first
    assert INCIDENT_PATTERN in first
    assert "Traceback" not in result.err
    assert tree(outside) == before_outside
    assert tree(example) == before_registry


@pytest.mark.parametrize(("args", "pattern"), [
    (("new", "regression", "INC_009", "--scenario", "../../outside", "--by", "Dana"), "^[a-z][a-z0-9_]*$"),
    (("handoff", "INC_009", "--scenario", "a/b", "--by", "Dana"), "^[a-z][a-z0-9_]*$"),
])
def test_a_scenario_name_that_is_not_a_slug_is_refused(args: tuple[str, ...], pattern: str, example: Path) -> None:
    before = tree(example)
    result = run_cli(*args, "--as-of", AS_OF, cwd=example)
    assert result.code == 2
    assert pattern in result.err and repr(args[args.index("--scenario") + 1]) in result.err
    assert tree(example) == before


def test_ids_with_nul_or_a_trailing_newline_never_pass_the_pattern() -> None:
    # NUL cannot be typed on a command line (exec refuses it): the core check is what stands
    for bad in ("INC_001\0", "INC_001\n", "INC_001/", "INC_1", "inc_001", "../INC_001", "INC_001 "):
        with pytest.raises(IncidentOpsError) as raised:
            check_id("incident", bad)
        assert repr(bad) in raised.value.message and INCIDENT_PATTERN in raised.value.message
    assert check_id("incident", "INC_010") == "INC_010"
    assert check_id("test", "regression_INC_001_v2") == "regression_INC_001_v2"


def test_look_alike_ids_still_work(example: Path) -> None:
    """INC_010 (a new id past the example's) and a second test of one incident, regression_INC_001_v2."""
    assert run_cli("new", "incident", "--as-of", AS_OF, cwd=example).code == 0
    assert (example / "incidents" / "INC_010" / "incident.yaml").is_file()
    done = run_cli("new", "postmortem", "INC_010", "--as-of", AS_OF, cwd=example)
    assert done.code == 0, done.err
    assert (example / "incidents" / "INC_010" / "postmortem.md").is_file()
    text = (example / "regressions" / "regression_INC_001.yaml").read_text()
    (example / "regressions" / "regression_INC_001_v2.yaml").write_text(
        text.replace("test_id: regression_INC_001", "test_id: regression_INC_001_v2"))
    _, found = check_json(example)
    assert fs_findings(found) == []
    assert not [f for f in found if "regression_INC_001_v2" in f["path"] and f["rule"].startswith(("schema", "fs"))]
    assessed = run_cli("assess", "--write", "INC_010", *ANSWERS, cwd=example)
    assert assessed.code == 0, assessed.err


# --- links, FIFOs, devices and unreadable folders in the registry --------------------------


def test_a_symlinked_incident_folder_is_a_finding_and_never_read_or_written(example: Path, outside: Path) -> None:
    (example / "incidents" / "INC_011").symlink_to(outside / "INC_011", target_is_directory=True)
    before = tree(outside)
    code, found = check_json(example)
    assert code == 1
    assert fs_findings(found) == [("incidents/INC_011", 1, 1, "fs.symlink")]
    message = next(f for f in found if f["rule"] == "fs.symlink")["message"]
    assert str(outside / "INC_011") in message
    for args in (("new", "postmortem", "INC_011", "--as-of", AS_OF),
                 ("handoff", "INC_011", "--by", "Dana", "--as-of", AS_OF),
                 ("assess", "--write", "INC_011", *ANSWERS)):
        result = run_cli(*args, cwd=example)
        assert result.code == 2, (args, result.out, result.err)
        assert "INC_011" in result.err and "Traceback" not in result.err
    assert tree(outside) == before
    assert not (example / "regressions" / "regression_INC_011.yaml").exists()


def test_a_symlinked_record_is_a_finding(example: Path) -> None:
    (example / "regressions" / "regression_INC_011.yaml").symlink_to("/etc/passwd")
    (example / "incidents" / "INC_002" / "handoff.yaml").symlink_to(example / "incidents/INC_001/handoff.yaml")
    code, found = check_json(example)
    assert code == 1
    assert fs_findings(found) == [
        ("incidents/INC_002/handoff.yaml", 1, 1, "fs.symlink"),
        ("regressions/regression_INC_011.yaml", 1, 1, "fs.symlink"),
    ]
    # and nothing the link points to is copied into the findings
    assert "root:" not in json.dumps(found)


def test_a_fifo_a_device_and_a_symlinked_folder_finish_with_findings(example: Path) -> None:
    os.mkfifo(example / "audit" / "20261201T000000Z_RETIRE_REGRESSION_regression_INC_009.yaml")
    os.mkfifo(example / "incidents" / "INC_002" / "handoff.yaml")
    (example / "reviews").mkdir(exist_ok=True)
    (example / "reviews" / "2027-Q1.yaml").symlink_to("/dev/zero")
    (example / "scenarios").symlink_to(example / "regressions", target_is_directory=True)
    code, found = check_json(example)  # a hang fails the test through the timeout
    assert code == 1
    assert fs_findings(found) == [
        ("audit/20261201T000000Z_RETIRE_REGRESSION_regression_INC_009.yaml", 1, 1, "fs.special"),
        ("incidents/INC_002/handoff.yaml", 1, 1, "fs.special"),
        ("reviews/2027-Q1.yaml", 1, 1, "fs.symlink"),
        ("scenarios", 1, 1, "fs.symlink"),
    ]
    fifo = next(f for f in found if f["path"] == "incidents/INC_002/handoff.yaml")
    assert "FIFO" in fifo["message"]


def test_an_unreadable_or_looping_incident_folder_is_a_finding(example: Path) -> None:
    """Not root: a folder without permissions. Root reads any folder, so there the folder that
    cannot be entered is a symlink loop; both are located findings, never an internal error."""
    loop = example / "incidents" / "INC_012"
    loop.symlink_to("INC_012")
    locked = example / "incidents" / "INC_004"
    if not AS_ROOT:
        locked.chmod(0)
    try:
        code, found = check_json(example)
    finally:
        locked.chmod(0o755)
    assert code == 1
    expected = [("incidents/INC_012", 1, 1, "fs.symlink")]
    if not AS_ROOT:
        expected.insert(0, ("incidents/INC_004", 1, 1, "fs.unreadable"))
    assert fs_findings(found) == expected


def test_a_registry_reached_through_a_symlinked_parent_works(example: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(example.parent, target_is_directory=True)
    root = link / example.name
    code, found = check_json(root)
    assert code == 0 and fs_findings(found) == []
    result = run_cli("handoff", "INC_009", "--by", "Dana", "--scenario", "x", "--as-of", AS_OF,
                     "--root", str(root), cwd=tmp_path)
    assert result.code == 0, result.err
    assert (example / "incidents" / "INC_009" / "handoff.yaml").is_file()
    assert (example / "regressions" / "regression_INC_009.yaml").is_file()


def test_writers_refuse_a_link_or_a_path_outside_the_root(example: Path, outside: Path) -> None:
    (example / "incidents" / "INC_011").symlink_to(outside / "INC_011", target_is_directory=True)
    (example / "regressions" / "regression_INC_011.yaml").symlink_to(outside / "secret.yaml")
    before = tree(outside)
    attempts = [
        lambda: write_text_atomic(example / "incidents/INC_011/postmortem.md", "x"),
        lambda: create_text_exclusive(example / "incidents/INC_011/handoff.yaml", "x", root=example),
        lambda: write_text_atomic(example / "regressions/regression_INC_011.yaml", "x"),
        lambda: create_text_exclusive(example / "incidents/../../outside/x.yaml", "x", root=example),
        lambda: write_text_atomic(example / "incidents/INC_009/../../regressions/x.yaml", "x", root=example),
    ]
    for attempt in attempts:
        with pytest.raises(IncidentOpsError, match="refusing to write"):
            attempt()
    assert tree(outside) == before
    # the look-alike: a plain write inside the registry
    write_text_atomic(example / "incidents/INC_009/notes.yaml", "x: 1\n", root=example)
    assert (example / "incidents/INC_009/notes.yaml").read_text() == "x: 1\n"


# --- git: links and submodules in a tree, damaged objects -----------------------------------


def _registry_repo(example: Path, tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(example / name, repo.path / name)
    shutil.copytree(example / "incidents", repo.path / "incidents")
    shutil.copytree(example / "regressions", repo.path / "regressions")
    repo.git("add", "-A")
    repo.commit("The registry", date="2026-01-05T09:00:00Z")
    return repo


def test_tree_links_and_submodules_are_listed_not_read(example: Path, tmp_path: Path) -> None:
    repo = _registry_repo(example, tmp_path)
    (repo.path / "regressions" / "regression_INC_011.yaml").symlink_to("/etc/passwd")
    (repo.path / "incidents" / "INC_011").symlink_to("../../outside/INC_011")
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},incidents/INC_012")
    repo.commit("Links", date="2026-01-06T09:00:00Z")
    files = read_tree_files(repo.path, "HEAD")
    assert "regressions/regression_INC_011.yaml" not in files
    assert {p: (link.kind, link.target) for p, link in files.links.items()} == {
        "incidents/INC_011": ("symlink", "../../outside/INC_011"),
        "incidents/INC_012": ("submodule", repo.rev("HEAD~1")),
        "regressions/regression_INC_011.yaml": ("symlink", "/etc/passwd"),
    }
    assert files["regressions/regression_INC_001.yaml"] == (example / "regressions/regression_INC_001.yaml").read_bytes()


def test_tree_without_links_has_none(example: Path, tmp_path: Path) -> None:
    repo = _registry_repo(example, tmp_path)
    files = read_tree_files(repo.path, "HEAD")
    assert files.links == {}
    assert "incidents/INC_009/incident.yaml" in files


def test_a_corrupt_git_object_or_unknown_revision_is_a_clear_error(example: Path, tmp_path: Path) -> None:
    repo = _registry_repo(example, tmp_path)
    repo.branch("change")
    path = "regressions/regression_INC_001.yaml"
    repo.write(path, repo.read(path).replace("attack_vector_status: viable", "attack_vector_status: patched"))
    repo.commit("Patched", date="2026-01-07T09:00:00Z")
    oid = repo.git("rev-parse", f"main:{path}").strip()
    loose = repo.path / ".git" / "objects" / oid[:2] / oid[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    with pytest.raises(IncidentOpsError) as raised:
        read_tree_files(repo.path, "main")
    assert oid in raised.value.message and path in raised.value.message
    result = scripted_registry.run(repo, "pr-check", "--base", "main", "--as-of", AS_OF)
    assert result.code == 2, result.out + result.err
    assert result.err.startswith("incidentops: error:") and "internal error" not in result.err
    unknown = scripted_registry.run(repo, "pr-check", "--base", "no-such-branch", "--as-of", AS_OF)
    assert unknown.code == 2
    assert "no-such-branch" in unknown.err and "internal error" not in unknown.err


# --- identity and terminals ----------------------------------------------------------------


def test_the_create_decision_names_the_git_user(example: Path, tmp_path: Path) -> None:
    repo = _registry_repo(example, tmp_path)
    repo.git("config", "user.name", "Dana Example")
    result = scripted_registry.run(repo, "handoff", "INC_009", "--scenario", "x", "--as-of", AS_OF)
    assert result.code == 0, result.err
    test = (repo.path / "regressions" / "regression_INC_009.yaml").read_text()
    assert '    by: Dana Example\n' in test
    made = scripted_registry.run(repo, "new", "regression", "INC_002", "--by", "Sam Example", "--as-of", AS_OF)
    assert made.code == 0, made.err
    assert '    by: Sam Example\n' in (repo.path / "regressions" / "regression_INC_002.yaml").read_text()


def test_without_a_known_person_nothing_is_written(example: Path) -> None:
    before = tree(example)
    # an e-mail address alone does not name anyone: it would be personal data in a published record
    email_only = {**NO_GIT_USER, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email",
                  "GIT_CONFIG_VALUE_0": "dana@example.org"}
    for args in (("handoff", "INC_009"), ("new", "regression", "INC_009")):
        for env in (NO_GIT_USER, email_only):
            result = run_cli(*args, "--as-of", AS_OF, "--root", str(example), cwd=example.parent, env=env)
            assert result.code == 2
            assert result.err.splitlines()[0] == (
                "incidentops: error: cannot tell who is making this change: git config user.name is unset"
            )
            assert "--by" in result.err
    assert tree(example) == before
    given = run_cli("handoff", "INC_009", "--by", "Dana Example", "--as-of", AS_OF, "--root", str(example),
                    cwd=example.parent, env=NO_GIT_USER)
    assert given.code == 0, given.err
    assert '    by: Dana Example\n' in (example / "regressions" / "regression_INC_009.yaml").read_text()


@pytest.fixture(scope="module")
def lifecycle_template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("paths") / "registry")


def test_a_latin1_terminal_prints_escapes_and_the_decision_is_written_once(
    lifecycle_template: GitRepo, tmp_path: Path
) -> None:
    repo = scripted_registry.copy(lifecycle_template, tmp_path / "registry")
    reason = "Attack still seen \u2192 keep it blocking \U0001f6a8"
    result = scripted_registry.run(repo, "lifecycle", "keep", "regression_INC_001", "--reason", reason,
                                   "--as-of", "2026-10-04T10:00:00Z",
                                   env={"PYTHONIOENCODING": "latin-1", "LANG": "C", "LC_ALL": "C"})
    assert result.code == 0, result.err
    assert "\\u2192" in result.out and "\\U0001f6a8" in result.out
    text = (repo.path / "regressions" / "regression_INC_001.yaml").read_text(encoding="utf-8")
    assert text.count("\u2192") == 1
    assert text.count("decision: KEEP") == 2  # the one already recorded, and this one


def test_a_latin1_terminal_gets_the_error_line_too(example: Path) -> None:
    result = run_cli("new", "postmortem", "INC_\u2192", cwd=example, env={"PYTHONIOENCODING": "latin-1"})
    assert result.code == 2
    assert "'INC_\\u2192' is not a valid incident id" in result.err


def test_the_shipped_registry_has_no_links_where_records_are() -> None:
    """The product repository is itself a registry; its record folders hold no links."""
    assert fs_findings(check_json(REPO)[1]) == []


def test_decay_never_reads_a_fifo_or_device_in_place_of_a_record(example: Path) -> None:
    """`decay` reads the records itself: a record replaced by a FIFO or a link to a device is skipped, not read."""
    fifo = example / "incidents/INC_001/incident.yaml"
    fifo.unlink()
    os.mkfifo(fifo)
    device = example / "regressions/regression_INC_003.yaml"
    device.unlink()
    os.symlink("/dev/zero", device)
    result = run_cli("decay", "--as-of", "2026-06-01", "--format", "json", cwd=example)
    assert result.code in (0, 1), result.err
    assert "regression_INC_003" not in {t["test_id"] for t in result.json()["tests"]}


def test_a_link_named_on_the_command_line_is_a_finding_not_followed(example: Path, tmp_path: Path) -> None:
    """pre-commit passes the link itself: `check LINK` reports it, whether it loops, leaves or points to a record."""
    (example / "incidents/INC_LOOP").symlink_to("INC_LOOP")
    (example / "regressions/regression_INC_099.yaml").symlink_to("/etc/passwd")
    for name in ("incidents/INC_LOOP", "regressions/regression_INC_099.yaml"):
        result = run_cli("check", "--format", "json", "--as-of", "2026-06-01", name, cwd=example)
        assert result.code == 1, result.err
        assert [(f["path"], f["line"], f["rule"]) for f in result.json()] == [(name, 1, "fs.symlink")]
    # look-alike: a registry reached through a linked folder checks its records as usual
    link = tmp_path / "linked-registry"
    link.symlink_to(example)
    result = run_cli("check", "--format", "json", "--as-of", "2026-06-01", "incidents/INC_001/incident.yaml", cwd=link)
    assert (result.code, result.json()) == (0, [])
