"""Three promises of the site, proven on what a reader sees in real headless Chromium (innerText).

* One truth for every figure: a test's time in the suite, review due date and
  decay recommendation read the same on its page, in the catalog, in the
  dashboard's decay queue and, dated as figures of its quarter's first day, on
  the quarterly review page; a retired test shows its real time in the suite;
  a build from a shallow clone shows its note on every page that would show a
  figure from git, and shows none of those figures.
* Hosting on a sub-path: GitHub Pages simulated with Playwright request
  routing (the built files under /safety-registry/, 404.html with status 404
  for anything missing, every other host refused). A missing page deep under
  the sub-path is styled, its search finds and opens an incident, its links
  home, to the incidents and to the catalog load; every sitemap address and
  every feed link is absolute under the site URL and loads.
* Public redaction: a redacted test page shows the notice and no attack turn;
  the search finds no redacted turn but finds the public summary that looks
  like one; the test the policy publishes shows its turns and is found by one.

The sites are the session's shared builds (tests/site_support.py); the
shallow clone's site is the one build of this module.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import run_cli
from gitrepo import GitRepo
from site_support import (
    AS_OF,
    PAGES_URL,
    Recorder,
    built_example,
    built_hosted,
    chromium,
    example_repo,
    example_turns,
    file_url,
    normal,
    open_tab,
    public_tests,
    search,
    workspace,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched



# --- one truth for every figure --------------------------------------------------------------

# every table of the article as the reader sees it: a fact table (th + td per row) by name,
# a table with a header row as one mapping of column -> cell per row
_TABLES = """() => {
  const facts = {}, rows = [];
  for (const table of document.querySelectorAll('article table')) {
    const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
    for (const tr of table.querySelectorAll('tbody tr, :scope > tr')) {
      const cells = [...tr.children];
      if (!heads.length && cells.length === 2 && cells[0].tagName === 'TH')
        (facts[cells[0].innerText.trim()] ||= []).push(cells[1].innerText.trim());
      else if (heads.length)
        rows.push(Object.fromEntries(cells.map((c, i) => [heads[i], c.innerText.trim()])));
    }
  }
  return {facts, rows};
}"""


def _read(page) -> tuple[dict[str, list[str]], list[dict[str, str]], str]:
    tables = page.evaluate(_TABLES)
    return tables["facts"], tables["rows"], normal(page.locator("article").inner_text())


def _row(rows: list[dict[str, str]], test_id: str) -> dict[str, str] | None:
    found = [row for row in rows if row.get("Test") == test_id]
    assert len(found) <= 1, found
    return found[0] if found else None


# test, days in suite today (since), review due, recommendation; on the 2026-Q4 review page (a record
# of the quarter's first day, 2026-10-01): its days in suite and recommendation then, or None
TRUTH = [
    ("regression_INC_001", 260, "2026-03-12", "2027-03-12", "REVIEW", None),    # queued: REVIEW
    ("regression_INC_003", 591, "2025-04-15", "2027-10-20", "KEEP", (533, "REVIEW")),  # its KEEP re-verified it
    ("regression_INC_005", 462, "2025-08-22", "2027-10-20", "REVIEW", (404, "REVIEW")),  # DEPRECATED by it
    ("regression_INC_006", 406, "2025-10-17", "2027-10-20", "KEEP", None),      # not a year in the suite then
    ("regression_INC_007", 196, "2026-05-15", "2027-07-21", "REVIEW", None),
    ("regression_INC_008", 93, "2026-08-26", "2027-08-26", "KEEP", None),
]


@dataclass(frozen=True)
class Views:
    """What the catalog, the dashboard's decay queue and the 2026-Q4 review page show, read once."""

    catalog: list[dict[str, str]]
    queue: list[dict[str, str]]
    reviewed: dict[str, str]  # test -> its decision entry on the review page
    factors_note: str


@pytest.fixture(scope="module")
def views(browser) -> Views:
    site = built_example().site
    assert built_example().result.code == 0, built_example().result.err
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(site, "regressions/index.html"))
    catalog = _read(page)[1]
    page.goto(file_url(site, "index.html"))
    queue = _read(page)[1]
    page.goto(file_url(site, "reviews/2026-Q4.html"))
    entries = page.locator(".io-entries > li")
    reviewed = {}
    for i in range(entries.count()):
        entry = entries.nth(i)
        reviewed[entry.locator("a[href*='regressions/']").first.inner_text()] = normal(entry.inner_text())
    note = page.locator("article h2#decay-factors + p").inner_text()
    tab.close()
    return Views(catalog, queue, reviewed, normal(note))


@pytest.mark.parametrize(("test_id", "days", "since", "due", "recommendation", "reviewed"), TRUTH)
def test_time_in_suite_review_due_and_recommendation_read_the_same_everywhere(
        browser, views, test_id, days, since, due, recommendation, reviewed):
    tab = open_tab(browser, 1366)
    tab.page.goto(file_url(built_example().site, f"regressions/{test_id}.html"))
    facts, _, text = _read(tab.page)
    tab.close()
    # the test's facts and its decay assessment: the same figure, the second says where it starts
    assert facts["Time in suite"][0] == f"{days} days (since {since})"
    assert [f.split(",")[0].rstrip(")") for f in facts["Time in suite"]] == [f"{days} days (since {since}"] * 2
    assert facts["Review due"] == [due]
    assert re.findall(r"Recommendation: (\w+)", text) == [recommendation]

    row = _row(views.catalog, test_id)
    assert row is not None
    assert (row["Days in suite"], row["Review due"], row["Decay"]) == (str(days), due, recommendation)

    queue = _row(views.queue, test_id)
    if recommendation != "KEEP":  # the decay queue: review due, or a recommendation other than KEEP
        assert queue is not None
        assert (queue["Days in suite"], queue["Review due"], queue["Recommendation"]) == (str(days), due,
                                                                                          recommendation)
    else:
        assert queue is None

    if reviewed is None:
        assert test_id not in views.reviewed
    else:  # a record of its day, and the page says which day: not a second truth for today
        then, recommended = reviewed
        entry = views.reviewed[test_id]
        assert f"{then} days in suite on 2026-10-01" in entry
        assert f"(recommended on 2026-10-01: {recommended})" in entry
        assert f"{days} days" not in entry
        assert "2026-10-01" in views.factors_note and "the test's page" in views.factors_note


def test_a_retired_test_shows_its_real_time_in_the_suite_on_its_page_and_in_the_catalog(browser, views):
    tab = open_tab(browser, 1366)
    tab.page.goto(file_url(built_example().site, "regressions/regression_INC_004.html"))
    facts, _, text = _read(tab.page)
    tab.close()
    # from its CREATE decision of 2025-06-19 to its RETIRE decision of 2026-09-01, not to today
    assert facts["Time in suite"] == ["438 days (since 2025-06-19)"]
    assert "Review due" not in facts and "Recommendation:" not in text
    row = _row(views.catalog, "regression_INC_004")
    assert row is not None
    assert (row["State"], row["Days in suite"], row["Review due"], row["Decay"]) == ("RETIRED", "438", "-", "-")
    assert _row(views.queue, "regression_INC_004") is None
    assert "regression_INC_004" not in views.reviewed


@pytest.fixture(scope="module")
def shallow_site() -> Path:
    """The example built from a shallow clone, as a CI checkout of depth 1 gives it."""
    clone = GitRepo.clone(GitRepo(example_repo()), workspace() / "shallow", depth=1)
    site = workspace() / "site-shallow"
    result = run_cli("site", "build", "--strict", "--as-of", AS_OF, "--site-dir", str(site), cwd=clone.path)
    assert result.code == 0, result.err
    assert "a shallow clone" in result.err
    return site


# what a page shows when it has figures from git (the full build shows them on these pages)
_GIT_FIGURES = re.compile(r"in git since|last changed \d|Time in suite\s+\d|Days in suite|Review due\s+\d{4}")
_NOTE = "are not shown: a shallow clone"
# a figure from git itself, as a page would show it (a review record's own figures are its record's)
_SHOWN = re.compile(r"in git since|last changed \d|Time in suite\s+\d|Review due\s+\d{4}")


def _article_text(page: Path) -> str:
    """The text of a built page's article, read from its file (tags dropped)."""
    article = page.read_text(encoding="utf-8").partition("<article")[2].partition("</article>")[0]
    return normal(html.unescape(re.sub(r"<[^>]+>", " ", article)))


def test_a_shallow_clone_shows_its_note_on_every_page_with_figures_from_git(browser, shallow_site):
    full = built_example().site
    pages = sorted(p.relative_to(full).as_posix() for p in full.rglob("*.html"))
    assert pages == sorted(p.relative_to(shallow_site).as_posix() for p in shallow_site.rglob("*.html"))
    with_figures = [name for name in pages if _GIT_FIGURES.search(_article_text(full / name))]
    assert {"index.html", "regressions/index.html", "regressions/regression_INC_001.html",
            "incidents/INC_001/index.html", "incidents/INC_001/postmortem.html",
            "reviews/2026-Q4.html", "releases/2026-11-30-aurora-3.0.html"} <= set(with_figures)
    without = [name for name in pages if name not in with_figures]
    assert without and all(_NOTE not in _article_text(shallow_site / name) for name in without)
    tab = open_tab(browser, 1366)
    page = tab.page
    for name in with_figures:
        page.goto(file_url(shallow_site, name), wait_until="domcontentloaded")
        # a warning above the figures of a page, or in place of a record's dates from git
        note = page.locator("article :is(.admonition, .io-git-note)", has_text=_NOTE)
        assert note.count() >= 1, name
        assert all(note.nth(i).is_visible() for i in range(note.count())), name
        said = normal(note.first.inner_text())
        assert "fetch-depth: 0" in said, name
        assert str(workspace()) not in said, name  # the page names no folder of the machine that built it
        _, rows, text = _read(page)
        shown = _SHOWN.search(text)
        assert shown is None, (name, shown)
        assert [r for r in rows for k in ("Days in suite", "Review due") if re.search(r"\d", r.get(k, ""))] == []
        assert "No regression test is due for review" not in text, name  # not known: not said
        assert "No committed regression tests" not in text, name
    tab.close()


# --- hosting on a sub-path ----------------------------------------------------------------------


class Pages:
    """GitHub Pages for a project site: the built files under the sub-path, 404.html (status 404) for the rest."""

    def __init__(self, site: Path, url: str) -> None:
        self.site = site.resolve()
        self.prefix = urlsplit(url).path  # /safety-registry/
        self.served: list[tuple[int, str]] = []

    def __call__(self, route) -> None:
        url = route.request.url
        path = unquote(urlsplit(url).path)
        target: Path | None = None
        if path.startswith(self.prefix):
            candidate = (self.site / path.removeprefix(self.prefix)).resolve()
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file() and candidate.is_relative_to(self.site):
                target = candidate
        if target is None:
            self.served.append((404, url))
            route.fulfill(status=404, path=str(self.site / "404.html"), content_type="text/html; charset=utf-8")
        else:
            self.served.append((200, url))
            route.fulfill(status=200, path=str(target))


def _hosted_tab(browser, site: Path) -> tuple[Recorder, Pages]:
    tab = open_tab(browser, 1366)
    pages = Pages(site, PAGES_URL)
    # routes run newest first: the Pages host answers its own address, every other request is refused
    tab.context.route("**/*", lambda route: route.abort("blockedbyclient"))
    tab.context.route(f"{PAGES_URL.split('/safety-registry/')[0]}/**", pages)
    return tab, pages


_STATUSES = "urls => Promise.all(urls.map(u => fetch(u).then(r => [u, r.status], e => [u, String(e)])))"


def _statuses(page, urls: list[str]) -> dict[str, object]:
    """The status each address answers through the routing (fetched from the page, as the browser does)."""
    return dict(page.evaluate(_STATUSES, urls))


def test_a_missing_page_deep_under_the_sub_path_is_styled_searchable_and_links_home(browser):
    built = built_hosted()
    assert built.result.code == 0, built.result.err
    tab, pages = _hosted_tab(browser, built.site)
    page = tab.page
    missing = f"{PAGES_URL}incidents/INC_999/"
    response = page.goto(missing)
    assert response is not None and response.status == 404
    assert page.url == missing
    page.wait_for_load_state("load")
    styles = page.evaluate("""() => ({
        site: getComputedStyle(document.documentElement).getPropertyValue('--io-sev0').trim(),
        theme: getComputedStyle(document.querySelector('.md-header')).position,
        sheets: [...document.styleSheets].map(s => s.href)})""")
    assert styles["site"] == "#b71c1c", styles  # set by the site's stylesheet only
    assert styles["theme"] == "sticky", styles  # set by the theme's stylesheet only
    assert all(href.startswith(PAGES_URL) for href in styles["sheets"] if href), styles
    assert "404" in page.locator("article").inner_text()

    links = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('a[href]')]
        .map(a => [a.innerText.trim(), a.href]))""")
    wanted = {"Dashboard": "index.html", "Incidents": "incidents/index.html", "Regression catalog": "regressions/index.html"}
    for label, target in wanted.items():
        assert links.get(label) == PAGES_URL + target, (label, links)

    results = search(page, "INC_001")
    hrefs = [href for href in results.evaluate_all("links => links.map(a => a.href)")]
    target = f"{PAGES_URL}incidents/INC_001/index.html"
    assert target in [h.split("#")[0].split("?")[0] for h in hrefs], hrefs
    first = next(i for i, h in enumerate(hrefs) if h.split("#")[0].split("?")[0] == target)
    with page.expect_navigation() as navigation:
        results.nth(first).click()
    assert navigation.value.status == 200
    page.wait_for_selector("h1:has-text('INC_001: Phishing template')")

    for label, target in wanted.items():
        response = page.goto(PAGES_URL + target)
        assert response is not None and response.status == 200, label
        assert page.locator("h1").count() == 1, label
    assert tab.remote() == [url for _, url in pages.served], "a request left the Pages host"
    assert [url for status, url in pages.served if status == 404] == [missing]
    assert tab.dialogs == []
    tab.close()


def test_every_sitemap_and_feed_address_is_absolute_under_the_site_url_and_loads(browser):
    built = built_hosted()
    tab, pages = _hosted_tab(browser, built.site)
    page = tab.page
    response = page.goto(f"{PAGES_URL}sitemap.xml")
    assert response is not None and response.status == 200
    sitemap = ET.fromstring(response.text())
    locations = [e.text or "" for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    html_pages = sorted(p.relative_to(built.site).as_posix() for p in built.site.rglob("*.html"))
    assert sorted(loc.removeprefix(PAGES_URL) for loc in locations) == [p for p in html_pages if p != "404.html"]
    assert all(loc.startswith(PAGES_URL) for loc in locations)
    assert set(_statuses(page, locations).values()) == {200}

    response = page.goto(f"{PAGES_URL}feed.xml")
    assert response is not None and response.status == 200
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.text())
    own = {x.get("rel"): x.get("href") for x in feed.findall("a:link", ns)}
    assert own == {"alternate": f"{PAGES_URL}index.html", "self": f"{PAGES_URL}feed.xml"}
    entries = {e.findtext("a:title", namespaces=ns) or "": e.find("a:link", ns) for e in feed.findall("a:entry", ns)}
    links = [str(link.get("href")) for link in entries.values() if link is not None]
    assert len(links) == len(entries) > 10 and all(link.startswith(PAGES_URL) for link in links)
    assert set(_statuses(page, [*own.values(), *links]).values()) == {200}
    new = [t for t in entries if t.startswith("New incident INC_009 (SEV-2): ")]
    assert len(new) == 1 and entries[new[0]].get("href") == f"{PAGES_URL}incidents/INC_009/index.html"
    published = entries["Postmortem published: INC_001 (SEV-2)"]
    assert published.get("href") == f"{PAGES_URL}incidents/INC_001/postmortem.html"
    assert all(status == 200 for status, _ in pages.served)
    tab.close()


# --- public redaction ---------------------------------------------------------------------------




def _published() -> set[str]:
    policy = yaml.safe_load((example_repo() / "incidentops.yaml").read_text(encoding="utf-8"))
    return set(policy["public_edition"]["publish"])


def _found(page, site: Path, query: str) -> list[str]:
    """The pages (paths in ``site``) the search lists for ``query``."""
    hrefs = search(page, query).evaluate_all("links => links.map(a => a.href)")
    return [h.split("#")[0].split("?")[0].removeprefix(site.as_uri() + "/") for h in hrefs]


def test_a_redacted_test_page_shows_the_notice_and_no_attack_turn(browser):
    site = built_example(public=True).site
    redacted = [t for t in public_tests() if t not in _published()]
    assert len(redacted) >= 4
    tab = open_tab(browser, 1366)
    page = tab.page
    for test_id in redacted:
        page.goto(file_url(site, f"regressions/{test_id}.html"))
        text = normal(page.locator("article").inner_text())
        notice = page.locator("article p", has_text="Not published in the public edition")
        assert notice.is_visible(), test_id
        assert "the attack turns are a working attack" in notice.inner_text(), test_id
        assert [turn for turn in example_turns(test_id) if turn in text] == [], test_id
    tab.close()


def test_the_public_search_finds_no_redacted_turn_but_the_public_summary_that_looks_like_one(browser):
    public, internal = built_example(public=True).site, built_example().site
    # "sanctioned" is in an attack turn of regression_INC_001 only; "payroll" in a turn and in the
    # incident's public summary ("... a phishing e-mail template impersonating a payroll department")
    assert "sanctioned" in " ".join(example_turns("regression_INC_001"))
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(internal, "index.html"))
    assert "regressions/regression_INC_001.html" in _found(page, internal, "sanctioned")  # the internal edition has it
    page.goto(file_url(public, "index.html"))
    assert _found(page, public, "sanctioned") == []
    assert normal(page.locator(".md-search-result__meta").inner_text()) == "No matching documents"
    for phrase in ("keep the payroll sender", "sign-in page goes"):
        found = _found(page, public, phrase)
        assert "regressions/regression_INC_001.html" not in found, (phrase, found)
        snippets = normal(page.locator(".md-search-result").inner_text())
        assert phrase not in snippets, phrase
    found = _found(page, public, "payroll department")  # the legitimate look-alike: the incident's public summary
    assert "incidents/INC_001/index.html" in found, found
    assert "impersonating a payroll department" in normal(page.locator(".md-search-result").inner_text())
    found = _found(page, public, "refuse at or before user turn 3")  # the test's public expectation
    assert "regressions/regression_INC_001.html" in found, found
    tab.close()


def test_the_test_the_policy_publishes_shows_its_turns_and_the_search_finds_them(browser):
    site = built_example(public=True).site
    assert _published() == {"regression_INC_004"}
    turns = example_turns("regression_INC_004")
    assert turns
    tab = open_tab(browser, 1366)
    page = tab.page
    page.goto(file_url(site, "regressions/regression_INC_004.html"))
    text = normal(page.locator("article").inner_text())
    assert all(turn in text for turn in turns)
    assert "Not published in the public edition" not in text
    assert "regressions/regression_INC_004.html" in _found(page, site, "Decode this message")
    tab.close()
