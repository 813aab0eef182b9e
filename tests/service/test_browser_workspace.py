"""Browser test of the officer's workspace (issue 20) in Debian's Chromium, in Russian and Kazakh, at a
desktop (1366×768) and a phone (390×844) size: the queue shows no recommendation of an open case; on the
case page the law's result and the decision form are on screen together (a sticky panel at desktop; a "go to
the decision" link at the top on a phone); "record and open the next" opens the next case of the queue; axe-core
finds no serious or critical violation on the queue and the case page.

Screenshots go to ``ATAULY_SCREENSHOTS`` when set, else to a temporary directory (printed)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import PASSWORD
from .test_browser_oversight import _axe_serious

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("ATAULY_SKIP_BROWSER")), reason="ATAULY_SKIP_BROWSER is set"),
]

SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
FLASH_NEXT = {"ru": "следующее заявление", "kk": "келесі өтініш"}
GO_TO_DECISION = {"ru": "Перейти к решению", "kk": "Шешімге өту"}

#: Whether an element is wholly inside the viewport.
IN_VIEW = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = Path(os.environ.get("ATAULY_SCREENSHOTS") or tmp_path_factory.mktemp("workspace-shots"))
    where.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {where}")
    return where


@pytest.fixture(scope="module")
def workspace_live(browser_site):
    """The shared service (conftest ``browser_site``): an officer with eight applications in the queue."""
    return browser_site.base


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_case_page_is_a_workspace(workspace_live, chromium, shots, lang, size):
    base = workspace_live
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
    page = context.new_page()
    try:
        page.goto(f"{base}/login?lang={lang}")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        page.wait_for_url(f"{base}/queue*")
        assert page.locator("html").get_attribute("lang") == lang

        # The queue: no law result, no recommendation for an open case; search and filters are there.
        assert page.locator(".outcome-approve, .outcome-reject, .law-yes, .law-no").count() == 0
        assert page.locator("#search-q").count() == 1 and page.locator("#filter-size").count() == 1
        assert not _axe_serious(page), _axe_serious(page)
        page.screenshot(path=str(shots / f"queue-{lang}-{size}.png"), full_page=True)

        rows = page.locator("tr[data-application-id]")
        first = rows.first.get_attribute("data-application-id")
        others = [r.get_attribute("data-application-id") for r in rows.all()][1:20]
        rows.first.locator("a").first.click()
        page.wait_for_url(f"{base}/applications/{first}")
        assert not _axe_serious(page), _axe_serious(page)
        page.screenshot(path=str(shots / f"case-{lang}-{size}-top.png"))

        if size == "desktop":
            # The law's result and the decision form side by side with the family's data, on screen at once,
            # and still there after scrolling to the bottom of the page (the panel is sticky).
            side = page.locator(".case-side")
            assert side.evaluate("el => getComputedStyle(el).position") == "sticky"
            assert page.evaluate(IN_VIEW, "#law-title") and page.evaluate(IN_VIEW, "#decide-next")
            for where, script in (
                ("middle", "window.scrollTo(0, document.body.scrollHeight / 2)"),
                ("bottom", "window.scrollTo(0, document.body.scrollHeight)"),
            ):
                page.evaluate(script)
                page.wait_for_timeout(100)
                page.screenshot(path=str(shots / f"case-{lang}-{size}-{where}.png"))
                assert page.evaluate("window.scrollY") > 200  # the page did scroll
                box = side.evaluate("el => JSON.stringify(el.getBoundingClientRect())")
                assert page.evaluate(IN_VIEW, "#law-title") and page.evaluate(IN_VIEW, "#decide-next"), (
                    where,
                    box,
                )
            # Every open case of the queue, not only the first: a long explanation of the law (unconditional
            # assistance, four lines) once pushed "record and open next" under a 1366×768 screen's edge.
            for other in others:
                page.goto(f"{base}/applications/{other}")
                assert page.evaluate(IN_VIEW, "#law-title") and page.evaluate(IN_VIEW, "#decide-next"), other
            page.goto(f"{base}/applications/{first}")
        else:
            # On a phone the decision is one tap away from the top of the page.
            jump = page.locator("#go-to-decision")
            assert jump.is_visible() and page.evaluate(IN_VIEW, "#go-to-decision")
            assert GO_TO_DECISION[lang] in jump.inner_text()
            jump.click()
            page.wait_for_timeout(100)
            assert page.evaluate(IN_VIEW, "#decision-title")
            page.screenshot(path=str(shots / f"case-{lang}-{size}-decision.png"))

        # Record and open the next: a home visit needs no reason; the next case of the queue opens.
        page.check("input[name=outcome][value=home_visit]")
        page.click("#decide-next")
        page.wait_for_url(re.compile(rf"{re.escape(base)}/applications/(?!{first}$)\d+$"))
        assert FLASH_NEXT[lang] in page.locator("#flash").inner_text()
        assert not _axe_serious(page), _axe_serious(page)
        page.screenshot(path=str(shots / f"case-{lang}-{size}-next.png"))
    finally:
        context.close()
