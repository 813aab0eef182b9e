"""The case page's model reasons say what the law does not (issue 20): the reasons beyond the law's verdict
come first; the ones that restate the law (its result, the inputs its test reads) follow, marked as such."""

from __future__ import annotations

import html
import re

from atauly.model.explain import restates_law

from .conftest import in_district
from .test_web import sign_in, submit


def _items(page: str, list_id: str) -> list[str]:
    m = re.search(rf'<ul class="reasons[^"]*" id="{list_id}"[^>]*>(.*?)</ul>', page, re.S)
    if m is None:
        return []
    return [
        html.unescape(re.sub(r"<[^>]+>", " ", li))
        for li in re.findall(r"<li[^>]*>(.*?)</li>", m.group(1), re.S)
    ]


def test_reasons_beyond_the_law_come_first_and_the_laws_own_are_marked(app, client, as_officer, svc_payloads):
    made = [submit(client, as_officer, p) for p in in_district(svc_payloads)[:3]]
    officer = sign_in(app, "officer")
    seen_beyond = 0
    for a in made:
        reasons = a["recommendation"]["reasons"]
        # the API says which reasons restate the law; the engine keeps some beyond the law's own top ones
        assert all(r["restates_law"] == restates_law(r["feature"]) for r in reasons)
        beyond = [r for r in reasons if not r["restates_law"]]
        law = [r for r in reasons if r["restates_law"]]
        assert law and beyond, [r["feature"] for r in reasons]
        page = officer.get(f"/applications/{a['id']}").text
        shown_beyond, shown_law = _items(page, "reasons-beyond"), _items(page, "reasons-law")
        assert page.index('id="reasons-beyond"') < page.index(
            'id="reasons-law"'
        )  # what the law does not say, first
        assert len(shown_beyond) == len(beyond) and len(shown_law) == len(law)
        for r, li in zip(sorted(beyond, key=lambda r: -abs(r["contribution"])), shown_beyond, strict=True):
            assert r["text"].lstrip("+−- ") in " ".join(li.split()) and "повторяет закон" not in li
        for li in shown_law:
            assert "повторяет закон" in li  # marked
        seen_beyond += len(shown_beyond)
    assert seen_beyond >= 3
    kk = officer.get(f"/applications/{made[0]['id']}?lang=kk").text
    assert "заңды қайталайды" in kk and "Модель заң бойынша тексеруден тыс ескеретін жайттар" in kk


def test_the_notice_keeps_to_the_top_reasons(client, as_officer, svc_payloads):
    """The family's notice lists what the estimate rested on most: the engine's top reasons, not the ones
    kept beyond the law for the case page."""
    from atauly.service.engine import TOP_REASONS

    made = submit(client, as_officer, in_district(svc_payloads)[3])
    rec = made["recommendation"]
    outcome = "approve" if rec["eligible_by_law"] else "reject"
    body = {"outcome": outcome, "version": made["version"]}
    if rec["recommended_decision"] != outcome:
        body |= {"reason_code": "law_criteria", "comment": "По закону"}
    assert (
        client.post(f"/api/v1/applications/{made['id']}/decision", json=body, headers=as_officer).status_code
        == 200
    )
    reasons = client.get(f"/api/v1/applications/{made['id']}?lang=ru", headers=as_officer).json()[
        "recommendation"
    ]["reasons"]
    assert len(reasons) > TOP_REASONS  # extras beyond the law were kept
    notice = " ".join(
        html.unescape(
            client.get(f"/api/v1/applications/{made['id']}/notice", headers=as_officer).text
        ).split()
    )
    # the notice's text is compared with its spaces collapsed (no-break spaces in money included)
    shown = [r for r in reasons if f"{' '.join(r['text'].lstrip('+−- ').split())} (" in notice]
    assert shown == reasons[:TOP_REASONS]
