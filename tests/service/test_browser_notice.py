"""The family's notice on a phone (390×844) in Debian's Chromium: in Kazakh, the family's language, and in
both languages — the page does not scroll sideways and axe-core finds no serious or critical violation.

``ATAULY_SCREENSHOTS=/some/dir`` also saves a full-page screenshot of each page there.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from .conftest import PASSWORD
from .test_browser import _still_open, browser, live  # noqa: F401 (fixtures)
from .test_browser_oversight import _axe_serious, _sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("ATAULY_SKIP_BROWSER")), reason="ATAULY_SKIP_BROWSER is set"),
]
SHOTS = os.environ.get("ATAULY_SCREENSHOTS")


def _decide_in_kazakh(base: str, created: dict) -> int:
    """Decide the application as the law says and record Kazakh as the family's language (the API)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/api/v1/auth/token", data={"username": "officer", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        app_id = created["id"]
        current = http.get(f"/api/v1/applications/{app_id}", headers=headers).json()
        rec = current["recommendation"]
        outcome = "approve" if rec["eligible_by_law"] else "reject"
        body = {"outcome": outcome, "version": current["version"]}
        if rec["recommended_decision"] != outcome:
            body["reason_code"] = "law_criteria"
        r = http.post(f"/api/v1/applications/{app_id}/decision", json=body, headers=headers)
        assert r.status_code == 200, r.text
        r = http.put(f"/api/v1/applications/{app_id}/language", json={"language": "kk"}, headers=headers)
        assert r.status_code == 200, r.text
    return app_id


def test_the_kazakh_notice_fits_a_phone_and_passes_axe(live, browser):  # noqa: F811
    base, apps = live
    app_id = _decide_in_kazakh(base, _still_open(base, apps)[-1])  # the server is shared: an open one
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="kk-KZ", bypass_csp=True)
    page = context.new_page()
    try:
        _sign_in(page, base, "officer", "kk")
        for name, query in (("kk", ""), ("both", "?lang=both")):
            response = page.goto(f"{base}/applications/{app_id}/notice{query}")
            assert response is not None and response.status == 200
            assert page.get_attribute("html", "lang") == "kk"
            assert page.locator("h1").first.inner_text().startswith("Шешім туралы хабарлама")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (name, width)  # no sideways scrolling on the phone
            wide = page.evaluate(
                "[...document.querySelectorAll('main *')].filter(e => !e.closest('.table-wrap'))"
                ".filter(e => e.getBoundingClientRect().right > 390.5).map(e => e.tagName)"
            )
            assert wide == [], (name, wide)
            assert _axe_serious(page) == [], name
            if SHOTS:
                page.screenshot(path=str(Path(SHOTS) / f"notice-{name}-phone.png"), full_page=True)
    finally:
        context.close()
