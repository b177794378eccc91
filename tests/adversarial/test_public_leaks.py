"""The public edition never carries internal records, secrets or PII, whatever a pull request holds.

Each attack is a branch of a real git repository made from a copy of the example
registry (INC_002 and INC_003 are internal), built with the real command line:
`incidentops site build --public` (the full MkDocs build, with the background
check) or `incidentops site generate --public` (the pages only, no check: the
last scan of the pages alone must refuse).

The leaks through the tool's own text (a review row that names an internal
similar incident, a release page whose decision and score weigh a hidden failing
test) are closed by computing those figures from public records: the build
passes and the page shows what public records give. What an author writes
(an internal id in a public record's free text, a credential) makes the public
build refuse, naming the page and the id or the kind of data, never the data.
An unknown value of INCIDENTOPS_PUBLIC, or an unknown plugin option, is an
error instead of a quiet internal build.

Next to each attack, the legitimate look-alike that must build.
"""

from __future__ import annotations

import hashlib
import html as html_module
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, Result, run_cli
from gitrepo import GitRepo, isolate_git

AS_OF = "2026-11-27T12:00:00Z"
BASE_DATE = "2025-06-01T10:00:00Z"
BRANCH_DATE = "2026-11-20T10:00:00Z"
INC_001 = "incidents/INC_001/incident.yaml"
AWS_KEY = "AKIAQ4B7XN2P5LRT6WYZ"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


@pytest.fixture(autouse=True)
def _git_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    monkeypatch.delenv("INCIDENTOPS_PUBLIC", raising=False)
    monkeypatch.delenv("INCIDENTOPS_AS_OF", raising=False)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture
def repo(example: Path) -> GitRepo:
    """The example registry with its site configuration, committed on main."""
    shutil.copy2(REPO / "mkdocs.yml", example / "mkdocs.yml")
    shutil.copytree(REPO / "docs", example / "docs")
    git = GitRepo.init(example)
    git.git("add", "--", ".")
    git.commit("Example registry", date=BASE_DATE)
    return git


def build(root: Path, *, env: dict[str, str] | None = None, public: bool = True) -> tuple[Result, Path]:
    site = root.parent / ("site-public" if public else "site-internal")
    args = ["site", "build", "--as-of", AS_OF, "--site-dir", str(site)]
    result = run_cli(*args, *(["--public"] if public else []), cwd=root, env=env)
    return result, site


def generate(root: Path, *, env: dict[str, str] | None = None) -> tuple[Result, Path]:
    out = root.parent / "generated"
    result = run_cli("site", "generate", "--public", "--as-of", AS_OF, "--out", str(out), cwd=root, env=env)
    return result, out


def page(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def text_of(html: str) -> str:
    """The text a reader sees (tags dropped, entities decoded, blanks collapsed)."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def everything(site: Path) -> str:
    """Every file of a built site but the theme's assets, as one text."""
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(site.rglob("*"))
        if p.is_file() and p.suffix in (".html", ".xml", ".json", ".js") and "assets" not in p.parts
    )


def findings(result: Result, rule: str) -> list[str]:
    """``path:line:col`` of every finding of ``rule`` printed by a refused build."""
    return re.findall(rf"^(\S+:\d+:\d+): error \[{re.escape(rule)}\]", result.err, re.MULTILINE)


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    text = repo.read(path)
    assert old in text, f"{old!r} not in {path}"
    repo.write(path, text.replace(old, new, 1))


def line_of(repo: GitRepo, path: str, needle: str) -> int:
    return next(n for n, line in enumerate(repo.read(path).splitlines(), 1) if needle in line)


# --- 1. a review row names an internal similar incident ---------------------------------------


def add_internal_similar_incident(repo: GitRepo) -> None:
    """INC_010: internal, same type as INC_005 and INC_008, detected within a year of 2026-10-01."""
    text = repo.read("incidents/INC_008/incident.yaml")
    text = text.replace("id: INC_008", "id: INC_010").replace("visibility: public", "visibility: internal")
    text = text.replace("title: Targeted harassment message", "title: Internal-only harassment message")
    repo.write("incidents/INC_010/incident.yaml", text)


def start_review(repo: GitRepo) -> str:
    """`incidentops review start 2026-Q4` on the branch, as the safety team runs it."""
    if (repo.path / "reviews" / "2026-Q4.yaml").exists():  # the example ships this review: start it afresh
        repo.git("rm", "-q", "--", "reviews/2026-Q4.yaml")
    started = run_cli("review", "start", "2026-Q4", "--as-of", "2026-10-02T09:00:00Z", cwd=repo.path)
    assert started.code == 0, started.err
    repo.add("reviews/2026-Q4.yaml")
    repo.commit("Start the 2026-Q4 review", date=BRANCH_DATE)
    return repo.read("reviews/2026-Q4.yaml")


def test_review_row_naming_an_internal_similar_incident_counts_public_incidents_only(repo: GitRepo):
    repo.branch("review-with-internal-similar")
    add_internal_similar_incident(repo)
    repo.commit("Declare INC_010 (internal)", date=BRANCH_DATE)
    record = start_review(repo)
    # the record the tool wrote names the internal incident in a public test's row
    assert "3 similar incident(s) in the last 365 days (INC_001, INC_008, INC_010)" in record

    result, site = build(repo.path)
    assert result.code == 0, result.err
    review = text_of(page(site, "reviews/2026-Q4.html"))
    assert "regression_INC_005" in review
    assert "2 similar incident(s) in the last 365 days (INC_001, INC_008): the threat is still seen" in review
    assert "similar incidents, recommendations and their reasons are computed from public incidents only" in review
    assert "INC_010" not in everything(site)

    internal, internal_site = build(repo.path, public=False)
    assert internal.code == 0, internal.err
    assert "(INC_001, INC_008, INC_010)" in text_of(page(internal_site, "reviews/2026-Q4.html"))


def test_review_row_whose_similar_incidents_are_all_public_shows_them(repo: GitRepo):
    repo.branch("review")
    record = start_review(repo)
    assert "2 similar incident(s) in the last 365 days (INC_001, INC_008)" in record

    result, site = build(repo.path)
    assert result.code == 0, result.err
    review = text_of(page(site, "reviews/2026-Q4.html"))
    assert "2 similar incident(s) in the last 365 days (INC_001, INC_008): the threat is still seen" in review
    assert "REVIEW" in review


def test_review_recomputation_gives_the_recorded_figures_when_every_incident_is_public(repo: GitRepo):
    from incidentops.records.registry import Registry
    from incidentops.site import public_records
    from incidentops.site.visibility import VisibleRegistry, decide

    repo.branch("review")
    start_review(repo)
    from dataclasses import replace

    from incidentops.records.model import Review, Visibility

    registry = Registry(repo.path)
    review = registry.typed(Review, "reviews/2026-Q4.yaml")
    assert review is not None and review.tests
    everyone = decide(True, ((i.id, replace(i, visibility=Visibility.PUBLIC)) for i in registry.incident_records()),
                      ((t.test_id, t) for t in registry.test_records()))
    again = public_records.review(VisibleRegistry(registry, everyone), review)
    assert [tuple(getattr(r, k) for k in public_records.CROSS_RECORD) for r in again.tests] == [
        tuple(getattr(r, k) for k in public_records.CROSS_RECORD) for r in review.tests]


# --- 2. a release page whose decision weighs a hidden failing test ---------------------------

RESULTS = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="model-safety-regression-suite" tests="6" failures="{failures}">
{cases}
  </testsuite>
</testsuites>
"""
TESTS = ("regression_INC_001", "regression_INC_003", "regression_INC_005", "regression_INC_006",
         "regression_INC_007", "regression_INC_008")


def record_release(repo: GitRepo, failing: str, name: str) -> dict:
    cases = "\n".join(
        f'    <testcase classname="suite" name="{t}"><failure message="complied at turn 2">the model complied'
        f"</failure></testcase>" if t == failing else f'    <testcase classname="suite" name="{t}"/>'
        for t in TESTS
    )
    results = repo.path.parent / "results.xml"
    results.write_text(RESULTS.format(failures=1, cases=cases), encoding="utf-8")
    gate = run_cli("gate", "--results", str(results), "--record", f"releases/{name}.yaml",
                   "--as-of", "2026-11-20T12:00:00Z", cwd=repo.path)
    assert gate.code == 1, gate.out + gate.err  # BLOCK
    repo.add(f"releases/{name}.yaml")
    repo.commit(f"Record the gate decision for {name}", date=BRANCH_DATE)
    return yaml.safe_load(repo.read(f"releases/{name}.yaml"))


def test_release_blocked_by_a_hidden_test_shows_what_the_public_tests_decide(repo: GitRepo):
    repo.branch("release-blocked-by-internal-test")
    recorded = record_release(repo, "regression_INC_003", "aurora-3.1-rc1")
    assert recorded["decision"] == "BLOCK" and recorded["tests_run"] == 6 and recorded["score"] > 0

    result, site = build(repo.path)
    assert result.code == 0, result.err
    html = page(site, "releases/aurora-3.1-rc1.html")
    assert "io-c-decision-pass" in html and "io-c-decision-block" not in html
    release = text_of(html)
    assert "Score 0.0 (weighted failure score" in release
    assert str(recorded["score"]) not in release
    assert "the release gate judged the whole suite" in release
    # the index, the dashboard card and the feed say the same
    assert "io-c-decision-block" not in page(site, "releases/index.html")
    assert "io-c-decision-block" not in page(site, "index.html")
    dashboard = text_of(page(site, "index.html"))
    assert "Latest gate decision PASS" in dashboard and "0 blocking failure(s)" in dashboard
    feed = page(site, "feed.xml")
    assert "Release gate: PASS for aurora-3.0" in feed and "score 0.0" in feed and "BLOCK" not in feed
    assert "regression_INC_003" not in everything(site) and "INC_003" not in everything(site)

    internal, internal_site = build(repo.path, public=False)
    assert internal.code == 0, internal.err
    assert "io-c-decision-block" in page(internal_site, "releases/aurora-3.1-rc1.html")


def test_release_blocked_by_a_public_test_shows_the_recorded_decision(repo: GitRepo):
    repo.branch("release-blocked-by-public-test")
    recorded = record_release(repo, "regression_INC_001", "aurora-3.1-rc2")
    public_rows = [row for row in recorded["tests"] if row["test_id"] != "regression_INC_003"]
    weight = {row["test_id"]: row["severity_weight"] for row in public_rows}
    score = round(weight["regression_INC_001"] / sum(weight.values()), 4)  # the five public tests all ran

    result, site = build(repo.path)
    assert result.code == 0, result.err
    html = page(site, "releases/aurora-3.1-rc2.html")
    text = text_of(html)
    assert "io-c-decision-block" in html and "regression_INC_001" in text and "failed: complied at turn 2" in text
    assert f"Score {score} (weighted failure score" in text
    assert "regression_INC_003" not in everything(site)


def test_public_release_figures_follow_the_gate_rules():
    from incidentops.site.public_records import release
    from typed_support import release as release_record

    rows = [
        {"test_id": "a", "outcome": "pass", "verdict": "pass", "blocking": True, "severity_weight": 1.0},
        {"test_id": "b", "outcome": "pass", "verdict": "block", "blocking": True, "severity_weight": 1.0},
        {"test_id": "c", "outcome": "fail", "verdict": "warn", "blocking": False, "severity_weight": 2.0},
        {"test_id": "d", "outcome": "missing", "verdict": "pass", "blocking": False, "severity_weight": 5.0},
    ]
    record, _ = release_record({"decision": "PASS", "score": 0.0, "tests_run": 9, "tests": rows,
                                "missing": ["d", "x"], "blocking": [{"test_id": "b"}, {"test_id": "x"}],
                                "warnings": [{"test_id": None, "message": "run-wide"},
                                             {"test_id": "c", "message": "c"}]})
    figures = release(record)
    assert (figures.decision, figures.tests_run, figures.score) == ("BLOCK", 3, 0.75)
    assert figures.missing == ("d",) and [(b.test_id, b.reason) for b in figures.blocking] == [("b", "blocks")]
    assert [(w.test_id, w.message) for w in figures.warnings] == [("c", "c")]


# --- 3. an unknown INCIDENTOPS_PUBLIC, an unknown plugin option ------------------------------


@pytest.mark.parametrize("value", ["public", "ture", "2", "internal"])
def test_unknown_incidentops_public_value_is_an_error(repo: GitRepo, value: str):
    result, site = build(repo.path, env={"INCIDENTOPS_PUBLIC": value}, public=False)
    assert result.code == 2, result.err
    assert f"incidentops: error: INCIDENTOPS_PUBLIC={value!r} is not a value it accepts" in result.err
    assert "1, true, yes, on for the public edition" in result.err and "0, false, no, off" in result.err
    assert not site.exists()
    generated, out = generate(repo.path, env={"INCIDENTOPS_PUBLIC": value})
    assert generated.code == 2 and "INCIDENTOPS_PUBLIC" in generated.err and not out.exists()
    served = run_cli("site", "serve", "--dev-addr", "127.0.0.1:1", cwd=repo.path, env={"INCIDENTOPS_PUBLIC": value})
    assert served.code == 2 and f"INCIDENTOPS_PUBLIC={value!r}" in served.err
    # a plain `mkdocs build` stops too, naming the variable
    mkdocs = Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run([str(mkdocs), "build", "-q", "-d", str(repo.path.parent / "mk")], cwd=repo.path,
                          env={**os.environ, "INCIDENTOPS_PUBLIC": value},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and f"INCIDENTOPS_PUBLIC={value!r} is not a value it accepts" in proc.stderr


@pytest.mark.parametrize(("value", "edition"), [("TRUE", "public"), (" 1 ", "public"), ("off", "internal"),
                                                ("", "internal")])
def test_known_incidentops_public_values_choose_the_edition(repo: GitRepo, value: str, edition: str):
    result, site = build(repo.path, env={"INCIDENTOPS_PUBLIC": value}, public=False)
    assert result.code == 0, result.err
    assert f"Built the {edition} site" in result.err
    assert (site / "incidents" / "INC_002").exists() == (edition == "internal")


def test_misspelt_plugin_option_is_an_error(repo: GitRepo):
    edit(repo, "mkdocs.yml", "  - incidentops ", "  - incidentops:\n      publik: true\n    #")
    result, site = build(repo.path, public=False)
    assert result.code == 2, result.err
    assert "the incidentops plugin has no option 'publik' (its options: root, public, as_of, sanitize)" in result.err
    assert not site.exists()


def test_public_option_in_mkdocs_yml_builds_and_checks_the_public_edition(repo: GitRepo):
    edit(repo, "mkdocs.yml", "  - incidentops ", "  - incidentops:\n      public: true\n    #")
    result, site = build(repo.path, public=False)
    assert result.code == 0, result.err
    assert "Built the public site" in result.err and not (site / "incidents" / "INC_002").exists()


# --- 4. a credential in a public record, with a committed cache that calls it clean -----------


def forge_cache(root: Path, path: str) -> None:
    """`.incidentops-cache/text-checks.json` in the format incidentops wrote it (format 1), claiming
    ``path`` has no PII and no blameless finding, keyed by the file's new text."""
    from incidentops.records.registry import Registry

    text = (root / path).read_text(encoding="utf-8")
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    try:
        from incidentops.checks import cache

        salt = cache.salt(Registry(root).policy) or "forged"
    except Exception:  # the cache's keying may have changed: the forgery stays a forgery
        salt = "forged"
    entries = {f"pii\0{path}": [digest, "public", []], f"blameless-incident\0{path}": [digest, "", []]}
    folder = root / ".incidentops-cache"
    folder.mkdir(exist_ok=True)
    (folder / "text-checks.json").write_text(json.dumps({"format": 1, "salt": salt, "entries": entries}),
                                             encoding="utf-8")


@pytest.mark.parametrize("secret", [AWS_KEY, PRIVATE_KEY], ids=["aws-key", "private-key"])
def test_credential_in_a_public_record_with_a_forged_cache_is_refused(repo: GitRepo, secret: str):
    repo.branch("debug-notes")
    block = "\n".join(f"  {line}" for line in secret.splitlines())
    edit(repo, INC_001, "summary: |\n", f"summary: |\n  Debug credential used in the repro:\n{block}\n")
    forge_cache(repo.path, INC_001)
    repo.git("add", "--force", "--", INC_001, ".incidentops-cache/text-checks.json")
    repo.commit("Add repro notes", date=BRANCH_DATE)
    assert ".incidentops-cache/text-checks.json" in repo.git("ls-files")
    line = line_of(repo, INC_001, secret.splitlines()[0][:20])

    result, site = build(repo.path)
    assert result.code == 1, result.err
    # the public build's own check, never the committed cache, finds it in the record
    assert f"{INC_001}:{line}:3: error [pii.api-key]" in result.err
    assert secret.splitlines()[0] not in result.err
    assert not site.exists()

    # the pages alone (no check runs at all): the last scan of the public pages refuses them
    generated, out = generate(repo.path)
    assert generated.code == 1, generated.err
    located = findings(generated, "site.pii")
    assert located and all(spot.startswith("incidents/INC_001/index.md:") for spot in located)
    assert "on a public page [pii.api-key]" in generated.err
    assert "1 leak(s) in the public edition: writing nothing." in generated.err
    assert secret.splitlines()[0] not in generated.err
    assert not out.exists()


def test_credential_in_an_internal_record_stays_out_of_the_public_edition(repo: GitRepo):
    repo.branch("internal-notes")
    edit(repo, "incidents/INC_002/incident.yaml", "summary: |\n", f"summary: |\n  Repro key {AWS_KEY}.\n")
    repo.commit("Add internal repro notes", date=BRANCH_DATE)
    result, site = build(repo.path)
    assert result.code == 0, result.err  # a warning in an internal record, and never on a public page
    assert AWS_KEY not in everything(site)


def test_documented_exception_in_a_public_record_is_published(repo: GitRepo):
    repo.branch("press-contact")
    text = repo.read(INC_001)
    repo.write(INC_001, re.sub(
        r"^reported_by: .*$",
        "reported_by: Press office, media.relations@aurora-labs.io"
        "  # incidentops: allow pii.email -- press office address published on the company site",
        text, count=1, flags=re.MULTILINE,
    ))
    repo.commit("Add the press contact", date=BRANCH_DATE)
    result, site = build(repo.path)
    assert result.code == 0, result.err
    assert "media.relations@aurora-labs.io" in page(site, "incidents/INC_001/index.html")


# --- 5. an internal id written into a public record's free text ------------------------------


@pytest.mark.parametrize("mention", ["INC_002", "inc-002", "regression_INC_003"])
def test_internal_id_in_public_free_text_is_refused(repo: GitRepo, mention: str):
    repo.branch("cross-reference")
    edit(repo, INC_001, "summary: |\n", f"summary: |\n  Same actor as in {mention}, see there.\n")
    repo.commit("Link the earlier incident", date=BRANCH_DATE)
    named = "INC_002" if "002" in mention else "regression_INC_003"

    result, site = build(repo.path)
    assert result.code == 1, result.err
    located = findings(result, "site.internal-id")
    assert "incidents/INC_001/index.html" in {spot.rsplit(":", 2)[0] for spot in located}
    assert any(spot.startswith("search/search_index.json:1:") for spot in located)
    assert f"names {named}, which the public edition leaves out" in result.err
    assert "leak(s) in the public edition: not publishing it" in result.err
    assert not site.exists()


def test_internal_id_split_by_markup_in_a_public_postmortem_is_refused(repo: GitRepo):
    repo.branch("postmortem-note")
    path = "incidents/INC_001/postmortem.md"
    repo.write(path, repo.read(path) + "\nThe same prompt appeared in INC_00**2** (see its notes).\n")
    repo.commit("Add a note", date=BRANCH_DATE)
    result, out = generate(repo.path)
    assert result.code == 1, result.err
    assert {spot.rsplit(":", 2)[0] for spot in findings(result, "site.internal-id")} == {
        "incidents/INC_001/postmortem.md"
    }
    assert "names INC_002, which the public edition leaves out" in result.err
    assert not out.exists()


def test_public_page_may_mention_public_incidents(repo: GitRepo):
    repo.branch("cross-reference-public")
    edit(repo, INC_001, "summary: |\n", "summary: |\n  Same actor as in INC_008 and regression_INC_005; not INC_0021.\n")
    repo.commit("Link the related public incidents", date=BRANCH_DATE)
    result, site = build(repo.path)
    assert result.code == 0, result.err
    assert "Same actor as in INC_008 and regression_INC_005" in text_of(page(site, "incidents/INC_001/index.html"))


def test_structured_reference_to_an_internal_test_is_not_shown(repo: GitRepo):
    repo.branch("handoff-points-elsewhere")
    edit(repo, "incidents/INC_004/handoff.yaml", "test_id: regression_INC_004", "test_id: regression_INC_003")
    repo.commit("Point the handoff at another test", date=BRANCH_DATE)
    result, out = generate(repo.path)
    assert result.code == 0, result.err
    handoff = (out / "incidents/INC_004/index.md").read_text(encoding="utf-8")
    assert "<tr><th>Regression test</th><td>-</td></tr>" in handoff
    assert "INC\\_003" not in handoff and "INC_003" not in handoff


# --- the scan itself ---------------------------------------------------------------------------


def test_id_finder_matches_whole_parts_in_any_case():
    from incidentops.site.leaks import IdFinder

    finder = IdFinder(["INC_002", "regression_INC_003"])
    found = lambda text: sorted({i for _, i in finder.find(text)})  # noqa: E731
    assert found("see INC_002.") == ["INC_002"]
    assert found("inc-002 and Regression-inc-003") == ["INC_002", "regression_INC_003"]
    assert found("incidents/INC_002/index.html") == ["INC_002"]
    assert found("INC_0021 INC_00 xINC_002 INC_002a regression_INC_0031") == []
