"""Confirmed facts (the inspection act's counts, assets a photo shows that an officer confirmed) feed the law
and Stage 1's features: the recommendation is recomputed on them, a photo's score never decides alone."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atauly.registry.codes import DWELLING_CODES
from atauly.service.facts import COLUMNS, changes, with_facts

from .conftest import in_district, on_the_event_loop
from .test_photos import _files, vision_home  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("vision_home")
SNAPSHOT = {
    "families": [{"family_id": "F1", "vehicles_owned": 0, "livestock_heads": 3, "dwellings_owned": 1}],
    "persons": [{"family_id": "F1", "person_id": "P1"}],
    "incomes": [],
}
fact_values = st.fixed_dictionaries(
    {},
    optional={
        "dwellings_owned": st.integers(0, 5),
        "vehicles_owned": st.integers(0, 5),
        "livestock_heads": st.integers(0, 500),
        "commission_found_no_need": st.booleans(),
        # the dwelling as the act records it: coded, the data contract's optional columns
        **{column: st.sampled_from(codes) for column, codes in DWELLING_CODES.items()},
    },
)


@given(fact_values)
def test_facts_are_written_into_the_family_row_and_nothing_else_changes(facts):
    import copy

    before = copy.deepcopy(SNAPSHOT)
    out = with_facts(SNAPSHOT, facts)
    assert SNAPSHOT == before  # the stored tables are never changed
    fam = out["families"][0]
    for column, value in facts.items():
        assert fam[column] == value and type(fam[column]) is COLUMNS[column]
    untouched = set(SNAPSHOT["families"][0]) - set(facts)
    assert all(fam[c] == SNAPSHOT["families"][0][c] for c in untouched)
    assert out["persons"] == SNAPSHOT["persons"] and out["incomes"] == SNAPSHOT["incomes"]
    # what differs from the submitted tables, and only that
    diff = changes(SNAPSHOT, facts)
    submitted = SNAPSHOT["families"][0]
    assert set(diff) == {
        c
        for c, v in facts.items()
        if (submitted.get(c) if COLUMNS[c] is str else COLUMNS[c](submitted.get(c) or 0)) != v
    }


def test_a_fact_must_be_a_column_of_the_data_contract():
    assert with_facts(SNAPSHOT, {}) is SNAPSHOT
    with pytest.raises(ValueError, match="monthly_income"):
        with_facts(SNAPSHOT, {"monthly_income": 0})


def _eligible_application(client, as_officer, payloads) -> dict:
    """An application the law finds entitled, declaring no vehicle, no disabled member (the vehicle rule
    applies)."""
    for p in in_district(payloads):
        if any(int(m.get("disability_group") or 0) for m in p["persons"]):
            continue
        p = {**p, "family": {**p["family"], "vehicles_owned": 0}}
        r = client.post("/api/v1/applications", json=p, headers=as_officer)
        assert r.status_code in (200, 201), r.text
        body = r.json()
        if body["recommendation"]["eligible_by_law"] and body["status"] == "new":
            return body
    pytest.skip("no entitled application among the generated ones")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_confirmed_vehicle_reaches_the_law_and_the_model_and_a_pending_one_does_not(
    app,
    client,
    as_officer,
    svc_payloads,
    db,
):
    from atauly.service.audit import AuditEvent
    from atauly.service.models import PhotoFinding
    from atauly.vision import synthetic

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id, version = body["id"], body["version"]
    before = body["recommendation"]
    assert before["facts"] == {}
    photo = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"yard.jpg": synthetic.jpeg_bytes(synthetic.sample("coffee"))}),
        headers=as_officer,
    ).json()[0]
    finding = PhotoFinding(
        photo_id=photo["id"], asset="vehicle", confidence=0.95, label="pickup truck", status="pending"
    )
    db.add(finding)
    db.flush()
    fid = finding.id
    db.commit()
    # a pending finding, however confident, changes nothing
    same = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    assert same["recommendation"] == before and same["version"] == version

    r = client.post(f"/api/v1/photo-findings/{fid}", json={"decision": "confirm"}, headers=as_officer)
    assert r.status_code == 200, r.text
    after = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    rec = after["recommendation"]
    assert rec["facts"] == {"vehicles_owned": 1}
    # the law's asset rule now refuses; the snapshot as submitted is kept as it was
    assert rec["eligible_by_law"] is False and rec["law"]["refusal_reason"] == "owns_vehicle"
    assert after["snapshot"]["families"][0]["vehicles_owned"] == 0
    assert rec["input_hash"] != before["input_hash"] and after["version"] > version
    # the model scored the tables with the fact: the same engine on them gives the same probability
    engine = app.state.engine
    expected = engine.recommend(with_facts(after["snapshot"], rec["facts"]), after["quarter"])
    assert rec["mode"] == expected.mode
    assert rec["probability"] == pytest.approx(expected.probability)
    assert (
        any(x["feature"] == "vehicles_owned" for x in rec["reasons"])
        or rec["probability"] != (before["probability"])
    )
    events = db.query(AuditEvent).filter_by(action="recommendation.recompute", object_id=str(app_id)).all()
    assert len(events) == 1 and events[0].detail["changed"] == ["vehicles_owned"]
    db.rollback()

    # a decision form opened on the old figures fails; one on the new figures goes through
    decide = {"outcome": "reject", "version": version}
    assert (
        client.post(f"/api/v1/applications/{app_id}/decision", json=decide, headers=as_officer).status_code
        == 409
    )
    decide["version"] = after["version"]
    r = client.post(f"/api/v1/applications/{app_id}/decision", json=decide, headers=as_officer)
    assert r.status_code == 200, r.text
    # retraining on officers' decisions sees the tables the decision was made on: with the fact
    from atauly.service.decided_cases import _read

    snapshots, rows, _ = _read(db, blind_only=False)
    mine = [s for s, row in zip(snapshots, rows, strict=True) if row["application_id"] == app_id]
    assert mine[0]["families"][0]["vehicles_owned"] == 1
    db.rollback()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_acts_counts_and_the_commissions_conclusion_are_facts_the_law_uses(
    app,
    client,
    as_officer,
    svc_payloads,
    db,
):
    from atauly.service.models import PhotoFinding

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    act = {"inspected_on": "2025-08-01", "checklist": {"dwelling_type": "house", "livestock_heads": 7}}
    r = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer)
    assert r.status_code == 200 and r.json()["facts"] == {"dwelling_type": "house", "livestock_heads": 7}
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert rec["facts"] == {"dwelling_type": "house", "livestock_heads": 7} and rec["eligible_by_law"] is True
    # saving the same act again computes nothing new
    client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer)
    again = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert again["created_at"] == rec["created_at"]

    act["checklist"]["commission_found_no_need"] = True
    r = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer)
    assert r.json()["facts"] == {
        "dwelling_type": "house",
        "livestock_heads": 7,
        "commission_found_no_need": True,
    }
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert rec["eligible_by_law"] is False and rec["law"]["refusal_reason"] == "commission_found_no_need"

    # a fact confirmed while the recomputation could not run: the decision recomputes first and, the
    # result being the same (refused), goes through on the recommendation with the fact
    photo = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"yard.jpg": synthetic_jpeg()}),
        headers=as_officer,
    ).json()[0]
    db.add(
        PhotoFinding(
            photo_id=photo["id"], asset="tractor", confidence=0.8, label="tractor", status="confirmed"
        )
    )
    db.commit()
    version = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["version"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "reject", "version": version},
        headers=as_officer,
    )
    assert r.status_code == 200, r.text
    used = r.json()["recommendation"]
    assert len(used["facts"]) > 2 and used["eligible_by_law"] is False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_verified_value_and_the_confirmed_facts_are_applied_together(
    app, client, as_officer, svc_payloads, db
):
    """Verification (issue 20) and confirmed facts recompute through the same function: a verified income
    keeps the act's facts applied, and an act saved after it recomputes on the verified data."""
    from atauly.registry.quarter import Quarter
    from atauly.service.engine import canonical_hash
    from atauly.service.models import Application

    from .test_web import csrf, sign_in

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    act = {"inspected_on": "2025-08-01", "checklist": {"dwelling_type": "house", "livestock_heads": 7}}
    assert client.put(
        f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer
    ).is_success
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert rec["facts"] == {"dwelling_type": "house", "livestock_heads": 7} and rec["eligible_by_law"] is True

    db.rollback()
    row = db.get(Application, app_id)
    applicant = next(p for p in row.snapshot["persons"] if p["role"] == "applicant")
    month = Quarter.parse(row.quarter).reference_months[0]
    db.rollback()
    officer = sign_in(app, "officer")
    page = officer.get(f"/applications/{app_id}")
    form = {
        "csrf_token": csrf(page),
        "kind": "income",
        "person": applicant["person_id"],
        "month": month,
        "source": "wages",
        "amount": "9500000",
        "note": "справка о заработной плате",
    }
    done = officer.post(f"/applications/{app_id}/verification", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert rec["eligible_by_law"] is False  # the verified income counts
    assert rec["facts"] == {
        "dwelling_type": "house",
        "livestock_heads": 7,
    }  # and the act's fact is still applied
    db.rollback()
    row = db.get(Application, app_id)
    assert rec["input_hash"] == canonical_hash(
        with_facts(row.snapshot, {"dwelling_type": "house", "livestock_heads": 7})
    )
    db.rollback()

    # an act saved after the verification recomputes on the verified data
    act["checklist"]["livestock_heads"] = 8
    assert client.put(
        f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer
    ).is_success
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert (
        rec["facts"] == {"dwelling_type": "house", "livestock_heads": 8} and rec["eligible_by_law"] is False
    )

    # not stale: the decision is taken on this recommendation, not refused for the facts
    version = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["version"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={
            "outcome": "reject",
            "version": version,
            "reason_code": "other",
            "comment": "доход подтверждён",
        },
        headers=as_officer,
    )
    assert r.status_code == 200, r.text


def test_the_notice_lists_the_facts_the_decision_used(client, as_officer, svc_payloads):
    import re

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    act = {
        "inspected_on": "2025-08-01",
        "checklist": {"dwelling_type": "house", "livestock_heads": 4321, "commission_found_no_need": True},
    }
    assert client.put(
        f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer
    ).is_success
    case = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    rec = case["recommendation"]
    assert rec["facts"] == {
        "dwelling_type": "house",
        "livestock_heads": 4321,
        "commission_found_no_need": True,
    }
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "reject", "version": case["version"]},
        headers=as_officer,
    )
    assert r.status_code == 200, r.text
    html = client.get(f"/api/v1/applications/{app_id}/notice?lang=en&format=html", headers=as_officer).text
    flat = re.sub(r"\s+", " ", html.replace("\u00a0", " ").replace("\u202f", " "))
    # the confirmed count, not the submitted one, marked as confirmed; the commission's conclusion too
    assert re.search(r"4[ ,]?321 \(confirmed at the inspection\)", flat), flat
    assert "not in need. (confirmed at the inspection)" in flat
    # the fingerprint is the one of the data the law used
    assert rec["input_hash"][:12] in flat
    ru = client.get(f"/api/v1/applications/{app_id}/notice?lang=ru&format=html", headers=as_officer).text
    assert "(подтверждено при обследовании)" in ru


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_decided_cases_act_and_findings_do_not_change(app, client, as_officer, svc_payloads, db):
    from atauly.service.models import PhotoFinding

    from .test_web import csrf, sign_in

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    photo = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"yard.jpg": synthetic_jpeg()}),
        headers=as_officer,
    ).json()[0]
    finding = PhotoFinding(
        photo_id=photo["id"], asset="vehicle", confidence=0.9, label="car", status="pending"
    )
    db.add(finding)
    db.commit()
    fid = finding.id
    db.rollback()
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "approve", "version": body["version"]},
        headers=as_officer,
    )
    assert r.status_code == 200, r.text
    act = {"inspected_on": "2025-08-01", "checklist": {"dwelling_type": "house", "vehicles_owned": 1}}
    r = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer)
    assert r.status_code == 409 and "reopen it with a correction" in r.text
    r = client.post(f"/api/v1/photo-findings/{fid}", json={"decision": "confirm"}, headers=as_officer)
    assert r.status_code == 409
    db.expire_all()
    assert db.get(PhotoFinding, fid).status == "pending"
    db.rollback()
    after = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    assert after["status"] == "approved" and after["recommendation"]["facts"] == {}
    # the page says why, in the officer's language
    browser = sign_in(app, "officer")
    page = browser.get(f"/applications/{app_id}/inspection-act?lang=ru")
    form = {
        "csrf_token": csrf(page),
        "inspected_on": "2025-08-01",
        "dwelling_type": "yurt",
        "vehicles_owned": "1",
    }
    r = browser.post(f"/applications/{app_id}/inspection-act", data=form)
    assert r.status_code == 409 and "переоткройте его через исправление" in r.text


def _stale_by_act(db, app_id: int, checklist: dict) -> None:
    """An act written past the service (as when the recomputation could not run): the facts are stale."""
    from datetime import date, datetime

    from sqlalchemy import select

    from atauly.service.models import InspectionAct, User

    officer = db.scalar(select(User.id).where(User.username == "officer"))
    db.add(
        InspectionAct(
            application_id=app_id,
            checklist=checklist,
            photos={},
            officer_id=officer,
            inspected_on=date(2025, 8, 1),
            updated_at=datetime(2025, 8, 1),
            version=1,
        )
    )
    db.commit()
    db.rollback()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_decision_on_stale_facts_recomputes_first(app, client, as_officer, svc_payloads, db):
    from .test_web import csrf, sign_in

    # the facts equal the submitted data: recomputed, the same result, the decision goes through
    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    heads = int(body["snapshot"]["families"][0].get("livestock_heads") or 0)
    _stale_by_act(db, app_id, {"dwelling_type": "house", "livestock_heads": heads})
    decide = {"outcome": "approve", "version": body["version"]}
    r = client.post(f"/api/v1/applications/{app_id}/decision", json=decide, headers=as_officer)
    assert r.status_code == 200, r.text
    assert r.json()["recommendation"]["facts"] == {"dwelling_type": "house", "livestock_heads": heads}
    assert r.json()["status"] == "approved"

    # the commission found no need: recomputed, the law now refuses, the officer must look first
    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    _stale_by_act(db, app_id, {"dwelling_type": "house", "commission_found_no_need": True})
    decide = {"outcome": "approve", "version": body["version"]}
    r = client.post(f"/api/v1/applications/{app_id}/decision", json=decide, headers=as_officer)
    assert r.status_code == 409 and r.json()["detail"].startswith("recommendation: recomputed"), r.text
    now = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    assert now["status"] == "new" and now["recommendation"]["eligible_by_law"] is False
    assert f"version {now['version']}" in r.json()["detail"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "reject", "version": now["version"]},
        headers=as_officer,
    )
    assert r.status_code == 200, r.text

    # on the page: the words, and the case with its new result
    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    browser = sign_in(app, "officer")
    page = browser.get(f"/applications/{app_id}?lang=ru")
    _stale_by_act(db, app_id, {"dwelling_type": "house", "commission_found_no_need": True})
    form = {"csrf_token": csrf(page), "outcome": "approve", "version": str(body["version"])}
    r = browser.post(f"/applications/{app_id}/decision", data=form)
    assert r.status_code == 409
    assert "Рекомендация пересчитана с учётом подтверждённых фактов" in r.text


def synthetic_jpeg() -> bytes:
    from atauly.vision import synthetic

    return synthetic.jpeg_bytes(synthetic.sample("rocket"))


@pytest.mark.slow  # three languages, a form and a PDF: ~13 s on the shared 2-CPU machine
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_inspection_act_page_is_filled_in_printed_and_feeds_the_recommendation(
    app, client, as_officer, svc_payloads, db
):
    from .test_web import csrf, sign_in

    body = _eligible_application(client, as_officer, svc_payloads)
    app_id = body["id"]
    client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"yard.jpg": synthetic_jpeg()}),
        headers=as_officer,
    )
    browser = sign_in(app, "officer")
    page = browser.get(f"/applications/{app_id}/inspection-act?lang=en")
    assert page.status_code == 200 and "No inspection act is recorded yet." in page.text
    assert f"/applications/{app_id}/photos/" in page.text and "faces blurred" in page.text
    url = f"/applications/{app_id}/inspection-act"
    form = {"csrf_token": csrf(page), "inspected_on": "2025-08-01", "dwelling_type": "yurt"}
    answers = []
    on_loop = on_the_event_loop(
        app.state.db_engine,
        lambda: answers.append(
            browser.post(url, data={**form, "vehicles_owned": "many", "heating": "nuclear"})
        ),
    )
    bad = answers[0]
    assert bad.status_code == 422 and on_loop == []  # the act's page and checks off the event loop
    assert (
        "Motor vehicles: a whole number from 0 to 50." in bad.text
        and "Heating: choose from the list." in bad.text
    )
    on_loop = on_the_event_loop(
        app.state.db_engine,
        lambda: answers.append(
            browser.post(
                url,
                data={
                    **form,
                    "vehicles_owned": "1",
                    "heating": "stove_coal",
                    "appliances": ["refrigerator", "television"],
                },
                follow_redirects=False,
            )
        ),
    )
    r = answers[1]
    assert r.status_code == 303, r.text
    assert on_loop == []  # the act saved and the facts recomputed in a worker thread
    rec = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["recommendation"]
    assert (
        rec["facts"] == {"dwelling_type": "yurt", "heating": "stove_coal", "vehicles_owned": 1}
        and rec["eligible_by_law"] is False
    )
    for lang, words in (
        (
            "ru",
            ["Акт обследования материально-бытовых условий", "юрта", "печь, уголь", "холодильник, телевизор"],
        ),
        (
            "kk",
            [
                "Материалдық-тұрмыстық жағдайын тексеру актісі",
                "киіз үй",
                "пеш, көмір",
                "тоңазытқыш, теледидар",
            ],
        ),
        ("en", ["Home inspection act", "yurt", "stove, coal", "The law and the model&#39;s recommendation"]),
    ):
        shown = browser.get(f"{url}?lang={lang}")
        assert shown.status_code == 200 and all(w in shown.text for w in words), lang
    # the application page says which confirmed facts the law and the model used
    case = browser.get(f"/applications/{app_id}?lang=en")
    assert "Computed with the facts an officer confirmed:" in case.text
    assert "Motor vehicles 1 (submitted: 0)" in case.text
    # the facts table: submitted 0, confirmed 1
    assert "<td>0</td><td><strong>1</strong></td>" in shown.text
    # the PDF: the same act, in Kazakh letters, with the redacted photo embedded
    from atauly.i18n import Translator
    from atauly.service import inspection

    assert f"{url}.pdf?lang=en" in shown.text
    doc = browser.get(f"{url}.pdf?lang=kk")
    assert doc.status_code == 200 and doc.headers["content-type"] == "application/pdf"
    assert doc.content.startswith(b"%PDF") and b"/Subtype /Image" in doc.content
    ctx = {
        "t": Translator("kk"),
        "summary": [("Өтініш", "№ 1")],
        "answers": [{"question": "Тұрғын үй", "answer": "киіз үй"}],
        "by_item": [],
        "facts": [],
        "photos": [],
    }
    plain = inspection.pdf(ctx, {}, compress=False)
    assert plain.startswith(b"%PDF") and len(plain) > 1000
    analyst = sign_in(app, "analyst")
    assert analyst.get(url).status_code == 403


def test_the_acts_answers_and_facts_in_words_and_the_apis_codes_agree():
    import typing

    from atauly.i18n import Translator
    from atauly.service import inspection
    from atauly.service.api.routes.photos import Checklist, InspectionActIn

    t = Translator("ru")
    answers = inspection.answers(
        {
            "dwelling_type": "yurt",
            "heating": None,
            "appliances": ["refrigerator", "television"],
            "rooms": 2,
            "commission_found_no_need": False,
            "notes": "",
        },
        t,
    )
    assert [(a["item"], a["answer"]) for a in answers] == [
        ("dwelling_type", "юрта"),
        ("rooms", "2"),
        ("appliances", "холодильник, телевизор"),
        ("commission_found_no_need", "нуждаемость подтверждена"),
    ]
    lines = inspection.fact_lines(SNAPSHOT, {"vehicles_owned": 1, "commission_found_no_need": True}, t)
    assert [(x["declared"], x["value"], x["changed"]) for x in lines] == [
        ("0", "1", True),
        ("не указано", "нуждаемость не установлена", True),
    ]
    # a submitted "need confirmed" is shown as such; a fact equal to what was submitted is not a change
    submitted = {**SNAPSHOT, "families": [{**SNAPSHOT["families"][0], "commission_found_no_need": False}]}
    lines = inspection.fact_lines(submitted, {"commission_found_no_need": False, "livestock_heads": 3}, t)
    assert [(x["declared"], x["value"], x["changed"]) for x in lines] == [
        ("нуждаемость подтверждена", "нуждаемость подтверждена", False),
        ("3", "3", False),
    ]
    lines = inspection.fact_lines(submitted, {"commission_found_no_need": True}, t)
    assert [(x["declared"], x["changed"]) for x in lines] == [("нуждаемость подтверждена", True)]
    # every coded answer the API accepts has words on the page, and no more
    for name, field in Checklist.model_fields.items():
        codes = set(inspection.ITEMS[name][1])
        allowed = {a for arg in typing.get_args(field.annotation) for a in typing.get_args(arg) or [arg]}
        literal = {a for a in allowed if isinstance(a, str)}
        inner = {x for a in allowed for x in typing.get_args(a) if isinstance(x, str)}
        if literal or inner:
            assert literal | inner == codes, name
    photo_items = typing.get_args(typing.get_args(InspectionActIn.model_fields["photos"].annotation)[0])
    assert set(photo_items) == set(inspection.PHOTO_ITEMS)


def test_a_dwelling_fact_is_shown_in_words_beside_not_recorded():
    from atauly.i18n import Translator
    from atauly.service.inspection import fact_lines

    snapshot = {"families": [{"family_id": "f1", "heating": "gas"}], "persons": [], "incomes": []}
    lines = fact_lines(snapshot, {"dwelling_type": "yurt", "heating": "stove_coal"}, Translator("ru"))
    assert lines == [
        {"fact": "Жильё", "value": "юрта", "declared": "не указано", "changed": True},
        {"fact": "Отопление", "value": "печь, уголь", "declared": "газовое", "changed": True},
    ]
