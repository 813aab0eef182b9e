"""Offers with consent (issue 6): scan → candidates in the database → one offer per family and quarter →
gateway → reply → application. Idempotent at every step, including a send that crashes half-way."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from atauly.screening import scan
from atauly.service.casework import ServiceError
from atauly.service.models import Application, Offer, ScanCandidate, ScanSummary
from atauly.service.offers import (
    FileGateway,
    HttpGateway,
    create_offers,
    load_scan,
    parse_reply,
    reply,
    send_queued,
)

from .conftest import token_headers


@pytest.fixture(scope="session")
def scan_dir(svc_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "scan"
    scan(svc_home / "registry", "2025Q3", out, svc_home / "models", "asp-demo", 1, None)
    return out


def _count(db, model, *where) -> int:
    db.rollback()
    q = select(func.count()).select_from(model)
    for w in where:
        q = q.where(w)
    n = db.execute(q).scalar_one()
    db.rollback()  # SQLite: an open transaction holds the write lock the app's requests need
    return n


def test_offers_are_created_once_per_family_and_quarter(db, scan_dir, tmp_path, users):
    quarter, n = load_scan(db, scan_dir)
    assert quarter == "2025Q3" and n > 0
    assert _count(db, ScanCandidate) == n and _count(db, ScanSummary) > 0
    created = create_offers(db, scan_dir, per_district=2)
    assert created > 0
    offers = db.execute(select(Offer)).scalars().all()
    assert all(o.rank <= 2 for o in offers)
    assert all("1 " + o.code in o.text_ru and "0 " + o.code in o.text_kk for o in offers)
    assert "АӘК" in offers[0].text_kk and "АСП" in offers[0].text_ru

    # The scan is loaded again and offers are asked for again: nobody is offered twice.
    load_scan(db, scan_dir)
    assert create_offers(db, scan_dir, per_district=2) == 0
    assert _count(db, Offer) == created
    more = create_offers(db, scan_dir, per_district=3)
    assert _count(db, Offer) == created + more


@pytest.fixture(scope="session")
def scan_capacity_1(svc_home, tmp_path_factory):
    """A scan with one visit per district: few candidates are ``offered``."""
    out = tmp_path_factory.mktemp("scan1") / "scan"
    scan(svc_home / "registry", "2025Q3", out, svc_home / "models", "asp-demo", 1, None, capacity=1)
    return out


def test_only_the_scans_offered_candidates_become_offers(db, scan_capacity_1, users):
    """Issue 15: the scan's capacity decides who is offered; the service stores why and offers no one else."""
    from atauly.screening import read_candidates

    cand = read_candidates(scan_capacity_1)
    offered = set(cand.loc[cand["offered"], "family_id"])
    assert 0 < len(offered) < len(cand)
    load_scan(db, scan_capacity_1)
    rows = db.execute(select(ScanCandidate)).scalars().all()
    assert {r.family_id for r in rows if r.offered} == offered
    assert all(
        r.offer_reason and r.offer_reason.startswith("offered" if r.offered else "not offered") for r in rows
    )
    created = create_offers(db, scan_capacity_1)  # no --per-district: the scan's offers, not every candidate
    families = set(db.execute(select(Offer.family_id)).scalars())
    assert created == len(families) > 0 and families <= offered
    db.rollback()


class Flaky:
    """A gateway that fails after ``ok`` messages (a crash half-way through sending)."""

    def __init__(self, inner, ok: int):
        self.inner, self.ok = inner, ok

    def send(self, message):
        if self.ok == 0:
            raise ConnectionError("gateway down")
        self.ok -= 1
        return self.inner.send(message)


def test_a_send_interrupted_half_way_resumes_without_duplicates(db, scan_dir, tmp_path, users):
    load_scan(db, scan_dir)
    created = create_offers(db, scan_dir, per_district=2)
    outbox = FileGateway(tmp_path / "outbox")
    with pytest.raises(ConnectionError):
        send_queued(db, Flaky(outbox, ok=3))
    db.rollback()
    assert _count(db, Offer, Offer.status == "sent") == 3
    assert send_queued(db, outbox) == created - 3
    assert send_queued(db, outbox) == 0
    lines = [json.loads(x) for f in (tmp_path / "outbox").glob("*.jsonl") for x in f.read_text().splitlines()]
    keys = [x["key"] for x in lines]
    assert len(keys) == created and len(set(keys)) == created
    assert all(x["recipient"].startswith("<") for x in lines)  # no IIN in the file


def test_consent_creates_one_application_and_refusal_none(db, scan_dir, svc_engine, users, client, tmp_path):
    load_scan(db, scan_dir)
    create_offers(db, scan_dir, per_district=1)
    send_queued(db, FileGateway(tmp_path / "outbox"))
    first, second = db.execute(select(Offer).order_by(Offer.id).limit(2)).scalars().all()
    assert parse_reply(f"1 {first.code.lower()}") == ("agree", first.code)
    assert parse_reply(f"жоқ {first.code}") == ("refuse", first.code)
    with pytest.raises(ServiceError):
        parse_reply("maybe ABC")

    agreed = reply(db, svc_engine, first.code, "agree", today=date(2026, 11, 27))
    assert agreed.status == "agreed" and agreed.application_id
    app = db.get(Application, agreed.application_id)
    assert app.source == "offer" and app.status == "new" and app.quarter == "2026Q4"
    assert app.family_id == first.family_id
    # The recorded incomes moved with the application: the law sees the quarter before it.
    months = {i["month"] for i in app.snapshot["incomes"]}
    assert not months or max(months) <= "2026-09"
    again = reply(db, svc_engine, first.code, "agree", today=date(2026, 11, 27))
    assert again.application_id == agreed.application_id
    assert _count(db, Application) == 1
    with pytest.raises(ServiceError) as err:
        reply(db, svc_engine, first.code, "refuse")
    assert err.value.status == 409

    refused = reply(db, svc_engine, second.code, "refuse")
    assert refused.status == "refused" and refused.application_id is None
    with pytest.raises(ServiceError) as err:
        reply(db, svc_engine, "NOSUCH", "agree")
    assert err.value.status == 404

    # Through the API: the gateway's webhook is an admin account; officers may not post replies.
    second_code = second.code  # read now: a refresh later would open a transaction (SQLite's write lock)
    db.rollback()
    admin = token_headers(client, "admin")
    officer = token_headers(client, "officer")
    assert (
        client.post("/api/v1/offers/replies", json={"text": f"0 {second_code}"}, headers=officer).status_code
        == 403
    )
    r = client.post("/api/v1/offers/replies", json={"text": f"0 {second_code}"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert client.post("/api/v1/offers/replies", json={"text": "hello"}, headers=admin).status_code == 422


def test_http_gateway_sends_json_with_an_idempotency_key(db, scan_dir, users):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers["Idempotency-Key"], body))
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"id": f"sms-{len(received)}"}).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        load_scan(db, scan_dir)
        created = create_offers(db, scan_dir, per_district=1)
        sent = send_queued(db, HttpGateway(f"http://127.0.0.1:{server.server_port}/sms"))
    finally:
        server.shutdown()
    assert sent == created == len(received)
    key, body = received[0]
    assert len(key) == 6 and len(body["recipient_iin"]) == 12 and "«1 " + key in body["text_ru"]
    assert db.execute(select(Offer.gateway_ref)).scalars().first().startswith("sms-")


def test_the_dashboard_shows_the_report_figures_and_the_offers(
    db, scan_dir, svc_engine, users, client, tmp_path
):
    from atauly.screening import read_candidates
    from atauly.screening.report import tables

    load_scan(db, scan_dir)
    create_offers(db, scan_dir, per_district=1)
    send_queued(db, FileGateway(tmp_path / "outbox"))
    code = db.execute(select(Offer.code).order_by(Offer.id)).scalars().first()
    reply(db, svc_engine, code, "refuse")
    db.rollback()
    _, district = tables(scan_dir, 0.5)

    analyst = token_headers(client, "analyst")
    r = client.get("/api/v1/screening", headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["quarter"] == "2025Q3"
    assert body["totals"]["candidates"] == district["candidates"].sum()
    assert abs(body["totals"]["additional_monthly_budget"] - district["additional_monthly_budget"].sum()) < 1
    assert body["totals"]["refused"] == 1 and body["totals"]["offers_sent"] == body["totals"]["offers"]
    # The scan's own offers (issue 15) by district, as loaded from candidates/.
    cand = read_candidates(scan_dir)
    expected = cand[cand["offered"]].groupby("district").size()
    got = {d["district"]: d["offered_by_scan"] for d in body["by_district"]}
    assert got == {k: int(expected.get(k, 0)) for k in got} and body["totals"]["offered_by_scan"] == len(
        cand[cand["offered"]]
    )
    assert "family_id" not in r.text

    officer = token_headers(client, "officer")
    mine = client.get("/api/v1/screening", headers=officer).json()
    assert {d["district"] for d in mine["by_district"]} == {"790100000"}
    assert client.get("/api/v1/screening?quarter=1999Q1", headers=officer).status_code == 404
    assert client.get("/api/v1/screening?consent_rate=2", headers=officer).status_code == 422


def test_long_reasons_load_whole_on_both_databases(db, scan_dir, tmp_path):
    """The scan's reasons grow with what it knows (the law's refusal, an earlier visit, capacity): a reason
    of a few hundred characters loads whole — PostgreSQL refused anything over 64 (``reason``) or 160
    (``offer_reason``) characters, and SQLite kept it, so one scan loaded on one database and not the other."""
    import shutil

    import pandas as pd

    copy = tmp_path / "scan"
    shutil.copytree(scan_dir, copy)
    parts = sorted((copy / "candidates").glob("*.parquet"))
    first = pd.read_parquet(parts[0])
    long_reason = "вероятно имеет право; " * 20 + "entitled at the 2025Q1 visit, not applied since"
    first["reason"] = long_reason
    if "offer_reason" in first:
        first["offer_reason"] = "offered: " + long_reason
    first.to_parquet(parts[0])
    load_scan(db, copy)
    db.rollback()
    stored = db.execute(
        select(ScanCandidate.reason).where(ScanCandidate.family_id == str(first.family_id[0]))
    )
    assert stored.scalar_one() == long_reason
    db.rollback()


def test_load_scan_stores_the_reasons_codes_and_words_them(db, scan_dir):
    """A scan with the reasons' codes (issue 15) loads them and their figures; the offers' page words them
    in Kazakh and Russian from the stored row, as screening.wording words the scan's own row."""
    from atauly.screening import read_candidates
    from atauly.screening.wording import offer_reason_text, reason_text
    from atauly.service.web.proactive import why_offered

    load_scan(db, scan_dir)
    cand = read_candidates(scan_dir).set_index("family_id")
    meta = json.loads((scan_dir / "scan.json").read_text())
    minimum = meta["offers"]["min_probability"]
    stored = list(db.execute(select(ScanCandidate)).scalars())
    db.rollback()
    assert stored and all(c.reason_code in ("by_law", "by_model", "visit") for c in stored)
    assert all(c.offer_code for c in stored) and all(c.min_probability == minimum for c in stored)
    for c in stored[:20]:
        row = cand.loc[c.family_id]
        assert c.reason_code == row["reason_code"] and c.offer_code == row["offer_code"]
        assert c.capacity == int(row["capacity"]) and c.need_gap == pytest.approx(float(row["need_gap"]))
        for lang in ("ru", "kk"):
            reason, offer_reason = why_offered(c, lang)
            assert reason == reason_text(row, lang) and offer_reason == offer_reason_text(row, lang, minimum)
            assert reason and not re.search(r"[A-Za-z]{3,}", reason + offer_reason), (
                lang,
                reason,
                offer_reason,
            )


def test_load_scan_without_codes_keeps_the_english(db, scan_dir, tmp_path):
    """A scan from before the codes loads as before: the codes stay empty, the English is kept and shown on
    an English page only (a Kazakh or Russian page shows no reason rather than English)."""
    import shutil

    import pandas as pd

    from atauly.service.web.proactive import why_offered

    copy = tmp_path / "scan"
    shutil.copytree(scan_dir, copy)
    for part in sorted((copy / "candidates").glob("*.parquet")):
        frame = pd.read_parquet(part)
        frame.drop(columns=["reason_code", "refusal_reason", "offer_code"]).to_parquet(part)
    load_scan(db, copy)
    stored = list(db.execute(select(ScanCandidate)).scalars())
    db.rollback()
    assert stored and all(c.reason_code is None and c.offer_code is None for c in stored)
    assert all(c.min_probability is None for c in stored)
    c = stored[0]
    assert why_offered(c, "en") == (c.reason, c.offer_reason or "") and c.reason
    assert why_offered(c, "ru") == ("", "") == why_offered(c, "kk")
