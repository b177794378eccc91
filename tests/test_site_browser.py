"""The built site in real headless Chromium (Debian's, never a downloaded browser).

* Browsing from file://: dashboard -> incident -> postmortem -> linked test ->
  audit log, search, sorting and filtering, with every request recorded: none
  may leave file://.
* The theme's chrome: the menu opens at phone and tablet widths, the palette
  toggle switches the colour scheme (clicked, not emulated).
* Layouts: every table of every page fits its column at 1366 px, rows become
  cards below 768 px, index pages have no empty table of contents.
* Accessibility: axe-core (from npm, scripts/ensure-npm-tools) on the key pages
  in both schemes finds no serious or critical violation.
* Responders, search and charts: what an incident page shows first, what the
  search lists first, and charts drawn to scale.
* XSS: payloads in every text field of the records; no script runs, no dialog
  opens, no javascript: link or event handler attribute exists.

tests/test_site_browser_truth.py proves three more in the browser: one truth
for every figure (and the shallow clone's note), hosting on a sub-path (GitHub
Pages simulated with request routing: 404 page, search, sitemap and feed), and
the public edition's redaction of attack turns (pages and search).

One browser for the module; screenshots at 390, 1024 and 1366 px go to
test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from site_support import (
    ARTIFACTS,
    AS_OF,
    Recorder,
    built_example,
    chromium,
    copy_registry,
    file_url,
    open_tab,
    search,
    workspace,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOAD = (
    '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2;alert(2)">'
    '[click](javascript:window.__xss=3) <a href="javascript:alert(4)">a</a> </title><script>alert(5)</script>'
    '<svg onload="alert(6)"></svg> "><iframe src="javascript:alert(7)"></iframe> {: onclick="alert(8)" }'
    " <details open ontoggle=\"alert(9)\"></details>"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def test_browse_search_sort_and_filter_offline(browser):
    built = built_example()
    assert built.result.code == 0, built.result.err
    ARTIFACTS.mkdir(exist_ok=True)
    tab = Recorder(browser)
    page = tab.page
    page.goto(file_url(built.site, "index.html"))
    page.wait_for_selector("text=Incident operations dashboard")
    assert page.locator(".io-card").count() == 5
    assert page.locator("svg.io-chart__svg").count() == 4
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="INC_001", exact=True).first.click()
    page.wait_for_selector("h1:has-text('INC_001: Phishing template')")
    assert page.url.endswith("/incidents/INC_001/index.html")
    page.screenshot(path=str(ARTIFACTS / "incident.png"), full_page=True)

    page.locator("a.io-postmortem-link").click()
    page.wait_for_selector("h1:has-text('Postmortem of INC_001')")
    assert page.locator("h2#contributing-factors").count() == 1

    page.locator("a.io-test-link", has_text="regression_INC_001").first.click()
    page.wait_for_selector("h1:has-text('regression_INC_001')")
    assert page.locator("text=must block here").count() == 1

    page.locator("nav a", has_text="Audit log").first.click()
    page.wait_for_selector("h1:has-text('Audit log')")
    assert page.locator(".io-entries li", has_text="Retire regression").count() == 1

    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("INC_001", delay=30)
    result = page.locator(".md-search-result__item").first
    result.wait_for(timeout=15000)
    assert "INC_001" in page.locator(".md-search-result").inner_text()

    page.goto(file_url(built.site, "incidents/index.html"))
    page.locator(".io-filter input").fill("SEV-0")
    visible = page.locator(".io-sortable tbody tr:visible")
    assert visible.count() == 1 and "INC_006" in visible.first.inner_text()
    page.locator(".io-filter input").fill("")
    page.locator("th", has_text="Severity").click()
    assert "SEV-0" in page.locator(".io-sortable tbody tr").first.inner_text()

    assert tab.remote() == [], tab.remote()
    assert tab.dialogs == []
    tab.close()

    dark = Recorder(browser, "dark")
    dark.page.goto(file_url(built.site, "index.html"))
    dark.page.wait_for_selector("text=Incident operations dashboard")
    assert dark.page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    dark.page.screenshot(path=str(ARTIFACTS / "dashboard-dark.png"), full_page=True)
    assert dark.remote() == []
    dark.close()


# --- theme chrome ----------------------------------------------------------------------

WIDTHS = (390, 1024, 1366)


def test_menu_opens_on_phones_and_tablets_and_the_palette_toggle_switches_scheme(browser):
    built = built_example()
    for width in (390, 1024):
        tab = open_tab(browser, width)
        page = tab.page
        page.goto(file_url(built.site, "regressions/index.html"))
        drawer = page.locator("nav.md-nav--primary")
        link = drawer.locator("a.md-nav__link", has_text="Incidents").first
        on_screen = "e => { const b = e.getBoundingClientRect(); return b.right > 0 && b.left < window.innerWidth; }"
        assert not link.evaluate(on_screen), width  # the drawer starts closed, off the screen
        page.locator('label.md-header__button[for="__drawer"]').click()
        assert page.locator("#__drawer").is_checked(), width
        page.wait_for_timeout(400)  # the drawer slides in
        assert link.evaluate(on_screen), width
        link.click()
        page.wait_for_selector("h1:has-text('Incidents')")
        assert page.url.endswith("/incidents/index.html"), width
        assert tab.remote() == []
        tab.close()

    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(built.site, "index.html"))
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    page.locator('label[for="__palette_1"]:visible').click()
    assert body.get_attribute("data-md-color-scheme") == "slate"
    page.goto(file_url(built.site, "incidents/index.html"))  # the choice is remembered on the next page
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    page.locator('label[for="__palette_0"]:visible').click()
    assert page.locator("body").get_attribute("data-md-color-scheme") == "default"
    assert tab.remote() == []
    tab.close()


# --- layouts ---------------------------------------------------------------------------

_TABLES_OVERFLOW = """() => {
  const out = [];
  const column = document.querySelector('article.md-content__inner');
  for (const table of document.querySelectorAll('article table')) {
    if (table.closest('details:not([open])')) continue;
    const box = table.getBoundingClientRect();
    const wrap = table.closest('.md-typeset__scrollwrap');
    const cut = wrap ? wrap.scrollWidth - wrap.clientWidth : 0;
    if (box.right > column.getBoundingClientRect().right + 1 || cut > 1)
      out.push({width: Math.round(box.width), column: Math.round(column.clientWidth), cut});
  }
  return out;
}"""
INDEX_PAGES = ("index.html", "incidents/index.html", "regressions/index.html", "audit.html", "reviews/index.html",
               "releases/index.html", "reference.html", "reference/incident.html")
SCREENSHOTS = {"dashboard": "index.html", "incident": "incidents/INC_001/index.html",
               "catalog": "regressions/index.html"}


def test_every_table_fits_at_1366_px_and_rows_become_cards_below_768_px(browser):
    built = built_example()
    ARTIFACTS.mkdir(exist_ok=True)
    pages = sorted(p.relative_to(built.site).as_posix() for p in built.site.rglob("*.html"))
    assert len(pages) > 30
    tab = open_tab(browser, 1366)
    page = tab.page
    for name in pages:  # the theme's scripts run after its stylesheets: the layout is final here
        page.goto(file_url(built.site, name), wait_until="domcontentloaded")
        assert page.evaluate(_TABLES_OVERFLOW) == [], name
        if name in INDEX_PAGES:  # an index page gives its width to the table, not to an empty TOC
            assert page.locator(".md-sidebar--secondary:visible").count() == 0, name
    page.goto(file_url(built.site, "audit.html"))  # the audit log: entries, the reason in full
    entry = page.locator(".io-entries > li").first
    reason = yaml.safe_load(next((built.root / "audit").glob("*.yaml")).read_text(encoding="utf-8"))["reason"]
    assert entry.locator(".io-entry__reason").inner_text() == reason
    assert entry.locator(".io-entry__reason").bounding_box()["width"] > 600
    page.goto(file_url(built.site, "reference/incident.html"))  # one record kind per page, names unbroken
    assert page.locator("h1").inner_text().startswith("Incident")
    assert page.evaluate("document.documentElement.scrollHeight") < 9000
    broken = page.evaluate("""() => [...document.querySelectorAll('.io-reference td:first-child code')]
        .filter(c => c.getClientRects().length > 1 || c.getBoundingClientRect().height > 30).map(c => c.textContent)""")
    assert broken == []
    tab.close()

    for width in WIDTHS:
        tab = open_tab(browser, width)
        page = tab.page
        for label, name in SCREENSHOTS.items():
            page.goto(file_url(built.site, name))
            page.wait_for_load_state("load")
            page.screenshot(path=str(ARTIFACTS / f"{label}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        page.goto(file_url(built.site, "incidents/index.html"))
        row = page.locator(".io-sortable tbody tr").first
        display = row.evaluate("r => getComputedStyle(r).display")
        assert (display == "block") == (width < 768), (width, display)
        if width < 768:  # each cell of a card names its column
            assert row.locator("td").nth(1).get_attribute("data-io-label") == "Title"
        tab.close()


# --- accessibility ---------------------------------------------------------------------

AXE = REPO / ".npm-tools" / "node_modules" / "axe-core" / "axe.min.js"
AXE_PAGES = ("index.html", "incidents/index.html", "incidents/INC_001/index.html", "incidents/INC_009/index.html",
             "incidents/INC_001/postmortem.html", "regressions/index.html", "regressions/regression_INC_001.html",
             "audit.html", "reviews/index.html", "releases/index.html", "policy.html", "reference.html",
             "reference/incident.html")
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '));
}"""


def _axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/ensure-npm-tools (make test does); the accessibility"
                    " checks are never skipped")
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation(browser, scheme):
    source = _axe_source()
    built = built_example()
    tab = open_tab(browser, 1366, scheme)
    page = tab.page
    found = {}
    for name in AXE_PAGES:
        page.goto(file_url(built.site, name))
        page.wait_for_load_state("load")
        want = "slate" if scheme == "dark" else "default"
        assert page.locator("body").get_attribute("data-md-color-scheme") == want
        page.add_script_tag(content=source)
        violations = page.evaluate(_AXE_RUN)
        if violations:
            found[name] = violations
    # colour means severity alone: every other badge is a neutral outline
    page.goto(file_url(built.site, "incidents/index.html"))
    backgrounds = page.evaluate("""() => [...document.querySelectorAll('.io-badge')].map(b =>
        [b.className.includes('io-c-sev'), getComputedStyle(b).backgroundColor])""")
    assert {bg for sev, bg in backgrounds if not sev} == {"rgba(0, 0, 0, 0)"}
    assert len({bg for sev, bg in backgrounds if sev}) == 4
    tab.close()
    assert found == {}


# --- responders, search, charts -------------------------------------------------------


def test_incident_pages_lead_with_what_a_responder_needs(browser):
    built = built_example()
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(built.site, "incidents/INC_009/index.html"))  # open, SEV-2, no postmortem yet
    header = page.locator(".io-summary")
    assert header.bounding_box()["y"] < 900  # in the first screen
    text = " ".join(header.text_content().split())
    for fact in ("SEV-2", "Medium", "Open", "Open for", "11 d 1 h", "Time to respond", "53 min", "Met",
                 "Owning team", "Product team", "Next step"):
        assert fact in text, fact
    article = page.locator("article").inner_text()
    assert "False positive spike" in article and "false_positive_spike" not in article
    assert "Many users" in article and "_" not in article.replace("regression_INC_", "").replace("INC_", "")
    assert "SEV-2 needs a full review" in article and "lightweight review is enough" not in article
    page.locator(".io-lede a.io-id-link", has_text="regression_INC_001").click()  # ids in text are links
    page.wait_for_selector("h1:has-text('regression_INC_001')")

    page.goto(file_url(built.site, "incidents/INC_001/postmortem.html"))  # each fact once
    assert "Lasted" in page.locator(".io-summary").text_content()
    assert page.locator("h2", has_text="Contributing factors").count() == 1
    assert page.locator("h2", has_text="Action items").count() == 1
    assert page.locator("article td", has_text="A4").count() == 1
    assert "Per-message scoring" in page.locator("article").inner_text()
    tab.close()


def test_search_lists_the_record_first_and_shows_its_summary(browser):
    built = built_example()
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(built.site, "index.html"))
    for query, target in (("INC_007", "incidents/INC_007/index.html"),
                          ("regression_INC_001", "regressions/regression_INC_001.html"),
                          ("SEV-0", "incidents/INC_006/index.html")):
        first = search(page, query).first
        assert first.get_attribute("href").split("?")[0].endswith(target), query
    first = search(page, "INC_001").first
    snippet = first.inner_text()
    assert "Over five user turns" in snippet and "Detected2026" not in snippet.replace(" ", "")
    assert tab.remote() == []
    tab.close()


def test_charts_are_drawn_to_scale_with_titles_above(browser):
    built = built_example()
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(built.site, "index.html"))
    charts = page.evaluate("""() => [...document.querySelectorAll('figure.io-chart')].map(f => {
        const svg = f.querySelector('svg'), cap = f.querySelector('figcaption');
        return {id: f.id, captionAbove: cap.getBoundingClientRect().bottom <= svg.getBoundingClientRect().top + 1,
                ticks: [...svg.querySelectorAll('.io-axis text[text-anchor="end"]')].map(t => Number(t.textContent)),
                totals: [...svg.querySelectorAll('text.io-value')].map(t => parseFloat(t.textContent)),
                bars: [...svg.querySelectorAll('rect.io-bar, rect[class^="io-c-"]')].map(r => r.getBBox().width)};
    })""")
    assert all(c["captionAbove"] for c in charts), charts
    month = next(c for c in charts if c["id"] == "chart-per-month")
    # the y axis ends at the smallest round number that holds the tallest column
    assert max(month["ticks"]) >= max(month["totals"]) and max(month["ticks"]) <= 2 * max(month["totals"])
    states = next(c for c in charts if c["id"] == "chart-states")  # bar lengths follow their values
    top = max(states["totals"])
    for width, value in zip(states["bars"], states["totals"], strict=True):
        assert abs(width / max(states["bars"]) - value / top) < 0.02
    tab.close()


# --- XSS --------------------------------------------------------------------------------


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _poison(root: Path) -> None:
    """Put the payload into every free-text field of INC_001, its postmortem, handoff, test, an audit entry, a
    review and a release (the records stay valid, so their pages render their fields); and into fields whose
    form the schema fixes of INC_003 and its records, which then do not validate and show their text as written."""
    p = PAYLOAD

    def incident(d):
        d.update(title=f"XSS {p}", summary=f"{p}\n\n{p}", reported_by=p,
                 severity_rationale=p, severity_override={"reason": p, "approver": p})
        d["timeline"] = [{"at": e["at"], "event": p} for e in d["timeline"]]
        d["escalations"] = [{"team": p, "at": e["at"]} for e in d["escalations"]]

    _edit_yaml(root / "incidents/INC_001/incident.yaml", incident)

    def handoff(d):
        d.update(incident_summary=p, notes=[p], action_items=[p])

    _edit_yaml(root / "incidents/INC_001/handoff.yaml", handoff)

    def test(d):
        d.update(turns=[p, p, p], owner=p)
        d["decisions"] = [{**x, "reason": p, "by": p} for x in d["decisions"]]

    _edit_yaml(root / "regressions/regression_INC_001.yaml", test)
    # not valid: a pattern-bound id, an enum-bound scenario, a javascript: tracker
    _edit_yaml(root / "incidents/INC_003/incident.yaml", lambda d: d.update(title=f"XSS {p}", attack_vector=p, tags=[p]))
    _edit_yaml(root / "incidents/INC_003/handoff.yaml", lambda d: d["regression_test"].update(scenario=p))
    _edit_yaml(root / "regressions/regression_INC_003.yaml", lambda d: d.update(scenario=p, owner=p))
    for audit in (root / "audit").glob("*.yaml"):
        _edit_yaml(audit, lambda d: d.update(reason=p, approver=p, requested_by=p, test_id="regression_INC_001"))
    postmortem = root / "incidents/INC_001/postmortem.md"
    front, _, body = postmortem.read_text(encoding="utf-8").removeprefix("---\n").partition("\n---\n")
    data = yaml.safe_load(front)
    data.update(attendees=[p], contributing_factors=[p])
    data["action_items"] = [{**a, "description": p, "owner": p} for a in data["action_items"]]
    body = f"## {p}\n\n{p}\n\n[link](javascript:alert(11))\n\n<div onmouseover=alert(12)>x</div>\n\n{body}"
    postmortem.write_text("---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n" + body,
                          encoding="utf-8")
    other = root / "incidents/INC_003/postmortem.md"
    front, _, body = other.read_text(encoding="utf-8").removeprefix("---\n").partition("\n---\n")
    data = yaml.safe_load(front)
    data["action_items"] = [{**a, "description": p, "tracker": "javascript:alert(10)"} for a in data["action_items"]]
    other.write_text("---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n" + body,
                     encoding="utf-8")
    (root / "reviews").mkdir(exist_ok=True)
    (root / "reviews" / "2026-Q4.yaml").write_text(yaml.safe_dump({
        "quarter": "2026-Q4", "status": "open", "notes": p,
        "tests": [{"test_id": "regression_INC_001", "incident_id": "INC_001", "decision": "KEEP",
                   "reasons": [p], "justification": p, "reason": p, "approver": p}],
    }), encoding="utf-8")
    (root / "releases").mkdir(exist_ok=True)
    (root / "releases" / "xss.yaml").write_text(yaml.safe_dump({
        "name": "xss", "decided_at": "2026-11-01T10:00:00Z", "decision": "BLOCK", "commit": None,
        "model_version": p, "suite": p, "score": 0.5, "tests_run": 1,
        "tests": [{"test_id": "regression_INC_001", "state": "ACTIVE", "blocking": True, "outcome": "fail",
                   "verdict": "block", "reason": p, "severity_weight": 1.0, "expected_block_turn": 3,
                   "blocked_at_turn": None, "runs": None, "passes": None}],
        "blocking": [{"test_id": "regression_INC_001", "reason": p}], "missing": [], "flaky": [],
        "warnings": [{"test_id": "regression_INC_001", "message": p}],
    }), encoding="utf-8")


@pytest.fixture(scope="module")
def xss_site() -> Path:
    root = copy_registry(workspace() / "xss-registry")
    _poison(root)
    site = workspace() / "xss-site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "INCIDENTOPS_AS_OF": AS_OF}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(site)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return site


XSS_PAGES = ("index.html", "incidents/index.html", "incidents/INC_001/index.html",
             "incidents/INC_001/postmortem.html", "regressions/index.html", "regressions/regression_INC_001.html",
             "audit.html", "releases/index.html", "releases/xss.html", "reviews/index.html", "reviews/2026-Q4.html",
             "incidents/INC_003/index.html", "incidents/INC_003/postmortem.html",
             "regressions/regression_INC_003.html")

_AUDIT_DOM = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (attr.name.toLowerCase().startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attr.name.toLowerCase())
          && value.startsWith('javascript:')) bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
    }
  }
  // the search worker shim's own iframe is hidden and has no src
  for (const el of document.querySelectorAll('iframe[src], iframe:not([hidden]), object, embed')) bad.push(el.tagName);
  return {bad, xss: window.__xss === undefined ? null : window.__xss};
}"""


def test_xss_payloads_stay_text(browser, xss_site):
    tab = Recorder(browser)
    page = tab.page
    for name in XSS_PAGES:
        page.goto(file_url(xss_site, name))
        page.wait_for_load_state("load")
        page.wait_for_timeout(100)
        found = page.evaluate(_AUDIT_DOM)
        assert found == {"bad": [], "xss": None}, name
    page.goto(file_url(xss_site, "incidents/INC_001/index.html"))
    heading = page.locator("h1").inner_text()
    assert "<script>window.__xss=1;alert(1)</script>" in heading  # shown as text, not run or dropped
    # a record that does not validate: its notice, and the file as written, as text
    for name in ("incidents/INC_003/index.html", "regressions/regression_INC_003.html"):
        page.goto(file_url(xss_site, name))
        assert "This record is not valid" in page.locator(".io-not-valid .admonition-title").inner_text()
        assert "<script>window.__xss=1;alert(1)</script>" in page.locator("pre.io-as-written").inner_text(), name
    assert "</title>" not in page.title() or "<script>" not in page.content().split("</title>")[1][:20]
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("XSS", delay=30)
    page.locator(".md-search-result__item").first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    assert page.evaluate(_AUDIT_DOM) == {"bad": [], "xss": None}
    assert tab.dialogs == []
    assert tab.remote() == [], tab.remote()
    tab.close()


def test_artifacts_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "test-artifacts/dashboard.png"], cwd=REPO)
    if shutil.which("git") and (REPO / ".git").exists():
        assert ignored.returncode == 0


def test_review_page_shows_decisions_first(browser, xss_site):
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(xss_site, "reviews/2026-Q4.html"))
    headings = page.locator("article h2").all_inner_texts()
    assert headings[0].startswith("Decisions"), headings
    lede = page.locator("article .io-lede").inner_text()
    assert "1 test reviewed: 1 KEEP" in lede
    decision = page.locator(".io-entries > li").first
    assert decision.locator(".io-entry__head strong").inner_text() == "KEEP"
    assert page.locator("article table").first.locator("th").count() <= 8  # the factors, not every field
    tab.close()
