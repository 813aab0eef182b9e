"""The officer's workspace (issue 20): the queue without the recommendation of open cases, search by number
or IIN, filters by facts, assignment, "record and open the next", verified values with the law recomputed,
an explanation for the family with every departure, and blind mode that hides verdicts but not facts.

The flows that write run on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from atauly.registry.quarter import Quarter
from atauly.service import deciding
from atauly.service.casework import ServiceError
from atauly.service.models import Application, AuditEvent, Recommendation, User, Verification

from .conftest import DISTRICT, OTHER_DISTRICT, in_district, token_headers
from .test_web import count, csrf, sign_in, submit


def _eligible_first(client, headers, payloads, n: int = 3) -> list[dict]:
    """``n`` applications of the officer's district, the first one entitled by law."""
    made = [submit(client, headers, p) for p in in_district(payloads)[:12]]
    entitled = [a for a in made if a["recommendation"]["eligible_by_law"]]
    assert entitled, "no entitled family among the first applications of the district"
    first = entitled[0]
    return [first] + [a for a in made if a["id"] != first["id"]][: n - 1]


def _audit_text(db) -> str:
    db.rollback()
    rows = db.execute(select(AuditEvent.action, AuditEvent.detail)).all()
    db.rollback()
    return json.dumps([[a, d] for a, d in rows], ensure_ascii=False, default=str)


def test_queue_hides_the_recommendation_searches_and_filters(app, client, as_officer, svc_payloads, db):
    apps = _eligible_first(client, as_officer, svc_payloads)
    officer = sign_in(app, "officer")
    queue = officer.get("/queue")
    assert queue.status_code == 200
    for a in apps:
        assert f'data-application-id="{a["id"]}"' in queue.text
    # Anti-anchoring: no law result nor recommendation for an open case in the queue.
    assert "Рекомендуемое решение" not in queue.text and "Результат по закону" not in queue.text
    assert "Право есть" not in queue.text and "Права нет" not in queue.text

    # Search by number.
    target = apps[1]
    found = officer.post("/queue/search", data={"csrf_token": csrf(queue), "q": f"№ {target['id']}"})
    assert found.status_code == 200
    assert re.findall(r'data-application-id="(\d+)"', found.text) == [str(target["id"])]

    # Search by IIN: exact, posted (never in an address), never in the audit trail.
    payload = next(p for p in in_district(svc_payloads) if p["family"]["family_id"] == target["family_id"])
    iin = payload["persons"][-1]["iin"]
    found = officer.post("/queue/search", data={"csrf_token": csrf(queue), "q": iin}, follow_redirects=False)
    assert found.status_code == 200  # answered in place: no redirect carries the IIN
    assert re.findall(r'data-application-id="(\d+)"', found.text) == [str(target["id"])]
    assert iin not in found.text  # not even echoed back in the search field
    partial = officer.post("/queue/search", data={"csrf_token": csrf(queue), "q": iin[:11] + "0"})
    if iin[-1] != "0":
        assert re.findall(r'data-application-id="(\d+)"', partial.text) == []
    bad = officer.post("/queue/search", data={"csrf_token": csrf(queue), "q": "Иванов"})
    assert bad.status_code == 422 and 'id="search-q-error"' in bad.text
    assert iin not in _audit_text(db)
    assert '"search": "iin"' in _audit_text(db)

    # Filters by facts: quarter, family size; one that matches nothing.
    quarter = Quarter.of(payload["family"]["application_date"])
    size = len(payload["persons"])
    by_quarter = officer.get(f"/queue?quarter={quarter}")
    assert f'data-application-id="{target["id"]}"' in by_quarter.text
    other = str(quarter.previous(4))
    assert "data-application-id" not in officer.get(f"/queue?quarter={other}").text
    by_size = officer.get(f"/queue?size={size}")
    ids = {int(i) for i in re.findall(r'data-application-id="(\d+)"', by_size.text)}
    assert target["id"] in ids
    db.rollback()
    sizes = {a.id: a.family_size for a in db.execute(select(Application)).scalars()}
    db.rollback()
    assert all(sizes[i] == size for i in ids)
    assert "data-application-id" not in officer.get("/queue?assigned=me").text  # nothing assigned yet


def test_assignment_by_a_supervisor_audited_and_the_officers_filter(
    app, client, as_officer, svc_payloads, db
):
    apps = _eligible_first(client, as_officer, svc_payloads)
    supervisor = sign_in(app, "supervisor")
    page = supervisor.get(f"/applications/{apps[1]['id']}")
    assert 'id="assign-form"' in page.text
    db.rollback()
    officer_id = db.execute(select(User.id).where(User.username == "officer")).scalar_one()
    other_id = db.execute(select(User.id).where(User.username == "officer2")).scalar_one()
    db.rollback()
    # An officer of another district is refused.
    r = supervisor.post(
        f"/applications/{apps[1]['id']}/assign", data={"csrf_token": csrf(page), "officer": str(other_id)}
    )
    assert r.status_code == 422
    done = supervisor.post(
        f"/applications/{apps[1]['id']}/assign",
        data={"csrf_token": csrf(page), "officer": str(officer_id)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.rollback()
    row = db.get(Application, apps[1]["id"])
    assert row.assigned_to == officer_id and row.version == apps[1]["version"]  # an open form stays valid
    db.rollback()
    assert count(db, AuditEvent, AuditEvent.action == "application.assign", AuditEvent.outcome == "ok") == 1

    officer = sign_in(app, "officer")
    mine = officer.get("/queue?assigned=me")
    assert re.findall(r'data-application-id="(\d+)"', mine.text) == [str(apps[1]["id"])]
    unassigned = officer.get("/queue?assigned=none")
    assert f'data-application-id="{apps[1]["id"]}"' not in unassigned.text
    # An officer cannot assign (refused and audited).
    page = officer.get(f"/applications/{apps[0]['id']}")
    assert 'id="assign-form"' not in page.text
    r = officer.post(
        f"/applications/{apps[0]['id']}/assign", data={"csrf_token": csrf(page), "officer": str(officer_id)}
    )
    assert r.status_code == 403
    assert (
        count(db, AuditEvent, AuditEvent.action == "application.assign", AuditEvent.outcome == "denied") == 1
    )

    # "Record and open the next": the case assigned to this officer comes first.
    first = apps[0]
    rec = first["recommendation"]["recommended_decision"]
    page = officer.get(f"/applications/{first['id']}")
    r = officer.post(
        f"/applications/{first['id']}/decision",
        data={"csrf_token": csrf(page), "version": str(first["version"]), "outcome": rec, "then": "next"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{apps[1]['id']}"
    nxt = officer.get(r.headers["location"])
    assert "следующее заявление" in nxt.text and 'id="decide-next"' in nxt.text


def test_record_and_open_next_ends_at_the_queue(app, client, as_officer, svc_payloads, db):
    created = submit(client, as_officer, in_district(svc_payloads)[0])
    submit(client, token_headers(client, "officer2"), in_district(svc_payloads, OTHER_DISTRICT)[0])
    officer = sign_in(app, "officer")
    page = officer.get(f"/applications/{created['id']}")
    r = officer.post(
        f"/applications/{created['id']}/decision",
        data={
            "csrf_token": csrf(page),
            "version": str(created["version"]),
            "outcome": created["recommendation"]["recommended_decision"],
            "then": "next",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    assert "Больше нет заявлений" in officer.get("/queue").text


def test_an_approval_carries_the_amount_and_the_period(app, client, as_officer, svc_payloads, db):
    first = _eligible_first(client, as_officer, svc_payloads, n=1)[0]
    body = {"outcome": "approve", "version": first["version"]}
    if first["recommendation"]["recommended_decision"] != "approve":
        body |= {"reason_code": "law_criteria", "comment": "Критерии закона выполнены"}
    r = client.post(f"/api/v1/applications/{first['id']}/decision", json=body, headers=as_officer)
    assert r.status_code == 200, r.text
    decision = r.json()["decisions"][-1]
    assert decision["amount_monthly"] > 0 and decision["period"]


def test_a_departure_needs_an_explanation_for_the_family(app, client, as_officer, svc_payloads, db):
    created = submit(client, as_officer, in_district(svc_payloads)[0])
    officer = sign_in(app, "officer")
    page = officer.get(f"/applications/{created['id']}")
    rec = created["recommendation"]["recommended_decision"]
    opposite = "reject" if rec == "approve" else "approve"
    form = {"csrf_token": csrf(page), "version": str(created["version"]), "outcome": opposite}
    r = officer.post(f"/applications/{created['id']}/decision", data=form | {"reason_code": "income_differs"})
    assert r.status_code == 422 and 'id="comment-error"' in r.text
    assert count(db, AuditEvent, AuditEvent.action == "decision.create") == 0


def test_verified_income_recomputes_the_law_and_both_values_are_kept(
    app, client, as_officer, svc_payloads, db
):
    first = _eligible_first(client, as_officer, svc_payloads, n=1)[0]
    app_id = first["id"]
    officer = sign_in(app, "officer")
    page = officer.get(f"/applications/{app_id}")
    assert 'id="verification-form"' in page.text
    db.rollback()
    row = db.get(Application, app_id)
    declared = copy.deepcopy(row.snapshot)
    quarter = row.quarter
    db.rollback()
    applicant = next(p for p in declared["persons"] if p["role"] == "applicant")
    month = Quarter.parse(quarter).reference_months[0]
    form = {
        "csrf_token": csrf(page),
        "kind": "income",
        "person": applicant["person_id"],
        "month": month,
        "source": "wages",
        "amount": "9 500 000",
    }
    r = officer.post(f"/applications/{app_id}/verification", data=form)
    assert r.status_code == 422 and 'id="verify-note-error"' in r.text  # the family must be told how
    bad_month = officer.post(
        f"/applications/{app_id}/verification", data=form | {"note": "справка", "month": "1999-01"}
    )
    assert bad_month.status_code == 422 and 'id="verify-month-error"' in bad_month.text
    assert count(db, Verification) == 0

    note = "Справка о заработной плате от работодателя"
    done = officer.post(
        f"/applications/{app_id}/verification", data=form | {"note": note}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    db.rollback()
    row = db.get(Application, app_id)
    assert row.declared == declared  # the declaration kept
    assert row.snapshot != declared
    recs = db.execute(select(Recommendation).where(Recommendation.application_id == app_id)).scalars().all()
    assert len(recs) == 2 and recs[0].eligible_by_law and not recs[-1].eligible_by_law  # recomputed
    db.rollback()
    shown = officer.get(f"/applications/{app_id}")
    assert 'id="verified-table"' in shown.text and note in shown.text
    assert "9\u00a0500\u00a0000" in shown.text or "9 500 000" in shown.text
    assert "Права нет" in shown.text  # the law's result on the verified data
    audit = _audit_text(db)
    assert "verification.create" in audit and "9500000" not in audit  # no amounts in the audit trail

    # An approval always states an amount and a period: on data where the law finds no entitlement it is
    # refused (verify the data, or send the family to the commission), and nothing is recorded.
    version = db.get(Application, app_id).version
    db.rollback()
    approve = {"outcome": "approve", "reason_code": "other", "comment": "нуждаются", "version": version}
    r = client.post(f"/api/v1/applications/{app_id}/decision", json=approve, headers=as_officer)
    assert r.status_code == 422 and "no amount" in r.json()["detail"]
    page = officer.get(f"/applications/{app_id}")
    r = officer.post(
        f"/applications/{app_id}/decision",
        data={k: str(v) for k, v in approve.items()} | {"csrf_token": csrf(page)},
    )
    assert r.status_code == 422 and 'id="outcome-error"' in r.text and "ни суммы, ни срока" in r.text
    assert count(db, AuditEvent, AuditEvent.action == "decision.create") == 0

    # The notice tells the family what was verified.
    decision = {"outcome": "reject", "version": version}
    assert client.post(
        f"/api/v1/applications/{app_id}/decision", json=decision, headers=as_officer
    ).is_success
    notice = officer.get(f"/applications/{app_id}/notice?lang=ru")
    assert "Что проверил акимат" in notice.text and note in notice.text
    kk = officer.get(f"/applications/{app_id}/notice?lang=kk")
    assert note in kk.text and "Что проверил акимат" not in kk.text
    assert "Әкімдік не тексерді" in kk.text
    pdf = officer.get(f"/applications/{app_id}/notice?lang=kk&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Decided: nothing more can be verified.
    page = officer.get(f"/applications/{app_id}")
    assert 'id="verification-form"' not in page.text
    late = officer.post(f"/applications/{app_id}/verification", data=form | {"note": note})
    assert late.status_code == 409


def test_a_member_who_left_is_not_counted_and_the_applicant_cannot_leave(
    app, client, as_officer, svc_payloads, db
):
    payload = next(p for p in in_district(svc_payloads) if len(p["persons"]) >= 3)
    created = submit(client, as_officer, payload)
    officer = sign_in(app, "officer")
    page = officer.get(f"/applications/{created['id']}")
    applicant = next(p for p in payload["persons"] if p["role"] == "applicant")
    other = next(p for p in payload["persons"] if p["role"] != "applicant")
    form = {"csrf_token": csrf(page), "kind": "member_left", "note": "Акт обследования"}
    r = officer.post(
        f"/applications/{created['id']}/verification", data=form | {"person": applicant["person_id"]}
    )
    assert r.status_code == 422 and 'id="verify-person-error"' in r.text
    done = officer.post(
        f"/applications/{created['id']}/verification",
        data=form | {"person": other["person_id"]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.rollback()
    row = db.get(Application, created["id"])
    assert len(row.snapshot["persons"]) == len(payload["persons"]) - 1
    assert len(row.declared["persons"]) == len(payload["persons"])
    assert row.recommendation.law["members"] == len(payload["persons"]) - 1
    assert row.family_size == len(payload["persons"]) - 1  # the queue's size filter follows
    db.rollback()
    assert "Больше не проживает в семье" in officer.get(f"/applications/{created['id']}").text


def test_an_officer_of_another_district_cannot_verify(app, client, as_officer, svc_payloads, db):
    created = submit(client, as_officer, in_district(svc_payloads)[0])
    other = sign_in(app, "officer2")
    token = csrf(other.get("/queue"))
    r = other.post(
        f"/applications/{created['id']}/verification",
        data={"csrf_token": token, "kind": "member_left", "person": "x", "note": "n"},
    )
    assert r.status_code == 403
    assert count(db, Verification) == 0
    assert DISTRICT != OTHER_DISTRICT


# --- invariants of applying a verified value (no database) ------------------------------------------------

_MONTHS = ["2026-04", "2026-05", "2026-06"]
_SOURCES = ["wages", "pension", "informal"]


@st.composite
def _families(draw):
    n = draw(st.integers(1, 5))
    persons = [{"person_id": f"p{k}", "role": "applicant" if k == 0 else "child"} for k in range(n)]
    incomes = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": st.sampled_from([p["person_id"] for p in persons]),
                    "month": st.sampled_from(_MONTHS),
                    "source": st.sampled_from(_SOURCES),
                    "amount_kzt": st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 2)),
                }
            ),
            max_size=12,
        )
    )
    return {"families": [{}], "persons": persons, "incomes": incomes}


def _total(snapshot, key) -> float:
    return sum(
        i["amount_kzt"] for i in snapshot["incomes"] if (i["person_id"], i["month"], i["source"]) == key
    )


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    _families(),
    st.integers(0, 4),
    st.sampled_from(_MONTHS),
    st.sampled_from(_SOURCES),
    st.floats(0, 1e7, allow_nan=False),
)
def test_a_verified_income_replaces_exactly_its_own_value(snapshot, who, month, source, amount):
    person = snapshot["persons"][who % len(snapshot["persons"])]["person_id"]
    before = copy.deepcopy(snapshot)
    detail = deciding._apply(snapshot, deciding.VerifiedIncome(person, month, source, amount), _MONTHS)
    key = (person, month, source)
    assert detail == {"kind": "income", "person_id": person, "month": month, "source": source}
    assert _total(snapshot, key) == pytest.approx(round(amount, 2))
    others = lambda s: sorted(  # noqa: E731
        (i["person_id"], i["month"], i["source"], i["amount_kzt"])
        for i in s["incomes"]
        if (i["person_id"], i["month"], i["source"]) != key
    )
    assert others(snapshot) == others(before) and snapshot["persons"] == before["persons"]


@hypothesis_settings(max_examples=100, deadline=None)
@given(_families(), st.integers(0, 4))
def test_a_member_who_left_takes_exactly_their_incomes_and_the_applicant_stays(snapshot, who):
    person = snapshot["persons"][who % len(snapshot["persons"])]
    before = copy.deepcopy(snapshot)
    if person["role"] == "applicant":
        with pytest.raises(ServiceError):
            deciding._apply(snapshot, deciding.MemberLeft(person["person_id"]), _MONTHS)
        assert snapshot == before
        return
    deciding._apply(snapshot, deciding.MemberLeft(person["person_id"]), _MONTHS)
    assert [p["person_id"] for p in snapshot["persons"]] == [
        p["person_id"] for p in before["persons"] if p is not person and p["person_id"] != person["person_id"]
    ]
    assert snapshot["incomes"] == [i for i in before["incomes"] if i["person_id"] != person["person_id"]]


def test_a_month_outside_the_counted_quarter_or_an_unknown_member_is_refused():
    snapshot = {"families": [{}], "persons": [{"person_id": "a", "role": "applicant"}], "incomes": []}
    for change in (
        deciding.VerifiedIncome("a", "2025-01", "wages", 1.0),
        deciding.VerifiedIncome("nobody", "2026-04", "wages", 1.0),
        deciding.VerifiedIncome("a", "2026-04", "lottery", 1.0),
        deciding.MemberLeft("nobody"),
    ):
        with pytest.raises(ServiceError) as err:
            deciding._apply(snapshot, change, _MONTHS)
        assert err.value.status == 422
    assert snapshot["incomes"] == []
