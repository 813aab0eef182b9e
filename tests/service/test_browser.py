"""Browser tests: the pilot as an officer uses it, in Debian's Chromium driven by Playwright.

login → the queue → an application → override the recommendation with a reason → the statistics show
the override; in Russian and in Kazakh. `make test` installs Debian's `chromium` when it is missing
(Playwright's own browser download does not work here); the tests fail, not skip, without it, unless
ATAULY_SKIP_BROWSER is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

from atauly.service.app import create_app
from atauly.settings import Settings

from .conftest import PASSWORD, in_district, token_headers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("ATAULY_SKIP_BROWSER")), reason="ATAULY_SKIP_BROWSER is set"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(svc_home, svc_engine, svc_payloads, tmp_path_factory):
    """The service on a real port (SQLite), with the fixture users and three applications in the queue."""
    from atauly.service.users import create_user

    settings = Settings(
        home=svc_home, database_url=f"sqlite:///{tmp_path_factory.mktemp('browser') / 'a.db'}"
    )
    app = create_app(settings, engine=svc_engine)
    with app.state.sessions() as db:
        create_user(db, "officer", PASSWORD, "officer", "790100000", None)
        create_user(db, "supervisor", PASSWORD, "supervisor", None, "790000000")
    client = TestClient(app)
    headers = token_headers(client, "officer")
    apps = [
        client.post("/api/v1/applications", json=p, headers=headers).json()
        for p in in_district(svc_payloads)[:8]
    ]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", apps
    server.should_exit = True
    thread.join(10)
    app.state.db_engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run `make test` (it installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _login(page, base: str, lang: str):
    page.goto(f"{base}/login?lang={lang}")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/queue*")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ru", {"queue": "Очередь", "statistics": "Статистика"}),
        ("kk", {"queue": "Кезек", "statistics": "Статистика"}),
    ],
)
def test_officer_overrides_a_recommendation_and_the_statistics_show_it(live, browser, lang, words):
    base, apps = live
    # A case where departing is possible: an approval needs the law's amount (entitled by law).
    departable = [
        a
        for a in apps
        if a["recommendation"]["recommended_decision"] == "approve" or a["recommendation"]["eligible_by_law"]
    ]
    assert len(departable) >= 2
    target = departable[0] if lang == "ru" else departable[1]
    recommended = target["recommendation"]["recommended_decision"]
    opposite = "reject" if recommended == "approve" else "approve"
    context = browser.new_context(locale={"ru": "ru-RU", "kk": "kk-KZ"}[lang])
    page = context.new_page()
    try:
        _login(page, base, lang)
        assert page.locator("html").get_attribute("lang") == lang
        assert words["queue"] in page.content()
        before = int(_overrides(page, base))
        page.goto(f"{base}/queue")
        row = page.locator(f"tr[data-application-id='{target['id']}']")
        assert row.count() == 1
        row.locator("a").first.click()
        page.wait_for_url(f"{base}/applications/{target['id']}*")
        # The law's trace and the model's reasons are on the page.
        assert target["family_id"] in page.content()

        page.check(f"input[name=outcome][value={opposite}]")
        page.click("#decide")  # no reason code: refused with a message, nothing recorded
        page.wait_for_load_state()
        assert page.locator("[role=alert], .error, #flash").count() >= 1
        page.check(f"input[name=outcome][value={opposite}]")
        page.select_option("select[name=reason_code]", "income_differs")
        page.fill(
            "textarea[name=comment]",
            "Доходы подтверждены справкой" if lang == "ru" else "Табыс анықтамамен расталды",
        )
        page.click("#decide")
        page.wait_for_load_state()
        assert page.locator("#flash").count() == 1

        after = int(_overrides(page, base))
        assert after == before + 1
        assert words["statistics"] in page.content()
    finally:
        context.close()


def _overrides(page, base: str) -> str:
    page.goto(f"{base}/statistics")
    return page.locator("#overrides-total").inner_text().strip().replace("\u00a0", "").replace(" ", "")
