"""The book site and the slide decks in headless Chromium (`make test-browser`).

Both are built first by `make site slides FAST=1` from the chapters executed in fast mode, into
$COURSE_BUILD_DIR (build/fast). Screenshots go to $COURSE_BUILD_DIR/browser-test/.

test_site_from_the_landing_page_to_chapter_05
    opens the landing page, follows its link to chapter 05, checks that the with/without figure
    is there with its alt text, opens an exercise's solution dropdown (its code shows, and only
    its own), then searches for "DropConnect" and checks that chapter 06 is found.

test_every_deck_fits_its_frame_with_readable_code
    opens each chapter's deck at 1280x720, walks every slide, and checks that no slide's content
    runs past the frame and that code is shown at 20 px or more; saves two screenshots a chapter
    (its title slide and its first slide with a figure).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from course_tools.chapters import SOURCES, chapters
from course_tools.slides import HEIGHT, WIDTH

from .test_browser import REPO, WIDGET_TIMEOUT_S, wait_until

BUILD = Path(os.environ.get("COURSE_BUILD_DIR", REPO / "build" / "fast")).resolve()
MIN_CODE_PX = 20


@pytest.fixture(scope="module")
def served():
    """BUILD over HTTP, as GitHub Pages serves the site (search reads its index by script)."""
    site, decks = BUILD / "site" / "html" / "index.html", BUILD / "slides"
    if not site.is_file() or not decks.is_dir():
        pytest.fail(f"{site} or {decks} is missing: run `make site slides FAST=1` first")
    handler = functools.partial(QuietHandler, directory=str(BUILD))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def loaded(browser, page: str):
    return wait_until(lambda: browser.execute_script(
        "return [location.pathname, document.readyState,"
        " [...document.images].every(img => img.complete)];"),
        lambda s: s[0].endswith(page) and s[1] == "complete" and s[2],
        WIDGET_TIMEOUT_S, f"{page} to load")


def test_site_from_the_landing_page_to_chapter_05(browser, served, artifacts):
    browser.get(f"{served}/site/html/index.html")
    loaded(browser, "/index.html")
    browser.save_screenshot(str(artifacts / "site-index.png"))
    target = "05_with_without_dropout.html"
    browser.find_element(By.CSS_SELECTOR, f"article a[href='{target}']").click()
    loaded(browser, f"/{target}")

    figures = browser.execute_script(
        "return [...document.querySelectorAll('article img')].map(img => "
        "[img.alt, img.naturalWidth, img.naturalHeight]);")
    described = [f for f in figures if f[0].startswith("Figure")]
    assert len(described) >= 3 and all(w > 0 and h > 0 for _, w, h in described), figures
    assert any("with and without dropout" in alt for alt, _, _ in described), (
        f"chapter 05's with/without figure is missing; alt texts: {[f[0] for f in described]}")

    summaries = browser.find_elements(By.XPATH, "//details/summary[contains(., 'Show the solution')]")
    assert summaries, "chapter 05 has no solution dropdown"
    first = summaries[0]
    code = first.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "pre")
    assert not code.is_displayed(), "a solution should start folded"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", first)
    first.click()
    wait_until(lambda: code.is_displayed(), bool, 10, "the solution to unfold")
    assert "def memorized" in code.text
    others = [s.find_element(By.XPATH, "..") for s in summaries[1:]]
    assert not any(d.get_attribute("open") for d in others), "one click opened other solutions"
    browser.save_screenshot(str(artifacts / "site-05-solution.png"))

    browser.get(f"{served}/site/html/search.html?q=DropConnect")
    hits = wait_until(lambda: browser.execute_script(
        "return [...document.querySelectorAll('#search-results li a')].map(a => a.href);"),
        lambda links: len(links) > 0, WIDGET_TIMEOUT_S, "search results for DropConnect")
    assert any(link.split("#")[0].endswith("/06_dropconnect.html") for link in hits), hits
    browser.save_screenshot(str(artifacts / "site-search.png"))
    print(f"site: chapter 05 shows {len(described)} described figures; "
          f"search finds DropConnect on {len({h.split('#')[0] for h in hits})} page(s)")


DECK_JS = """
const frame = Reveal.getConfig(), scale = Reveal.getScale(), found = [];
for (const slide of Reveal.getSlides()) {
  const at = Reveal.getIndices(slide);
  Reveal.slide(at.h, at.v);  // the deck fits a slide when it is shown
  const code = [...slide.querySelectorAll('pre')].map(p => parseFloat(getComputedStyle(p).fontSize) * scale);
  found.push({h: at.h, v: at.v, height: slide.scrollHeight, width: slide.scrollWidth,
              code: code.length ? Math.min(...code) : null,
              figure: slide.querySelector('.jp-OutputArea-output img') !== null,
              text: slide.innerText.trim().slice(0, 60)});
}
return {width: frame.width, height: frame.height, scale: scale, inner: [innerWidth, innerHeight],
        slides: found};
"""


def test_every_deck_fits_its_frame_with_readable_code(browser, served, artifacts):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    report = []
    for path in chapters(REPO / SOURCES):
        browser.get(f"{served}/slides/{path.stem}.slides.html")
        loaded(browser, f"/{path.stem}.slides.html")
        wait_until(lambda: browser.execute_script("return window.Reveal && Reveal.isReady();"),
                   bool, WIDGET_TIMEOUT_S, f"reveal.js in {path.stem}")
        deck = browser.execute_script(DECK_JS)
        assert "transition: \"none\"" in browser.page_source
        assert deck["inner"] == [WIDTH, HEIGHT] and (deck["width"], deck["height"]) == (WIDTH, HEIGHT)
        slides = deck["slides"]
        over = [s for s in slides if s["height"] > HEIGHT or s["width"] > WIDTH]
        assert not over, f"{path.stem}: slides run past the {WIDTH}x{HEIGHT} frame: {over}"
        small = [s for s in slides if s["code"] is not None and s["code"] < MIN_CODE_PX]
        assert not small, f"{path.stem}: code below {MIN_CODE_PX} px: {small}"
        with_code = [s["code"] for s in slides if s["code"] is not None]
        assert len(slides) >= 15 and with_code, f"{path.stem}: {len(slides)} slides"
        figure = next(s for s in slides if s["figure"])
        for name, slide in (("title", slides[0]), ("figure", figure)):
            browser.execute_script(f"Reveal.slide({slide['h']}, {slide['v']});")
            wait_until(lambda: browser.execute_script(  # MathJax, then the fit, settle
                "return Reveal.getCurrentSlide().scrollHeight;"), lambda h: h <= HEIGHT, 10,
                "the slide to settle")
            browser.save_screenshot(str(artifacts / f"slides-{path.stem[:2]}-{name}.png"))
        report.append(f"{path.stem[:2]}: {len(slides)} slides, code {min(with_code):.1f} px, "
                      f"tallest {max(s['height'] for s in slides)} px")
    print(f"decks at {WIDTH}x{HEIGHT} (scale {deck['scale']:.3f}): " + "; ".join(report))
