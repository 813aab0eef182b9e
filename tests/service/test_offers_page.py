"""The offers of the proactive search (issue 15, "the officer sees why each family was chosen"): the page
lists the offered families of the user's scope with the scan's reason in the page's language, masked
identities, the offer's state and the application once the family agreed; the case page of such an
application says in one line why the family was offered."""

from __future__ import annotations

import re

from sqlalchemy import select

from atauly.service.models import AuditEvent, Offer, ScanCandidate
from atauly.service.offers import FileGateway, create_offers, load_scan, reply, send_queued

from . import test_offers
from .conftest import DISTRICT, OTHER_DISTRICT
from .test_web import sign_in

scan_dir = test_offers.scan_dir  # the scanned registry (a session fixture), shared with the offers' tests
IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _offers(db, scan_dir, svc_engine, tmp_path) -> tuple[str, int]:
    load_scan(db, scan_dir)
    create_offers(db, scan_dir, per_district=3)
    send_queued(db, FileGateway(tmp_path / "outbox"))
    code = (
        db.execute(select(Offer.code).where(Offer.district_kato == DISTRICT).order_by(Offer.rank))
        .scalars()
        .first()
    )
    offer = reply(db, svc_engine, code, "agree")
    family, application = offer.family_id, offer.application_id
    db.rollback()  # SQLite: an open transaction holds the write lock the app's requests need
    return family, application


def _card(html: str, family: str) -> str:
    """The offers list's card of ``family`` (its title names the family)."""
    card = re.search(
        rf'<li class="card offer"[^>]*>(?:(?!</li>).)*?\b{re.escape(family)}\b(?:(?!</li>).)*</li>',
        html,
        re.S,
    )
    assert card, family
    return card.group(0)


def test_an_officer_sees_the_districts_offers_and_why(db, scan_dir, svc_engine, users, app, tmp_path):
    family, application = _offers(db, scan_dir, svc_engine, tmp_path)
    ours = (
        db.execute(
            select(ScanCandidate).where(
                ScanCandidate.district_kato == DISTRICT, ScanCandidate.offered.is_(True)
            )
        )
        .scalars()
        .all()
    )
    db.rollback()
    officer = sign_in(app, "officer")
    for lang in ("ru", "kk"):
        r = officer.get(f"/offers?lang={lang}")
        assert r.status_code == 200, r.text
        assert (
            "Предложения проактивного поиска" if lang == "ru" else "Проактивті іздеу ұсыныстары"
        ) in r.text
        assert 'href="/offers"' in r.text  # in the navigation
        assert r.text.count('class="card offer"') == len(ours) > 0
        assert not IIN.search(r.text)  # identities masked
        assert f'href="/applications/{application}"' in r.text
        reasons = re.findall(r'<span class="reason">(.*?)</span>', r.text)
        assert len(reasons) == len(ours)
        assert not any(re.search(r"[A-Za-z]{3,}", x) for x in reasons), reasons
    # another district's officer sees none of these families, whatever the filter asks
    other = sign_in(app, "officer2")
    r = other.get(f"/offers?district={DISTRICT}")
    assert r.status_code == 200 and family not in r.text
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "offers.read")).scalars().all()
    assert {e.actor for e in events} >= {"officer", "officer2"}
    db.rollback()


def test_supervisors_filter_districts_and_analysts_see_no_identity(
    db,
    scan_dir,
    svc_engine,
    users,
    app,
    tmp_path,
):
    family, application = _offers(db, scan_dir, svc_engine, tmp_path)
    first = db.execute(
        select(ScanCandidate).where(ScanCandidate.family_id == family, ScanCandidate.quarter == "2025Q3")
    ).scalar_one()
    first.probability_entitled = 0.8  # as a population-calibrated scan would have it
    db.commit()
    supervisor = sign_in(app, "supervisor")
    r = supervisor.get(f"/offers?district={OTHER_DISTRICT}&lang=ru")
    assert r.status_code == 200 and family not in r.text and 'id="filter-district"' in r.text
    r = supervisor.get(f"/offers?district={DISTRICT}&lang=ru")
    assert family in r.text
    # the family's own card gives its probability and its words; the other cards, uncalibrated, say so
    card = _card(r.text, family)
    probability = re.search(r"<dt>Вероятность действительного права</dt><dd>(.*?)</dd>", card, re.S)
    assert probability and probability.group(1).strip() == "80% (весьма вероятно, имеет право)", card
    others = r.text.replace(card, "")
    assert "не откалибрована" in others and "весьма вероятно" not in others
    analyst = sign_in(app, "analyst")
    r = analyst.get(f"/offers?district={DISTRICT}&lang=kk")
    assert r.status_code == 200 and 'class="card offer"' in r.text
    assert family not in r.text and "/applications/" not in r.text


def test_the_case_page_says_why_the_family_was_offered(db, scan_dir, svc_engine, users, app, tmp_path):
    family, application = _offers(db, scan_dir, svc_engine, tmp_path)
    officer = sign_in(app, "officer")
    r = officer.get(f"/applications/{application}?lang=ru")
    assert r.status_code == 200
    line = re.search(r'<p id="offered-why"[^>]*>(.*?)</p>', r.text, re.S)
    assert line and "Предложено проактивным поиском" in line.group(1)
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", line.group(1)))


def test_blind_mode_hides_the_scans_verdict_until_the_officers_assessment(
    db, scan_dir, svc_engine, users, app, tmp_path
):
    """The scan's reason and probability say what the law and the model would: in blind mode the list and
    the case page hide them for an application the officer has not yet assessed, as the case page hides the
    recommendation, and show them after the assessment."""
    from atauly.service.casework import set_district_settings
    from atauly.service.deciding import assess
    from atauly.service.models import Application, User

    family, application = _offers(db, scan_dir, svc_engine, tmp_path)
    sup = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    set_district_settings(db, sup, [DISTRICT], blind_mode=True)
    db.commit()
    officer = sign_in(app, "officer")
    hidden = "Показывается после вашей собственной оценки заявления"
    try:
        r = officer.get("/offers?lang=ru")
        card = _card(r.text, family)
        assert hidden in card
        assert "вероятно" not in card and "ниже черты" not in card
        assert hidden not in r.text.replace(card, "")  # other families: no application, nothing hidden
        page = officer.get(f"/applications/{application}?lang=ru").text
        assert 'id="offered-why"' not in page
        status = db.get(Application, application).status
        assert status not in ("approved", "refused")
        db.rollback()
        me = db.execute(select(User).where(User.username == "officer")).scalar_one()
        assess(db, me, application, "approve")
        db.commit()
        r = officer.get("/offers?lang=ru")
        assert hidden not in r.text
        assert 'id="offered-why"' in officer.get(f"/applications/{application}?lang=ru").text
    finally:
        db.rollback()
        set_district_settings(db, sup, [DISTRICT], blind_mode=False)
        db.commit()
