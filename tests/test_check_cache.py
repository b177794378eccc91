"""Check speed-ups never change findings: the result cache between runs, and the parallel check."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import incidentops.checks as checks
from conftest import run_cli
from incidentops.checks import check_registry
from incidentops.checks.cache import BUCKETS, CACHE_ENV, KEY_FILE, LEGACY_DIR, bucket_of
from incidentops.records.registry import Registry

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own user cache folder, and no CI variable (the cache is on by default)."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    monkeypatch.delenv("CI", raising=False)
    return folder


def run(root: Path, *, cache: bool = True, paths: list[str] | None = None, warnings: list[str] | None = None):
    return check_registry(Registry(root), AS_OF, paths, cache=cache,
                          warn=warnings.append if warnings is not None else None)


def registry_folder(user_cache: Path, root: Path) -> Path:
    return user_cache / "check" / hashlib.blake2b(os.fsencode(root.resolve()), digest_size=10).hexdigest()


def bucket_file(user_cache: Path, root: Path, path: str) -> Path:
    return registry_folder(user_cache, root) / f"{bucket_of(path):02d}.json"


def read_bucket(file: Path) -> dict:
    return json.loads(file.read_bytes().partition(b"\n")[2])


def write_bucket(user_cache: Path, file: Path, data: dict) -> None:
    """Write a cache file as this user's incidentops would (authenticated with the key)."""
    key = bytes.fromhex((user_cache / KEY_FILE).read_text())
    body = json.dumps(data).encode()
    file.write_bytes(hashlib.blake2b(body, key=key, digest_size=32).hexdigest().encode() + b"\n" + body)


def entries(user_cache: Path, root: Path) -> dict:
    out: dict = {}
    for file in registry_folder(user_cache, root).glob("*.json"):
        out.update(read_bucket(file)["entries"])
    return out


def rules_at(findings, rule):
    return [(f.path, f.line, f.col, f.level) for f in findings if f.rule == rule]


def test_cached_run_gives_the_same_findings_and_writes_nothing_into_the_registry(example: Path, user_cache: Path) -> None:
    before = sorted(p.relative_to(example) for p in example.rglob("*"))
    uncached = run(example, cache=False)
    assert not user_cache.exists()
    first = run(example)
    assert "pii\0incidents/INC_001/postmortem.md" in entries(user_cache, example)
    second = run(example)
    assert uncached == first == second
    assert sorted(p.relative_to(example) for p in example.rglob("*")) == before
    assert (user_cache / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert {f.stat().st_mode & 0o777 for f in registry_folder(user_cache, example).glob("*.json")} == {0o600}


def test_an_entry_is_read_back_only_for_the_same_text(example: Path, user_cache: Path) -> None:
    run(example)
    path = "incidents/INC_001/postmortem.md"
    file = bucket_file(user_cache, example, path)
    data = read_bucket(file)
    data["entries"][f"blameless-postmortem\0{path}"][2] = [[3, 1, "warning", "blameless.root-cause", "from the cache", ""]]
    write_bucket(user_cache, file, data)
    assert [f.message for f in run(example) if f.path == path] == ["from the cache"]

    postmortem = example / path
    postmortem.write_text(postmortem.read_text() + "\nThe root cause was a missing check.\n")
    last = len(postmortem.read_text().splitlines())
    assert rules_at(run(example), "blameless.root-cause") == [(path, last, 5, "warning")]


@pytest.mark.parametrize(
    ("damage", "warned"),
    [
        (b"not json {", "its authentication code does not match"),
        (b"0" * 64 + b"\n[1, 2]", "its authentication code does not match"),
        ("SIGNED-JUNK", "it is not valid JSON"),
        ("SIGNED-MALFORMED", None),  # authentic, right salt, malformed entries: each ignored
        ("SIGNED-OTHER-SALT", None),  # stale: another version or policy
    ],
)
def test_a_corrupt_forged_or_stale_cache_file_is_ignored_and_rewritten(
    example: Path, user_cache: Path, damage: bytes | str, warned: str | None
) -> None:
    expected = run(example, cache=False)
    run(example)
    path = "incidents/INC_001/incident.yaml"
    file = bucket_file(user_cache, example, path)
    data = read_bucket(file)
    if damage == "SIGNED-JUNK":
        key = bytes.fromhex((user_cache / KEY_FILE).read_text())
        file.write_bytes(hashlib.blake2b(b"{junk", key=key, digest_size=32).hexdigest().encode() + b"\n{junk")
    elif damage == "SIGNED-MALFORMED":
        data["entries"] = {
            f"pii\0{path}": ["d", "public", [["1", 1, "error", "pii.email", "m", ""]]],
            "pii\0incidents/INC_002/incident.yaml": "nonsense",
            "no separator": ["d", "", []],
        }
        write_bucket(user_cache, file, data)
    elif damage == "SIGNED-OTHER-SALT":
        for row in data["entries"].values():
            row[2] = []
        data["salt"] = "another"
        write_bucket(user_cache, file, data)
    else:
        assert isinstance(damage, bytes)
        file.write_bytes(damage)
    warnings: list[str] = []
    assert run(example, warnings=warnings) == expected
    if warned is None:
        assert warnings == []
    else:
        assert warnings == [f"ignored the result cache file {file}: "
                            + ("it was not written by incidentops under this account (its authentication code does not match)"
                               if "authentication" in warned else warned)]
    assert read_bucket(file)["format"] == 2
    assert run(example, warnings=warnings) == expected
    assert len(warnings) == (0 if warned is None else 1)  # rewritten: no second warning


def test_a_policy_change_empties_the_cache(example: Path, user_cache: Path) -> None:
    run(example)
    file = bucket_file(user_cache, example, "incidents/INC_001/incident.yaml")
    salt = read_bucket(file)["salt"]
    policy = example / "incidentops.yaml"
    policy.write_text(policy.read_text() + "\n# reviewed\n")
    run(example)  # the policy text changed but not its content: same salt
    assert read_bucket(file)["salt"] == salt
    policy.write_text(policy.read_text().replace("Widespread harm,", "Widespread harm to users,", 1))
    run(example)
    assert read_bucket(file)["salt"] != salt


def test_an_upgrade_of_a_scanning_library_empties_the_cache(
        example: Path, user_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a new phonenumbers or detect-secrets can find what the old one missed: its findings are not reused
    import importlib

    from incidentops.checks import cache

    site = tmp_path / "site-packages"
    (site / "fakescan").mkdir(parents=True)
    (site / "fakescan" / "__init__.py").write_text("")
    (site / "fakescan-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setattr(cache, "LIBRARIES", (*cache.LIBRARIES, ("fakescan", "fakescan")))
    assert "fakescan:fakescan-1.0.dist-info" in cache.library_versions()
    run(example)
    file = bucket_file(user_cache, example, "incidents/INC_001/incident.yaml")
    salt = read_bucket(file)["salt"]
    run(example)  # nothing changed: the entries are reused
    assert read_bucket(file)["salt"] == salt
    (site / "fakescan-1.0.dist-info").rename(site / "fakescan-1.1.dist-info")
    run(example)
    assert read_bucket(file)["salt"] != salt


def test_pii_level_follows_the_incident_visibility_even_when_cached(example: Path) -> None:
    postmortem = example / "incidents/INC_001/postmortem.md"
    postmortem.write_text(postmortem.read_text() + "\nContact: jane.roe@acme-corp.com\n")
    line = len(postmortem.read_text().splitlines())
    assert rules_at(run(example), "pii.email") == [("incidents/INC_001/postmortem.md", line, 10, "error")]
    incident = example / "incidents/INC_001/incident.yaml"
    text = incident.read_text()
    assert "visibility: public" in text
    incident.write_text(text.replace("visibility: public", "visibility: internal"))
    assert rules_at(run(example), "pii.email") == [("incidents/INC_001/postmortem.md", line, 10, "warning")]


def test_checking_one_file_reads_and_writes_only_its_cache_file(example: Path, user_cache: Path) -> None:
    run(example)
    folder = registry_folder(user_cache, example)
    before = {file.name: file.read_bytes() for file in folder.glob("*.json")}
    assert len(before) > 1
    path = "incidents/INC_001/incident.yaml"
    mine = bucket_file(user_cache, example, path)
    for file in folder.glob("*.json"):
        if file != mine:
            file.write_bytes(b"not read by a check of one file")
    incident = example / path
    incident.write_text(incident.read_text() + "# reviewed\n")
    warnings: list[str] = []
    assert run(example, paths=[path], warnings=warnings) == run(example, cache=False, paths=[path])
    assert warnings == []
    assert mine.read_bytes() != before[mine.name]
    assert f"pii\0{path}" in read_bucket(mine)["entries"]
    assert {file.name: file.read_bytes() for file in folder.glob("*.json") if file != mine} == dict.fromkeys(
        (name for name in before if name != mine.name), b"not read by a check of one file"
    )


def test_checking_some_files_keeps_the_entries_of_the_others(example: Path, user_cache: Path) -> None:
    run(example)
    before = set(entries(user_cache, example))
    run(example, paths=["incidents/INC_001/incident.yaml"])
    assert set(entries(user_cache, example)) == before


def test_a_whole_check_drops_entries_of_deleted_files(example: Path, user_cache: Path) -> None:
    run(example)
    assert [key for key in entries(user_cache, example) if key.endswith("INC_007/postmortem.md")]
    (example / "incidents/INC_007/postmortem.md").unlink()
    run(example)
    assert not [key for key in entries(user_cache, example) if key.endswith("INC_007/postmortem.md")]


def test_entries_are_spread_over_a_fixed_number_of_files(example: Path, user_cache: Path) -> None:
    run(example)
    files = list(registry_folder(user_cache, example).glob("*.json"))
    assert 1 < len(files) <= BUCKETS
    for file in files:
        data = read_bucket(file)
        assert {bucket_of(key.partition("\0")[2]) for key in data["entries"]} == {data["bucket"]}
        assert data["root"] == str(example.resolve())


def test_the_caches_of_registries_that_are_gone_are_deleted(tmp_path: Path, example: Path, user_cache: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    for name in ("incidentops.yaml", "models.yaml"):
        (gone / name).write_bytes((example / name).read_bytes())
    run(gone)
    assert registry_folder(user_cache, gone).is_dir()
    (gone / "incidentops.yaml").unlink()
    (gone / "models.yaml").unlink()
    gone.rmdir()
    run(example)  # a new registry's cache: the others are looked at
    assert not registry_folder(user_cache, gone).exists()
    assert registry_folder(user_cache, example).is_dir()


def test_cli_no_cache_neither_reads_nor_writes(example: Path, user_cache: Path) -> None:
    env = {CACHE_ENV: str(user_cache), "CI": ""}
    result = run_cli("check", "--no-cache", "--format", "json", "--as-of", "2026-06-01", cwd=example, env=env)
    assert result.code in (0, 1), result.err
    assert not user_cache.exists()
    cached = run_cli("check", "--format", "json", "--as-of", "2026-06-01", cwd=example, env=env)
    assert cached.json() == result.json()
    assert entries(user_cache, example)


def test_cli_under_ci_uses_no_cache_unless_asked(example: Path, user_cache: Path) -> None:
    env = {CACHE_ENV: str(user_cache), "CI": "true"}
    plain = run_cli("check", "--format", "json", "--as-of", "2026-06-01", cwd=example, env=env)
    assert plain.code in (0, 1), plain.err
    assert not user_cache.exists()
    asked = run_cli("check", "--cache", "--format", "json", "--as-of", "2026-06-01", cwd=example, env=env)
    assert asked.json() == plain.json()
    assert entries(user_cache, example)


def test_a_cache_folder_inside_the_repository_is_refused(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (example / ".git").mkdir()  # the registry is a git work tree
    inside = example / "tool-state"
    warnings: list[str] = []
    findings = check_registry(Registry(example), AS_OF, None, cache=True, warn=warnings.append)
    assert findings == run(example, cache=False)
    assert warnings == []
    monkeypatch.setenv(CACHE_ENV, str(inside))
    findings = check_registry(Registry(example), AS_OF, None, cache=True, warn=warnings.append)
    assert findings == run(example, cache=False)
    assert warnings == [
        f"the result cache is not used: its folder {inside} is inside the registry {example.resolve()}, where a"
        f" commit could plant it; set {CACHE_ENV} to a folder outside the repository"
    ]
    assert not inside.exists()


def test_a_legacy_cache_folder_in_the_registry_is_reported_not_read(example: Path) -> None:
    expected = run(example, cache=False)
    (example / LEGACY_DIR).mkdir()
    (example / LEGACY_DIR / "text-checks.json").write_text('{"format": 1, "entries": {}}')
    found = run(example)
    extra = [f for f in found if f not in expected]
    assert [(f.location(), f.level, f.rule) for f in extra] == [(f"{LEGACY_DIR}:1:1", "warning", "cache.in-registry")]
    assert run(example, paths=["incidents/INC_001/incident.yaml"]) == [
        f for f in expected if f.path == "incidents/INC_001/incident.yaml"
    ]


def test_parallel_check_finds_what_one_process_finds(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    postmortem = example / "incidents/INC_003/postmortem.md"
    postmortem.write_text(postmortem.read_text() + "\nAlice forgot to rotate the key.\n")
    one = run(example, cache=False)
    monkeypatch.setattr(checks, "PARALLEL_THRESHOLD", 1)
    many = run(example, cache=False)
    assert many == one
    assert ("blameless.named-individual", "incidents/INC_003/postmortem.md") in {(f.rule, f.path) for f in many}
    assert run(example) == one  # parallel, filling the cache
    assert run(example) == one  # parallel, reading it


def test_rule_kinds_name_exactly_the_kinds_of_those_modules_rules() -> None:
    import importlib

    for name, kinds in checks.RULE_KINDS.items():
        assert name in checks.RULE_MODULES
        assert set(importlib.import_module(name).RULES) == kinds, name


def test_checking_one_incident_loads_no_rule_module_of_other_kinds(example: Path) -> None:
    # pre-commit checks the staged files one by one: the git history and the lifecycle are not needed there
    import subprocess
    import sys

    script = (
        "import sys; from datetime import UTC, datetime; from incidentops.checks import check_registry;"
        " from pathlib import Path; from incidentops.records.registry import Registry;"
        f" check_registry(Registry(Path({str(example)!r})), datetime(2026, 6, 1, tzinfo=UTC),"
        " ['incidents/INC_001/incident.yaml', 'incidents/INC_001/postmortem.md'], cache=False);"
        " print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = set(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split())
    assert "incidentops.checks.severity_rules" in loaded  # the incident's own rules ran
    assert not {name for name in loaded if name.startswith("incidentops.lifecycle.")} | (
        loaded & set(checks.RULE_KINDS))


def test_checking_one_file_finds_what_the_whole_check_finds_there(example: Path) -> None:
    whole = run(example, cache=False)
    for path in Registry(example).all_paths():
        assert run(example, cache=False, paths=[path]) == [f for f in whole if f.path == path], path
