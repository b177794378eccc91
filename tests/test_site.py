"""The site: renderer, escaping, charts, sanitizer, plugin and the `incidentops site` commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import run_cli
from incidentops.records.registry import Registry
from incidentops.site import charts, markup
from incidentops.site.body import render as render_body
from incidentops.site.pages import read_history, render_site
from incidentops.site.sanitize import DocumentCleaner, clean_content
from incidentops.site.urls import SiteOptions, relative_url
from site_support import (
    AS_OF,
    PAGES_URL,
    REPO_URL,
    built_example,
    built_hosted,
    copy_registry,
    example_repo,
    workspace,
)

AS_OF_DT = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def example_pages() -> dict[str, str]:
    root = example_repo()
    history, note = read_history(root, AS_OF_DT)
    assert note is None
    return render_site(Registry(root), AS_OF_DT, history=history,
                       options=SiteOptions(edit_base=f"{REPO_URL}/edit/main/"))


@pytest.fixture(scope="module")
def site() -> Path:
    built = built_example()
    assert built.result.code == 0, built.result.err
    return built.site


# --- escaping --------------------------------------------------------------------------


def test_inline_escapes_markdown_and_html():
    text = markup.inline("[x](javascript:alert(1)) <b>*bold*</b> a_b | `c` {: .x}")
    assert "<b>" not in text
    assert "&lt;b&gt;" in text
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in text
    assert "a\\_b" in text and "\\|" in text and "\\`c\\`" in text and "\\{: \\.x\\}" in text


def test_inline_output_renders_as_the_original_text():
    import markdown

    original = "[x](javascript:alert(1)) <img src=x onerror=alert(1)> **b** #1 a_b_c"
    html = markdown.markdown(f"# {markup.inline(original)}", extensions=["tables", "attr_list"])
    assert "<a " not in html and "<img" not in html and "<strong>" not in html
    from html import unescape

    assert unescape(html.removeprefix("<h1>").removesuffix("</h1>")) == original


def test_prose_is_an_escaped_html_block_with_paragraphs():
    block = markup.prose("first <script>x</script>\nline\n\nsecond")
    assert block == '<div class="io-text"><p>first &lt;script&gt;x&lt;/script&gt; line</p><p>second</p></div>'


def test_safe_title_has_nothing_a_template_could_unescape_into_markup():
    title = markup.safe_title('</title><script>alert("x")</script> & \'q\'')
    assert not set("<>&\"'") & set(title)
    assert markup.front_matter_title("a\nb") == '"a b"'


def test_relative_urls_follow_use_directory_urls():
    assert relative_url("incidents/INC_001/index.md", "index.md", False) == "incidents/INC_001/index.html"
    assert relative_url("regressions/regression_INC_001.md", "incidents/INC_001/index.md", False) == (
        "../../regressions/regression_INC_001.html"
    )
    assert relative_url("incidents/INC_001/index.md", "index.md", True) == "incidents/INC_001/"
    assert relative_url("audit.md#x", "regressions/regression_INC_001.md", True) == "../../audit/#x"


# --- postmortem bodies and sanitizing ---------------------------------------------------


def test_body_sections_ignore_headings_in_fenced_code():
    sections = render_body("intro\n\n## One\ntext\n\n```\n## not a heading\n```\n\n# Two *b*\nmore")
    assert [(s.level, s.heading) for s in sections] == [(0, ""), (2, "One"), (2, "Two b")]
    assert "## not a heading" in str(sections[1].html)


def test_body_sections_are_sanitized_html_on_one_line():
    sections = render_body("## A <b>\n\n<script>alert(1)</script>\n[x](javascript:alert(2))\n\n```\na\n\nb\n```\n")
    html = str(sections[0].html)
    assert sections[0].heading == "A"  # raw HTML in a body is HTML, sanitized away
    assert "<script" not in html and "javascript:" not in html
    assert "\n" not in html and "a&#10;&#10;b" in html


def test_clean_content_keeps_charts_and_drops_active_content():
    chart = str(charts.horizontal_bars("c", "T", "D", [charts.Bar("x", 1, "sev0", "1")]))
    dirty = chart + '<img src="https://evil.example/p.png" onerror="alert(1)"><a href="javascript:x()">y</a>'
    cleaned = clean_content(dirty)
    assert "<svg" in cleaned and "viewBox" in cleaned and "<title" in cleaned
    assert "onerror" not in cleaned and "javascript:" not in cleaned and "evil.example" not in cleaned


def test_document_cleaner_keeps_theme_scripts_and_drops_injected_ones():
    page = (
        "<html><head><title>a &lt;/title&gt;&lt;script&gt;</title></head>"
        '<body><script src="assets/theme.js"></script><nav><a href="javascript:x()" onclick="x()">n</a></nav>'
        '<article class="md-content__inner"><script>alert(1)</script><p>t</p></article>'
        '<script id="__config" type="application/json">{"a": 1}</script></body></html>'
    )
    cleaned = DocumentCleaner().clean(page)
    assert '<script src="assets/theme.js"></script>' in cleaned
    assert '<script id="__config" type="application/json">{"a": 1}</script>' in cleaned
    assert "alert(1)" not in cleaned and "onclick" not in cleaned and "javascript:" not in cleaned
    assert '<nav><a>n</a></nav><article class="md-content__inner"><p>t</p></article>' in cleaned
    assert "<title>a &lt;/title&gt;&lt;script&gt;</title>" in cleaned


# --- charts ------------------------------------------------------------------------------


def test_charts_have_text_alternatives_and_a_data_table():
    figure = str(charts.stacked_columns(
        "m", "Incidents per month", "3 incidents", ["2026-01", "2026-02"],
        [charts.Series("SEV-0", "sev0", [1, 0]), charts.Series("SEV-1", "sev1", [1, 1])],
    ))
    assert 'role="img"' in figure and 'aria-label="Incidents per month: 3 incidents"' in figure
    assert "<title id=\"m-t\">Incidents per month</title><desc id=\"m-d\">3 incidents</desc>" in figure
    assert "<td>2026-02</td><td>0</td><td>1</td><td>1</td>" in figure
    assert "currentColor" not in figure  # colours come from the stylesheet, per scheme


# --- the renderer on the example registry ------------------------------------------------


def test_renderer_generates_every_page(example_pages):
    for path in ("index.md", "incidents/index.md", "incidents/INC_001/index.md", "incidents/INC_001/postmortem.md",
                 "regressions/index.md", "regressions/regression_INC_001.md", "audit.md", "reviews/index.md",
                 "releases/index.md", "policy.md", "reference.md", "feed.xml", "assets/incidentops/site.js"):
        assert path in example_pages, path
    for folder in (example_repo() / "incidents").iterdir():  # a postmortem page only where there is one
        has_page = f"incidents/{folder.name}/postmortem.md" in example_pages
        assert has_page == (folder / "postmortem.md").is_file(), folder.name


def test_incident_page_shows_assessment_sla_git_dates_and_edit_link(example_pages):
    page = example_pages["incidents/INC_001/index.md"]
    assert page.startswith('---\ntitle: "INC_001: Phishing template generated after gradual authority reframing"\n')
    assert "# INC\\_001: Phishing template" in page
    assert "harm imminent: start at SEV-2" in page
    assert "first response after 1 h 5 min of a 4 h business-hours SLA" in page
    # the policy declares the import: git's first date is the import's, not the incident's
    assert "in git since the import of 2026-11-20 09:30 UTC · last changed 2026-11-25 16:45 UTC" in page
    assert f'href="{REPO_URL}/edit/main/incidents/INC_001/incident.yaml"' in page
    assert 'href="../../regressions/regression_INC_001.html"' in page
    assert 'href="postmortem.html"' in page


def test_regression_page_shows_time_in_suite_and_decay(example_pages):
    page = example_pages["regressions/regression_INC_001.md"]
    # imported: the time in the suite starts at its CREATE decision of 2026-03-12
    assert "<tr><th>Time in suite</th><td>260 days (since 2026-03-12)</td></tr>" in page
    assert "Recommendation: <strong>" in page


def test_policy_and_reference_are_generated_from_policy_and_schemas(example_pages):
    policy = example_pages["policy.md"]
    assert "Widespread harm, regulatory exposure, data breach" in policy
    assert '<td data-io-sort="15">15 min</td>' in policy
    assert 'href="reference/incident.html"' in example_pages["reference.md"]  # one page per record kind
    assert "<code>assessment.harm</code>" in example_pages["reference/incident.md"]
    assert "<code>action_items[].deferred_reason</code>" in example_pages["reference/postmortem.md"]


def test_feed_is_atom_with_decisions_and_audit_entries(example_pages):
    root = ET.fromstring(example_pages["feed.xml"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert "Audit: RETIRE_REGRESSION regression_INC_004" in titles
    assert "regression_INC_001: CREATE -> ACTIVE" in titles


# --- the built site --------------------------------------------------------------------


def test_site_build_checks_then_builds_with_progress(site):
    err = built_example().result.err
    count = len(Registry(example_repo()).all_paths())
    assert f"Checking {count} record file(s) while the site builds..." in err
    assert "Building pages:" in err and "Records are valid. Built the internal site in" in err
    for name in ("index.html", "incidents/INC_001/index.html", "feed.xml", "search/search_index.json",
                 "search/search_index.js", "assets/incidentops/iframe-worker-shim.js"):
        assert (site / name).is_file(), name


def test_built_pages_link_no_other_host_and_use_system_fonts(site):
    page = (site / "incidents" / "INC_001" / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in page and "unpkg.com" not in page and "cdn.jsdelivr" not in page
    assert "<title>INC_001: Phishing template generated after gradual authority reframing - Incident registry</title>" in page
    assert f"{REPO_URL}/edit/main/incidents/INC_001/incident.yaml" in page


def test_search_index_holds_generated_pages(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"] for doc in index["docs"]}
    assert "incidents/INC_001/index.html" in locations


def test_build_refuses_when_checks_find_errors(tmp_path):
    root = copy_registry(tmp_path / "registry")
    incident = root / "incidents" / "INC_001" / "incident.yaml"
    incident.write_text(incident.read_text(encoding="utf-8").replace("severity: SEV-2", "severity: SEV-9"),
                        encoding="utf-8")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("the published site", encoding="utf-8")
    result = run_cli("site", "build", "--as-of", AS_OF, "--site-dir", str(tmp_path / "site"), cwd=root)
    assert result.code == 1
    assert "incidents/INC_001/incident.yaml:5:11: error [schema.enum]" in result.err
    assert "not building the site" in result.err
    assert (tmp_path / "site" / "index.html").read_text(encoding="utf-8") == "the published site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry", "site"]  # no staging folder left


def test_generate_writes_the_plugin_pages_and_zensical_builds_them(example_pages):
    root = example_repo()
    out = workspace() / "generated"
    result = run_cli("site", "generate", "--out", str(out), "--as-of", AS_OF, cwd=root)
    assert result.code == 0, result.err
    assert (out / "incidents" / "INC_001" / "index.md").read_text(encoding="utf-8") == (
        example_pages["incidents/INC_001/index.md"]
    )
    assert (out / "contributing.md").is_file()
    project = workspace() / "zensical"
    project.mkdir()
    shutil.copytree(out, project / "generated")
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: docs", "docs_dir: generated").replace("  - offline\n", "")
    config = config.replace("  - incidentops      # pages generated", "  # pages generated")
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    zensical = Path(sys.executable).with_name("zensical")
    proc = subprocess.run([str(zensical), "build", "-f", "mkdocs.yml"], cwd=project, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (project / "site" / "incidents" / "INC_001" / "index.html").read_text(encoding="utf-8")
    assert "Phishing template generated after gradual authority reframing" in html


def test_generate_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    result = run_cli("site", "generate", "--out", str(tmp_path / "mine"), cwd=example_repo())
    assert result.code == 2
    assert "was not written by `incidentops site generate`" in result.err
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_plugin_watches_the_record_folders(tmp_path):
    from mkdocs.config import load_config
    from mkdocs.livereload import LiveReloadServer

    root = example_repo()
    cfg = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    plugin = cfg.plugins["incidentops"]
    cfg = cfg.plugins.on_config(cfg)
    server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(tmp_path))
    plugin.on_serve(server, config=cfg, builder=lambda: None)
    watched = set(server._watched_paths)
    for name in ("incidentops.yaml", "models.yaml", "incidents", "regressions", "audit"):
        assert str(root / name) in watched, name


def test_a_record_that_does_not_validate_is_shown_as_written_internally_and_left_out_of_a_public_edition(tmp_path):
    from incidentops.site.collect import collect

    root = copy_registry(tmp_path / "registry")
    incident = root / "incidents" / "INC_001" / "incident.yaml"
    text = incident.read_text(encoding="utf-8")
    assert "severity: SEV-2\n" in text and "\ntitle: " in text
    text = text.replace("severity: SEV-2", "severity: SEV-9").replace("\ntitle: ", "\ntitle: <script>alert(1)</script> ", 1)
    incident.write_text(text, encoding="utf-8")
    line = text[:text.index("severity: SEV-9")].count("\n") + 1
    internal = collect(Registry(root), AS_OF_DT)
    shown = internal.incident("INC_001")
    # a preview while the record is being fixed: its page says what is wrong and shows the file as written;
    # no field of it is read (it has no typed form), the analyses leave it out
    assert shown is not None and shown.record is None and shown.invalid is not None
    assert shown.invalid.text == text
    assert any(f.startswith(f"incidents/INC_001/incident.yaml:{line}:") and "SEV-9" in f for f in shown.invalid.findings)
    assert shown.assessment is None and shown.sla is None
    assert shown.sla_error == "the record is not valid (run `incidentops check`)"
    assert internal.problems == []
    pages = render_site(Registry(root), AS_OF_DT)
    page = pages["incidents/INC_001/index.md"]
    assert "This record is not valid" in page and "Fix the record: run <code>incidentops check</code>." in page
    assert f"<li><code>incidents/INC_001/incident.yaml:{line}:" in page
    assert "<pre class=\"io-as-written\"><code>" in page and "severity: SEV-9" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page  # the text stays text
    assert 'class="io-summary' not in page and "## Severity assessment" not in page  # no field is rendered
    listed = pages["incidents/index.md"]
    row = next(r for r in listed.split("<tr>") if "INC_001</a>" in r)
    assert "not valid" in row and "alert(1)" not in row
    assert "not valid</span> <a href=\"incidents/INC_001/index.html\">INC_001</a>" in pages["index.md"]
    public = collect(Registry(root), AS_OF_DT, public=True)
    assert public.incident("INC_001") is None
    assert public.problems == [
        "incidents/INC_001/incident.yaml: not shown, the record is not valid (run `incidentops check`)"]
    # a public incident whose record has no typed form: its visibility is unknown, so it is hidden with its test
    assert {"INC_001", "regression_INC_001"} <= public.visibility.hidden_ids
    assert "regression_INC_001" not in {t.id for t in public.tests}


#: a record of each kind that gets a page (or a part of one), the page, and where its notice stands
INVALID_RECORDS = [
    ("regressions/regression_INC_003.yaml", "regressions/regression_INC_003.md", "regressions/index.md"),
    ("incidents/INC_003/postmortem.md", "incidents/INC_003/postmortem.md", "incidents/INC_003/index.md"),
    ("incidents/INC_003/handoff.yaml", "incidents/INC_003/index.md", "index.md"),
    ("reviews/2026-Q4.yaml", "reviews/2026-Q4.md", "reviews/index.md"),
    ("releases/2026-11-30-aurora-3.0.yaml", "releases/2026-11-30-aurora-3.0.md", "releases/index.md"),
    ("audit/20260901T100000Z_RETIRE_REGRESSION_regression_INC_004.yaml", "audit.md", "index.md"),
]


@pytest.mark.parametrize(("record", "page", "listed"), INVALID_RECORDS, ids=[r[0].split("/")[0] + ":" + r[0].rsplit("/", 1)[-1]
                                                                         for r in INVALID_RECORDS])
def test_a_record_of_any_kind_that_does_not_validate_gets_the_notice_and_its_text(tmp_path, record, page, listed):
    root = copy_registry(tmp_path / "registry")
    path = root / record
    text = path.read_text(encoding="utf-8")
    # an unknown field: the schema refuses it, so the record has no typed form
    marker = "\n---\n" if record.endswith(".md") else "\n"
    broken = text.replace(marker, "\nbogus_field: <b>hostile</b>" + marker, 1) if record.endswith(".md") else (
        text + "bogus_field: <b>hostile</b>\n")
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    pages = render_site(Registry(root), AS_OF_DT)  # no traceback
    shown = pages[page]
    if record.startswith("audit/"):
        assert "not valid</span> <code>audit/" in shown and f"<code>{record}:" in shown
    else:
        assert "This record is not valid" in shown and "Fix the record: run <code>incidentops check</code>." in shown
        assert f"<li><code>{record}:" in shown and "bogus_field" in shown
        assert "bogus_field: &lt;b&gt;hostile&lt;/b&gt;" in shown and "<b>hostile" not in shown
    assert "not valid</span>" in pages[listed]
    assert "<b>hostile" not in "".join(pages.values())
    public = render_site(Registry(root), AS_OF_DT, public=True)  # a public edition leaves it out
    assert "bogus_field" not in "".join(public.values()) and "not valid</span>" not in "".join(public.values())


def test_parallel_rendering_gives_the_same_pages(monkeypatch):
    from incidentops.site import pages
    from incidentops.site.collect import collect

    root = example_repo()
    history, _ = read_history(root, AS_OF_DT)
    renderer = pages.Renderer(collect(Registry(root), AS_OF_DT, history=history), SiteOptions())
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(pages, "_CHUNK", 5)
    assert renderer.pages(workers=2) == renderer.pages(workers=1)


def test_plugin_renders_ahead_in_a_worker_with_the_same_result(tmp_path, monkeypatch):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from incidentops.site import pages

    monkeypatch.setenv("INCIDENTOPS_AS_OF", AS_OF)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    root = example_repo()

    def build_into(name: str) -> dict[str, str]:
        cfg = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(tmp_path / name))
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
        site = tmp_path / name
        return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
                for p in site.rglob("*.html")}

    on_demand = build_into("on-demand")
    monkeypatch.setattr(pages, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(pages, "_CHUNK", 3)
    monkeypatch.setattr(pages, "spare_cpus", lambda: 1)
    ahead = build_into("ahead")
    assert ahead.keys() == on_demand.keys() and "incidents/INC_001/index.html" in ahead
    assert ahead == on_demand


def test_chart_axes_fit_the_data_and_small_samples_are_marked():
    from incidentops.site import charts

    assert charts.nice_axis(1) == (1, 1)  # a maximum of 1 gives an axis to 1, not to 4
    assert charts.nice_axis(3) == (3, 1)
    assert charts.nice_axis(7) == (8, 2)
    assert charts.nice_axis(230) == (250, 50)
    few = charts.horizontal_bars("c", "Title", "desc", [charts.Bar("a", 1, "state-active", "1")], sample=3)
    assert "Small sample: 3 records" in few and few.index("<figcaption>") < few.index("<svg")
    assert 'class="io-bar"' in few  # a state is drawn in the neutral bar colour, only severities in theirs
    many = charts.horizontal_bars("c", "Title", "desc", [charts.Bar("SEV-0", 9, "sev0", "9")], sample=9)
    assert "Small sample" not in many and 'class="io-c-sev0"' in many


def test_responder_labels_come_from_the_policy_and_the_checklist():
    from incidentops.site import responder
    from typed_support import policy as typed_policy

    # the built-in incident types and severity levels (SEV-2 Medium ... SEV-3 Low, the lowest)
    policy = typed_policy({"postmortem": {"required_sections": ["Summary", "Timeline"],
                                          "lightweight_sections": ["Summary"]}})
    assert responder.type_label(policy, "policy_violation_isolated") == "Policy violation (isolated)"
    assert responder.checklist_label("scope", "single_user") == "Single user"
    assert responder.humanize("ATTACK_OBSOLETE") == "Attack obsolete"
    assert responder.humanize("INC_001") == "INC_001" and responder.humanize("SEV-2") == "SEV-2"
    assert responder.review_hint(policy, "SEV-3").startswith("a lightweight review is enough for SEV-3")
    assert responder.review_hint(policy, "SEV-2") == "SEV-2 needs a full review (sections: Summary, Timeline)"
    assert responder.duration(3 * 1440 + 4 * 60 + 5) == "3 d 4 h"


def test_incident_page_leads_with_its_summary_and_links_ids(example_pages):
    page = example_pages["incidents/INC_009/index.md"]
    h1 = page.index("# INC\\_009")
    assert page.index('class="io-text io-lede"') > h1 and page.index('class="io-text io-lede"') < page.index("## ")
    assert 'href="../../regressions/regression_INC_001.html">regression_INC_001</a>' in page
    assert "tags:\n  - \"INC_009\"\n  - \"SEV-2\"" in page  # search lists the record first for its id


def test_sanitizer_keeps_the_theme_control_ids_but_never_lets_content_take_them():
    from incidentops.site.sanitize import clean_body, clean_content

    chrome = ('<input class="md-toggle" type="checkbox" id="__drawer"><label for="__drawer">Menu</label>'
              '<input type="radio" name="__palette" id="__palette_1"><input type="checkbox" id="__nav_2_1">'
              '<div id="__anything_else">x</div>')
    kept = clean_body(chrome)
    for theme_id in ('id="__drawer"', 'id="__palette_1"', 'id="__nav_2_1"'):
        assert theme_id in kept
    assert "__anything_else" not in kept
    content = clean_content('<h2 id="__drawer">x</h2><p id="__palette_0">y</p><p id="ok">z</p>')
    assert "__drawer" not in content and "__palette_0" not in content and 'id="ok"' in content


# --- one truth for every figure ------------------------------------------------------------

_CELL = re.compile(r"<td[^>]*>(.*?)</td>")
_TAG = re.compile(r"<[^>]+>")


def _row(page: str, test_id: str) -> list[str]:
    """The cells (as text) of the table row that links ``test_id``'s page."""
    for row in page.split("<tr>"):
        if f">{test_id}</a></td>" in row:
            return [_TAG.sub("", cell) for cell in _CELL.findall(row)]
    raise AssertionError(f"no row for {test_id}")


def _fact(page: str, name: str) -> str:
    match = re.search(rf"<tr><th>{name}</th><td>(.*?)</td></tr>", page)
    assert match, name
    return _TAG.sub("", match.group(1))


@pytest.mark.parametrize(("test_id", "days", "since", "due", "recommendation"), [
    # imported: the time in the suite starts at the CREATE decision, not at the import commit
    ("regression_INC_001", 260, "2026-03-12", "2027-03-12", "REVIEW"),   # architecture change, not re-verified
    ("regression_INC_003", 591, "2025-04-15", "2027-10-20", "KEEP"),     # its 2026-Q4 KEEP re-verified it
    ("regression_INC_006", 406, "2025-10-17", "2027-10-20", "KEEP"),     # idem, a year after that KEEP
    ("regression_INC_008", 93, "2026-08-26", "2027-08-26", "KEEP"),
])
def test_time_in_suite_review_due_and_recommendation_are_the_same_on_every_page(
        example_pages, test_id, days, since, due, recommendation):
    page = example_pages[f"regressions/{test_id}.md"]
    assert _fact(page, "Time in suite") == f"{days} days (since {since})"
    assert f"Recommendation: <strong>{recommendation}</strong>" in page
    assert _fact(page, "Review due") == due
    catalog = _row(example_pages["regressions/index.md"], test_id)
    assert str(days) in catalog and due in catalog and recommendation in catalog
    home = example_pages["index.md"]
    if f">{test_id}</a></td>" in home.split("## Decay queue", 1)[1]:
        queue = _row(home.split("## Decay queue", 1)[1], test_id)
        assert str(days) in queue and due in queue and recommendation in queue
    else:  # only tests whose review is due or whose recommendation is not KEEP are queued
        assert recommendation == "KEEP"


def test_a_retired_test_shows_its_real_time_in_the_suite(example_pages):
    page = example_pages["regressions/regression_INC_004.md"]
    # from its CREATE decision of 2025-06-19 to its RETIRE decision of 2026-09-01
    assert _fact(page, "Time in suite") == "438 days (since 2025-06-19)"
    assert "438" in _row(example_pages["regressions/index.md"], "regression_INC_004")


def test_the_example_ships_a_completed_quarterly_review_and_a_release_decision(example_pages):
    reviews = example_pages["reviews/index.md"]
    assert "2026-Q4" in reviews and "No quarterly review has been recorded" not in reviews
    review = example_pages["reviews/2026-Q4.md"]
    assert "complete" in review and "DEPRECATE" in review and "re-verified" in review
    releases = example_pages["releases/index.md"]
    assert "aurora-3.0" in releases and "PASS" in releases


def test_a_shallow_clone_says_so_on_stderr_and_on_every_page_with_git_figures(tmp_path):
    from gitrepo import GitRepo

    origin = GitRepo(example_repo())
    shallow = GitRepo.clone(origin, tmp_path / "shallow", depth=1)
    result = run_cli("site", "generate", "--out", str(tmp_path / "out"), "--as-of", AS_OF, cwd=shallow.path)
    assert result.code == 0, result.err
    assert "incidentops: warning: Figures from git" in result.err and "a shallow clone" in result.err
    assert "fetch-depth: 0" in result.err
    out = tmp_path / "out"
    note = "are not shown: a shallow clone"
    for page in ("index.md", "regressions/index.md", "regressions/regression_INC_001.md",
                 "incidents/INC_001/index.md", "incidents/INC_001/postmortem.md", "reviews/2026-Q4.md"):
        assert note in (out / page).read_text(encoding="utf-8"), page
    test_page = (out / "regressions" / "regression_INC_001.md").read_text(encoding="utf-8")
    assert "<tr><th>Time in suite</th><td>unknown: Figures from git" in test_page


# --- hosting on a sub-path ------------------------------------------------------------------

@pytest.fixture(scope="module")
def hosted() -> Path:
    """The example built for a project Pages site (a sub-path), shared with the browser tests."""
    built = built_hosted()
    assert built.result.code == 0, built.result.err
    return built.site


def test_the_404_page_is_styled_searchable_and_links_home_on_a_sub_path(hosted):
    page = (hosted / "404.html").read_text(encoding="utf-8")
    local = [u for u in re.findall(r'(?:href|src)="([^"#]+)"', page) if not u.startswith(("http", "data:"))]
    assert local, page[:500]
    for url in local:  # every stylesheet, script and link is under the sub-path, and exists
        assert url.startswith("/safety-registry/"), url
        assert (hosted / url.removeprefix("/safety-registry/")).is_file(), url
    assert any(u.endswith(".css") for u in local) and any(u.endswith(".js") for u in local)
    assert 'data-md-component="search"' in page
    for target in ("index.html", "incidents/index.html", "regressions/index.html"):
        assert f'href="/safety-registry/{target}"' in page


def test_the_sitemap_and_the_feed_use_the_site_url(hosted):
    sitemap = ET.fromstring((hosted / "sitemap.xml").read_text(encoding="utf-8"))
    locations = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert f"{PAGES_URL}incidents/INC_001/index.html" in locations and len(locations) > 20
    feed = ET.fromstring((hosted / "feed.xml").read_text(encoding="utf-8"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [(x.get("rel"), x.get("href")) for x in feed.findall("a:link", ns)] == [
        ("alternate", f"{PAGES_URL}index.html"), ("self", f"{PAGES_URL}feed.xml")]
    links = [x.get("href") for x in feed.findall("a:entry/a:link", ns)]
    assert links and all(link.startswith(PAGES_URL) for link in links)
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert any(t.startswith("New incident INC_009 (SEV-2): ") for t in titles)
    assert "Postmortem published: INC_001 (SEV-2)" in titles


def test_without_a_site_url_the_feed_links_relative_and_names_no_self(example_pages):
    feed = ET.fromstring(example_pages["feed.xml"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [x.get("rel") for x in feed.findall("a:link", ns)] == ["alternate"]
    assert all(not x.get("href").startswith("http") for x in feed.findall("a:entry/a:link", ns))


def test_a_site_url_that_is_not_an_address_is_a_usage_error(tmp_path):
    result = run_cli("site", "generate", "--out", str(tmp_path / "out"), "--site-url", "org.github.io/registry",
                     cwd=example_repo())
    assert result.code == 2
    assert "--site-url='org.github.io/registry' is not the address of a site" in result.err
