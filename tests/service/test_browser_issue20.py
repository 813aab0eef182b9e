"""Issue 20's items that the other browser modules do not drive, in Debian's Chromium (Playwright), in Russian
and Kazakh, at a desktop (1366×768) and a phone (375×812) size, with axe-core on every state the test reaches
(a form with its errors included): a verified value recorded in the case page's form and the law recomputed on
it, an approval the law gives no amount for refused, a departure refused without an explanation for the family
and then recorded with one, the family's notice that quotes both (item 1 and 4); the queue's search by number,
its filters and a supervisor's assignment (item 2); blind mode, which hides the law's verdict and the model's
recommendation but shows the facts (the poverty line); and the model's report and card written in each language
(item 6). On each page: its language, no sideways scrolling, no English words and no parameter paths in the
visible text (item 3). docs/service.md, "What the browser tests cover", maps every item to its test.

``ATAULY_SCREENSHOTS=/some/dir`` also saves a full-page screenshot of each state there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from atauly.service.models import OPEN_STATES

from .conftest import DISTRICT, PASSWORD, in_district
from .test_browser_oversight import _axe_serious, _sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("ATAULY_SKIP_BROWSER")), reason="ATAULY_SKIP_BROWSER is set"),
]
SIZES = {"desktop": (1366, 768), "phone": (375, 812)}
SHOTS = os.environ.get("ATAULY_SCREENSHOTS")
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"

#: Two English words in a row (ru/kk pages write none; a model name such as asp-demo is one word).
ENGLISH = re.compile(r"\b[A-Za-z]{3,}(?: [A-Za-z]{2,})+\b")
LATIN_KEPT = {"ROC AUC", "ROC-AUC", "PR AUC", "PR-AUC", "van de Walle"}  # a metric's name, an author's
#: A parameter path (asp.poverty_line.share) or a code with underscores left in the text.
PARAMETER_PATH = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z_]+\.[a-z_]+\.[a-z_]+\b")

VERIFIED_NOTE = {
    "ru": "Справка о заработной плате от работодателя",
    "kk": "Жұмыс берушіден алынған жалақы туралы анықтама",
}
EXPLANATION = {
    "ru": "Проверенный доход выше черты бедности: права на помощь нет",
    "kk": "Тексерілген табыс кедейлік шегінен жоғары: көмек алуға құқық жоқ",
}
NOT_ENTITLED = {"ru": "Права нет", "kk": "Құқығы жоқ"}
DECIDED_BY = {"ru": "Решение принял(а)", "kk": "Шешім қабылдаған"}
ENDS_IN = {"ru": "оканчивается на", "kk": "соңғы 4 таңбасы:"}
VERIFIED_HEADING = {"ru": "Что проверил акимат", "kk": "Әкімдік не тексерді"}


#: The page's visible text less commands and code (``<code>``, ``<kbd>``, ``<samp>``), which stay as typed,
#: and text marked as English (``lang="en"``: the sources page's research notes, said so on the page).
WORDS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('code, kbd, samp, script, style, [lang|="en"]').forEach(e => e.remove());
  document.documentElement.appendChild(body);
  body.style.position = 'absolute'; body.style.left = '-99999px';
  const text = body.innerText;
  body.remove();
  return text;
}"""


def english_in(text: str) -> list[str]:
    return [m.group(0) for m in ENGLISH.finditer(text) if m.group(0) not in LATIN_KEPT]


def _look(page, name: str, lang: str, size: str, *, paths: bool = True) -> None:
    """The checks every state passes: its language, no sideways scrolling, words in the page's language
    (no English, no parameter paths) and no serious or critical axe violation; a screenshot when asked."""
    assert page.get_attribute("html", "lang") == lang, name
    assert page.evaluate(OVERFLOW) <= 1, (name, page.evaluate(OVERFLOW))
    shown = page.evaluate(WORDS)
    assert not english_in(shown), (name, english_in(shown)[:5])
    if paths:
        found = PARAMETER_PATH.search(shown)
        assert found is None, (name, found and found.group(0))
    bad = _axe_serious(page)
    assert not bad, (name, bad)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/issue20-{name}-{lang}-{size}.png", full_page=True)


def _api(base: str, user: str = "officer") -> httpx.Client:
    """A client of the API signed in as ``user`` (use it in a ``with``)."""
    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": PASSWORD}, timeout=60)
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return httpx.Client(base_url=base, timeout=60, headers=headers)


@pytest.fixture(scope="module")
def fresh(browser_site, svc_payloads) -> dict[str, list[dict]]:
    """Applications of the officer's district this module submits itself (the shared server's first eight are
    the other modules'): ``entitled`` by law on their declared data, and the ``rest``."""
    made = []
    with _api(browser_site.base) as http:
        for p in in_district(svc_payloads)[8:24]:
            r = http.post("/api/v1/applications", json=p)
            assert r.status_code in (200, 201), r.text
            made.append(r.json())
    entitled = [a for a in made if a["recommendation"]["eligible_by_law"]]
    assert len(entitled) >= 4, "fewer than four entitled families among the district's applications"
    return {"entitled": entitled, "rest": [a for a in made if a not in entitled]}


def _pick(pool: list[dict], lang: str, size: str) -> dict:
    """One application per (language, size), so the parametrised runs never share a case."""
    return pool[["ru", "kk"].index(lang) * 2 + list(SIZES).index(size)]


def _open_departure(page) -> None:
    """Unfold the decision form's "departure" part (its reason and the explanation for the family)."""
    summary = page.locator("details.departure > summary")
    if not page.locator("details.departure").evaluate("d => d.open"):
        summary.click()


# --- item 1 and 4: decisions that cannot mislead, and the notice that says so -------------------------------


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_verified_data_recompute_the_law_and_every_departure_is_explained(
    browser_site, chromium, fresh, lang, size
):
    base = browser_site.base
    target = _pick(fresh["entitled"], lang, size)
    app_id = target["id"]
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
    page = context.new_page()
    try:
        _sign_in(page, base, "officer", lang)
        page.goto(f"{base}/applications/{app_id}")
        # item 3: the law's sources wait behind one link
        assert page.locator(f"a[href='/applications/{app_id}/sources']").count() >= 1
        # item 2: the model's reasons beyond the law have their own list (or say there are none)
        assert page.locator("#reasons-beyond, #reasons-beyond-none").count() >= 1
        _look(page, "case", lang, size)

        # A decision against the recommendation with a reason but no explanation for the family: refused with
        # the comment's error, nothing recorded (the case stays open for what follows).
        recommended = target["recommendation"]["recommended_decision"]
        page.check("#outcome-reject" if recommended == "approve" else "#outcome-approve")
        _open_departure(page)
        page.select_option("#reason_code", "income_differs")
        page.fill("#comment", "")
        page.click("#decide")
        page.wait_for_load_state()
        assert page.locator("#comment-error").is_visible()
        _look(page, "departure-without-explanation", lang, size)
        page.fill("#comment", "")
        page.select_option("#reason_code", "")

        # The verification form, sent empty: every field says what is missing, nothing is recorded.
        page.locator("#verified details > summary").click()
        page.click("#verify")
        page.wait_for_load_state()
        assert page.locator("#verify-note-error").is_visible()
        _look(page, "verify-errors", lang, size)

        # A verified wage far above the line: the law is recomputed on it, the declaration kept beside it.
        page.check("#verify-kind-income")
        page.select_option("#verify-person", index=1)
        page.select_option("#verify-month", index=1)
        page.select_option("#verify-source", "wages")
        page.fill("#verify-amount", "9 500 000")
        page.fill("#verify-note", VERIFIED_NOTE[lang])
        page.click("#verify")
        page.wait_for_url(re.compile(rf"/applications/{app_id}(#.*)?$"))
        table = page.locator("#verified-table")
        assert table.is_visible() and "9" in table.inner_text()
        assert VERIFIED_NOTE[lang] in page.locator("#verified").inner_text()
        assert NOT_ENTITLED[lang] in page.locator(".law-card").inner_text()
        _look(page, "verified", lang, size)

        # An approval the law gives no amount for is refused, with the way out named.
        page.check("#outcome-approve")
        _open_departure(page)
        page.select_option("#reason_code", "other")
        page.fill("#comment", EXPLANATION[lang])
        page.click("#decide")
        page.wait_for_load_state()
        assert page.locator("#outcome-error").is_visible()
        _look(page, "approve-without-amount", lang, size)

        # A refusal: when it departs from the model's recommendation, it needs an explanation for the family.
        with _api(base) as http:
            recommended = http.get(f"/api/v1/applications/{app_id}").json()["recommendation"]
        page.check("#outcome-reject")
        if recommended["recommended_decision"] != "reject":
            _open_departure(page)
            page.select_option("#reason_code", "income_differs")
            page.fill("#comment", "")
            page.click("#decide")
            page.wait_for_load_state()
            assert page.locator("#comment-error").is_visible()
            _look(page, "refusal-without-explanation", lang, size)
            page.check("#outcome-reject")
        _open_departure(page)
        page.fill("#comment", EXPLANATION[lang])
        page.click("#decide")
        page.wait_for_load_state()
        assert page.locator("#flash").count() == 1

        # The family's notice in their language: what was verified, the officer, the appeal and contacts.
        page.goto(f"{base}/applications/{app_id}/notice?lang={lang}")
        notice = page.inner_text("main")
        assert VERIFIED_HEADING[lang] in notice and VERIFIED_NOTE[lang] in notice
        if recommended["recommended_decision"] != "reject":
            assert EXPLANATION[lang] in notice
        for section in ("appeal", "contacts", "next", "data"):
            assert page.locator(f"[id^='h-{section}'], [id^='{section}']").count() >= 1, section
        # who decided, and the IIN's last four digits by which the family recognises the notice as theirs
        assert DECIDED_BY[lang] in notice and "officer" in notice
        assert re.search(ENDS_IN[lang] + r"\s*\d{4}", notice), notice[:400]
        _look(page, "notice-verified", lang, size, paths=False)
    finally:
        context.close()


# --- item 2: the queue's search, filters and assignment; blind mode -------------------------------------


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_queue_searches_filters_and_a_supervisor_assigns(browser_site, chromium, fresh, lang, size):
    base = browser_site.base
    target = _pick(fresh["rest"] + fresh["entitled"][4:], lang, size)
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
    page = context.new_page()
    try:
        _sign_in(page, base, "officer", lang)
        page.goto(f"{base}/queue")
        page.fill("#search-q", f"№ {target['id']}")
        page.click("#search")
        page.wait_for_load_state()
        ids = page.locator("tr[data-application-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.applicationId)"
        )
        assert ids == [str(target["id"])], ids
        assert page.locator("#search-result").is_visible()
        _look(page, "queue-search", lang, size)

        page.goto(f"{base}/queue")
        page.fill("#search-q", "abc")
        page.click("#search")
        page.wait_for_load_state()
        assert page.locator("#search-q-error").is_visible()
        assert (
            page.locator("#decided-tab[aria-current]").count() == 0
        )  # beside the open queue, not the decided
        _look(page, "queue-search-error", lang, size)

        page.goto(f"{base}/queue")
        page.select_option("#filter-size", index=1)
        page.click("#filter")
        page.wait_for_load_state()
        assert page.locator("#clear-filters").is_visible()
        _look(page, "queue-filtered", lang, size)
        context.close()

        context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
        page = context.new_page()
        _sign_in(page, base, "supervisor", lang)
        page.goto(f"{base}/applications/{target['id']}")
        page.select_option("#assign-officer", label="officer")
        page.click("#assign")
        page.wait_for_load_state()
        assert page.locator("#assigned-to").inner_text().strip() == "officer"
        _look(page, "assigned", lang, size)
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_blind_mode_hides_the_verdicts_but_not_the_facts(browser_site, chromium, svc_payloads, lang, size):
    from atauly.service.casework import set_district_settings
    from atauly.service.models import User

    base = browser_site.base
    sessions = browser_site.app.state.sessions
    with sessions() as db:
        supervisor = db.query(User).filter_by(username="supervisor").one()
        set_district_settings(db, supervisor, [DISTRICT], blind_mode=True)
        db.commit()
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
    page = context.new_page()
    try:
        n = 24 + ["ru", "kk"].index(lang) * 2 + list(SIZES).index(size)
        with _api(base) as http:
            r = http.post("/api/v1/applications", json=in_district(svc_payloads)[n])
            assert r.status_code in (200, 201), r.text
            created = r.json()
        assert created["recommendation"] is None  # hidden from the officer in blind mode
        _sign_in(page, base, "officer", lang)
        page.goto(f"{base}/applications/{created['id']}")
        assert page.locator("#law-title").count() == 0 and page.locator("#rec-title").count() == 0
        facts = page.locator("#blind-facts")
        assert facts.is_visible()
        assert {"ru": "Черта бедности", "kk": "Кедейлік шегі"}[lang] in facts.inner_text()
        assert "₸" in facts.inner_text()
        _look(page, "blind", lang, size)
        page.check("#assess-outcome-approve")
        page.click("#assess")
        page.wait_for_load_state()
        assert page.locator("#law-title").is_visible()  # shown once the own assessment is recorded
        _look(page, "blind-assessed", lang, size)
    finally:
        context.close()
        with sessions() as db:
            supervisor = db.query(User).filter_by(username="supervisor").one()
            set_district_settings(db, supervisor, [DISTRICT], blind_mode=False)
            db.commit()


# --- item 6: the model's report and card in each language ---------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_model_report_and_card_in_each_language(svc_home, chromium, tmp_path, lang):
    """`atauly model report --lang` writes them again from the stored metadata: each in its language, with
    no English words, no sideways scrolling at either size and no serious or critical axe violation."""
    import json

    from atauly.model import report_documents

    version = sorted((svc_home / "models" / "asp-demo").glob("v*"))[-1]
    meta = json.loads((version / "metadata.json").read_text(encoding="utf-8"))
    for name, text in report_documents(meta, "asp-demo", version.name, lang).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for size, (width, height) in SIZES.items():
        context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
        page = context.new_page()
        try:
            for name in ("report.html", "model_card.html"):
                page.goto((tmp_path / name).as_uri())
                _look(page, name.removesuffix(".html"), lang, size, paths=False)
        finally:
            context.close()


# --- the family's exit plan (the one page no other browser module opens) -----------------------------------


@pytest.fixture(scope="module")
def planned(browser_site, svc_payloads) -> int:
    """An approved conditional application of the officer's district (entitled by law; a departure from the
    recommendation explained), with its plan drafted (the API)."""
    with _api(browser_site.base) as http:
        # from the district's last application back (the other tests take the first ones); a payload sent
        # again answers with its application as it stands
        for payload in reversed(in_district(svc_payloads)):
            created = http.post("/api/v1/applications", json=payload).json()
            rec = created["recommendation"]
            if not rec or rec["law"].get("asp_type") != "conditional" or not rec["eligible_by_law"]:
                continue
            if created["status"] not in OPEN_STATES and created["status"] != "approved":
                continue
            if created["status"] != "approved":
                body = {"outcome": "approve", "version": created["version"]}
                if rec["recommended_decision"] != "approve":
                    body |= {"reason_code": "law_criteria", "comment": "Критерии закона выполнены"}
                r = http.post(f"/api/v1/applications/{created['id']}/decision", json=body)
                assert r.status_code == 200, r.text
            assert http.get(f"/api/v1/applications/{created['id']}/plan").status_code == 200
            return created["id"]
    pytest.fail("no conditional application entitled by law in the district's sample")


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_family_exit_plan_page(browser_site, chromium, planned, lang):
    for size, (width, height) in SIZES.items():
        context = chromium.new_context(viewport={"width": width, "height": height}, locale=f"{lang}-KZ")
        page = context.new_page()
        try:
            _sign_in(page, browser_site.base, "officer", lang)
            response = page.goto(f"{browser_site.base}/applications/{planned}/plan")
            assert response is not None and response.status == 200
            _look(page, "plan", lang, size)
        finally:
            context.close()
