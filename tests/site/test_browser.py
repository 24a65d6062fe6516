"""The built site in headless Chromium with the network off (marker ``browser``).

Every page in ``PAGES`` is opened from a local server; only 127.0.0.1 is reachable. Each page
must load with no JavaScript error, no request leaving localhost, and every image loaded; then its
own checks run. Screenshots go to ``_build/screenshots/``.

To check your chapter, add a ``Page`` with the checks it needs, e.g. for a slider ``phi`` whose
move must change a label showing the MACs::

    Page("chapters/05_compound_scaling.html", (typeset_math, Slider(".phi-slider", ".macs-label")))

(give your widgets those CSS classes with ``widget.add_class("phi-slider")``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, skip_or_fail

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # Belt and braces with the request filter below: no name resolves except localhost.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

Check = Callable[[Any], None]  # takes a playwright Page; raises AssertionError on failure


def typeset_math(page) -> None:
    """The page has maths and MathJax typeset all of it (its output elements are ``mjx-container``)."""
    maths = page.locator("span.math, div.math").count()
    assert maths > 0, "this page has no maths to typeset"
    ready = page.evaluate(
        """async () => {
            if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
            await MathJax.startup.promise;
            return true;
        }"""
    )
    assert ready, "MathJax did not load"
    typeset = page.locator("mjx-container").count()
    assert typeset >= maths, f"MathJax typeset {typeset} of the page's {maths} formulas"
    errors = page.locator("mjx-merror").count()
    assert errors == 0, f"MathJax reported {errors} TeX error(s) (mjx-merror)"


def math_if_any(page) -> None:
    """Like ``typeset_math``, for pages that may have no maths."""
    if page.locator("span.math, div.math").count():
        typeset_math(page)


def widgets_rendered(page) -> None:
    """Every saved widget view on the page was rendered by the ipywidgets HTML manager."""
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if views == 0:
        return
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.jupyter-widgets').length >= n", arg=views, timeout=10_000
        )
    except Exception as error:  # playwright's TimeoutError
        raise AssertionError(f"{views} widget view(s) saved, but the widgets did not render") from error


@dataclass(frozen=True)
class Slider:
    """An ipywidgets slider (CSS class ``slider``) that, moved, changes the text of ``display``."""

    slider: str
    display: str
    presses: int = 5

    def __call__(self, page) -> None:
        handle = page.locator(f"{self.slider} .noUi-handle")
        try:
            handle.first.wait_for(state="visible", timeout=10_000)
        except Exception as error:  # playwright's TimeoutError
            raise AssertionError(f"widget slider {self.slider} was not rendered") from error
        before = self.read(page)
        handle.first.focus()
        for _ in range(self.presses):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        after = self.read(page)
        assert after != before, f"moving {self.slider} left {self.display} at {before!r}"

    def read(self, page) -> str:
        shown = page.locator(self.display).first
        tag = shown.evaluate("el => el.tagName")
        return shown.input_value() if tag in ("INPUT", "TEXTAREA") else shown.inner_text()


@dataclass(frozen=True)
class Page:
    """A page of the built site (path relative to ``_build/html``) and the checks it must pass."""

    path: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.removesuffix(".html").replace("/", "__")


PAGES = [
    Page("book/intro.html"),
    Page("book/glossary.html", (typeset_math,)),
    Page(
        "chapters/00_how_this_book_works.html",
        (typeset_math, widgets_rendered, Slider(".demo-slider", ".demo-value input")),
    ),
    Page(
        "chapters/01_swish.html",
        (typeset_math, widgets_rendered, Slider(".swish-beta-slider", ".swish-beta-caption")),
    ),
    Page("chapters/05_efficientnet_b0.html", (typeset_math,)),
    Page(
        "chapters/06_compound_scaling.html",
        (typeset_math, widgets_rendered,
         Slider(".phi-explorer-slider", ".phi-explorer-frames .explorer-macs:visible")),
    ),
]
# Every other chapter gets the generic checks (plus, always: no JS error, images load, no network).
PAGES += [
    Page(f"chapters/{nb.stem}.html", (math_if_any, widgets_rendered))
    for nb in sorted((ROOT / "chapters").glob("*.ipynb"))
    if f"chapters/{nb.stem}.html" not in {p.path for p in PAGES}
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@functools.cache
def _chromium_ok() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def serve(directory: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not _chromium_ok():
        skip_or_fail(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set CHROMIUM=...)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def url(site) -> Iterator[str]:
    yield from serve(site)


@pytest.fixture(scope="module")
def broken_url(site, tmp_path_factory) -> Iterator[str]:
    """A copy of the site without its local MathJax and ipywidgets manager."""
    copy = tmp_path_factory.mktemp("broken") / "html"
    shutil.copytree(site, copy)
    for vendored in ("mathjax", "html-manager", "requirejs"):
        shutil.rmtree(copy / "_static" / vendored)
    yield from serve(copy)


def visit(context, base: str, page: Page, screenshot: Path) -> list[str]:
    """Open ``page``; return every failure (JS errors, outside requests, images, page checks)."""
    tab = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    tab.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))

    def only_localhost(route) -> None:
        if route.request.url.startswith(base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab.route("**/*", only_localhost)
    failures: list[str] = []
    try:
        response = tab.goto(f"{base}/{page.path}", wait_until="load")
        if response is None or response.status != 200:
            return [f"{page.path} not found in the built site (is it in _toc.yml?)"]
        tab.wait_for_load_state("networkidle")
        for check in page.checks:
            try:
                check(tab)
            except AssertionError as failure:
                failures.append(f"{getattr(check, '__name__', check)}: {failure}")
        broken = tab.evaluate(
            "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.getAttribute('src'))"
        )
        failures += [f"image did not load: {src}" for src in broken]
        tab.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
        tab.wait_for_timeout(500)  # let the theme's transitions settle before the screenshot
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(screenshot), full_page=True)
    finally:
        tab.close()
    failures += errors
    failures += [f"request outside localhost: {u}" for u in outside]
    return failures


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_renders_offline(browser, url, page):
    failures = visit(browser, url, page, SCREENSHOTS / f"{page.name}.png")
    assert failures == [], "\n".join(failures)


def test_checks_fail_without_local_assets(browser, broken_url):
    """The same checks fail on a copy of the site whose local MathJax and widget JS are deleted."""
    page = next(p for p in PAGES if p.path == "chapters/00_how_this_book_works.html")
    failures = visit(browser, broken_url, page, SCREENSHOTS / f"broken__{page.name}.png")
    assert any(f.startswith("typeset_math:") for f in failures), failures
    assert any(f.startswith("Slider(") for f in failures), failures
    assert any("404" in f or "Failed to load" in f for f in failures), failures


COLAB_LINKS = {"colab-reader": "Open in Colab", "colab-exercises": "Exercises in Colab"}


def test_every_chapter_page_shows_both_colab_links(browser, url):
    """Under each chapter's title: "Open in Colab" and "Exercises in Colab", pointing at notebooks
    that ``make colab`` wrote (the ``colab`` branch gets ``_build/colab`` as it is)."""
    colab = ROOT / "_build" / "colab"
    if not any(colab.glob("*/*.ipynb")):
        skip_or_fail("no notebooks in _build/colab: run `make colab` first")
    failures = []
    tab = browser.new_page()
    try:
        for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
            tab.goto(f"{url}/chapters/{nb.stem}.html", wait_until="domcontentloaded")
            for css, text in COLAB_LINKS.items():
                link = tab.locator(f".colab-links a.{css}")
                if link.count() != 1 or not link.is_visible() or link.inner_text().strip() != text:
                    failures.append(f"{nb.stem}: no visible {text!r} link")
                    continue
                href = link.get_attribute("href")
                prefix = "https://colab.research.google.com/github/"
                path = href.split("/blob/colab/", 1)[-1] if href.startswith(prefix) else ""
                if not path or not (colab / path).is_file():
                    failures.append(f"{nb.stem}: {text!r} points at {href}, not at a notebook in {colab}")
        tab.screenshot(path=str(SCREENSHOTS / "colab_links.png"))
    finally:
        tab.close()
    assert failures == [], "\n".join(failures)
