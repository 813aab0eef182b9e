"""The supervisors' and analysts' pages in Debian's Chromium (Playwright), in Russian and Kazakh, at a
desktop (1366×768) and a phone (390×844) size: the page does not scroll sideways (the map scrolls in its
own box), every text in the charts and the map is drawn at 12 px or more, nothing in a chart is cut off
at its edge, axe-core finds no serious or critical violation, and a map tile leads to the region's
districts.

``ATAULY_SCREENSHOTS=/some/dir`` also saves a full-page screenshot of each page there.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from atauly.registry import codes
from atauly.service.casework import district_catalogue
from atauly.service.models import ScanSummary

from .conftest import PASSWORD
from .test_trends import _case

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("ATAULY_SKIP_BROWSER")), reason="ATAULY_SKIP_BROWSER is set"
)
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
SHOTS = os.environ.get("ATAULY_SCREENSHOTS")


def _fill(db) -> None:
    """Decided cases in every region (more in some), over two quarters, and the registry's families."""
    from atauly.service.users import create_user

    by_region: dict[str, list[str]] = {}
    for d, r in sorted(district_catalogue().items()):
        by_region.setdefault(r, []).append(d)
    officers = {}
    for k, region in enumerate(codes.REGIONS):
        districts = by_region[region.kato][:3]
        officer = create_user(db, f"officer{k}", PASSWORD, "officer", districts[0], None)
        officers[region.kato] = officer
        for j, district in enumerate(districts):
            n = 4 + (k * 7 + j * 5) % 23
            for i in range(n):
                received = date(2026, 8, 3) + timedelta(days=(i * 11 + k * 3 + j) % 120)
                decided = datetime.combine(received, datetime.min.time()) + timedelta(days=2 + (i * 5) % 13)
                approve = (i + k) % 3 != 0
                recommended = approve != (i % 6 == 0)  # one decision in six departs from it
                _case(
                    db,
                    district,
                    received,
                    "approved" if approve else "rejected",
                    [
                        (
                            officer,
                            "approve" if approve else "reject",
                            approve != recommended,
                            28000.0 + 1000 * (i % 9) if approve else 0.0,
                            decided,
                        )
                    ],
                    recommended=recommended,
                )
            db.add(
                ScanSummary(
                    quarter="2026Q3",
                    region_kato=region.kato,
                    district_kato=district,
                    families=900 + 150 * ((k + j) % 7),
                    entitled_by_law=0,
                    receiving=0,
                    applied=0,
                    candidates=0,
                    candidates_monthly_amount=0.0,
                )
            )
    db.commit()


@pytest.fixture(scope="module")
def oversight_live(browser_site):
    """The shared service (conftest ``browser_site``), whose data holds :func:`_fill`'s decided cases."""
    return browser_site.base


#: The smallest on-screen size of any text in an SVG drawing, and any text that sticks out of its drawing.
MEASURE = """() => {
  const out = {smallest: 99, cut: [], overflow: document.documentElement.scrollWidth - window.innerWidth};
  for (const svg of document.querySelectorAll('svg.chart-svg, svg.region-map')) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      if (r.width === 0) continue;
      const size = parseFloat(getComputedStyle(text).fontSize) * box.width / svg.viewBox.baseVal.width;
      out.smallest = Math.min(out.smallest, size);
      if (r.right > box.right + 0.5 || r.left < box.left - 2) out.cut.push([text.textContent, r.left - box.left, box.right - r.right]);
    }
  }
  return out;
}"""


def _axe_serious(page) -> list[tuple[str, str, list[str]]]:
    """axe-core's serious and critical violations on the page: (rule, impact, the first offending nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # it ran in the page
    return [
        (v["id"], v["impact"], [" ".join(n["target"]) for n in v["nodes"][:3]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _sign_in(page, base: str, user: str, lang: str) -> None:
    page.goto(f"{base}/login?lang={lang}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_oversight_pages_are_legible(oversight_live, chromium, lang, size):
    base = oversight_live
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
    page = context.new_page()
    try:
        _sign_in(page, base, "analyst", lang)
        pages = {
            "dashboard": "/dashboard",
            "dashboard-region": "/dashboard?region=790000000",
            "trends-week": "/trends?period=week",
            "trends-quarter": "/trends?period=quarter",
            "statistics": "/statistics",
        }
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            assert page.locator("html").get_attribute("lang") == lang
            m = page.evaluate(MEASURE)
            assert m["overflow"] <= 1, (name, m)
            assert m["smallest"] >= 12, (name, m["smallest"])
            assert not m["cut"], (name, m["cut"])
            from .test_browser_issue20 import WORDS, english_in

            english = english_in(page.evaluate(WORDS))
            assert not english, (name, english[:5])  # issue 20: every label translated
            bad = _axe_serious(page)
            assert not bad, (name, bad)
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{SHOTS}/{name}-{lang}-{size}.png", full_page=True)
        page.goto(f"{base}/dashboard")
        page.locator("a[data-region='790000000']").click()
        page.wait_for_url(f"{base}/dashboard?region=790000000")
        assert page.locator("#areas-table tbody tr").count() == 3
        context.close()
        context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
        page = context.new_page()
        _sign_in(page, base, "supervisor", lang)
        page.goto(f"{base}/trends?period=quarter")
        # the supervisor's region only: its officer of _fill, and the shared server's officer once they decided
        names = page.locator("#officers-table tbody th").all_inner_texts()
        region_officer = f"officer{[r.kato for r in codes.REGIONS].index('790000000')}"
        assert region_officer in names and set(names) <= {region_officer, "officer"}, names
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/trends-supervisor-{lang}-{size}.png", full_page=True)
    finally:
        context.close()
