"""The family's decision notice (HTML and PDF, ru and kk): content, scope and audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import zlib

from sqlalchemy import select

from atauly.i18n import Translator
from atauly.registry.labels import label
from atauly.service import casework
from atauly.service.models import AuditEvent
from atauly.service.notice.blocks import months_span

from .conftest import in_district, token_headers

# --- a small PDF text reader (no PDF library is a dependency): fpdf2 writes each font as a Type0 font with
# 2-byte glyph codes and a ToUnicode CMap; the page streams are Flate-compressed. -------------------------

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    m = _STREAM.search(body)
    if m is None:
        return b""
    raw = m.group(1)
    length = re.search(rb"/Length (\d+)", body[: m.start()])
    if length is not None:  # the data itself may end in "\r", which the pattern would take as the line's end
        start = m.start(1)
        raw = body[start : start + int(length.group(1))]
    return zlib.decompress(raw) if b"/FlateDecode" in body[: m.start()] else raw


def _unescape(literal: bytes) -> bytes:
    out, i, s = bytearray(), 0, literal[1:-1]
    while i < len(s):
        c = s[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = s[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", s[i + 1 : i + 4]).group(0)
            out.append(int(digits, 8))
            i += 1 + len(digits)
        else:
            out += nxt
            i += 2
    return bytes(out)


def _cmap(data: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(dst, 16)
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(first + k)
    return table


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages, one line per text object (enough to check what a notice says)."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    cmaps = {}
    for body in objects.values():
        if b"/Type /Font" in body and b"/ToUnicode" in body:
            ref = int(re.search(rb"/ToUnicode (\d+) 0 R", body).group(1))
            cmaps[body] = _cmap(_stream(objects[ref]))
    names = {}
    for body in objects.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            target = objects.get(int(ref), b"")
            if target in cmaps:
                names[name] = cmaps[target]
    lines = []
    for body in objects.values():
        if b"/Length" not in body or b"/Type /Page" in body:
            continue
        content = _stream(body)
        if b" Tj" not in content and b"TJ" not in content:
            continue
        font: dict[int, str] = {}
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|BT|\((?:\\.|[^\\)])*\)", content, re.S):
            text = token.group(0)
            if text.startswith(b"/"):
                font = names.get(token.group(1), {})
            elif text == b"BT":
                lines.append("")
            else:
                raw = _unescape(text)
                lines[-1] += "".join(
                    font.get(int.from_bytes(raw[k : k + 2], "big"), "?") for k in range(0, len(raw), 2)
                )
    return "\n".join(line for line in lines if line)


# --- helpers ------------------------------------------------------------------------------------------------


def _submit_until(client, headers, payloads, want_eligible: bool) -> dict:
    for payload in payloads:
        r = client.post("/api/v1/applications", json=payload, headers=headers)
        assert r.status_code in (200, 201), r.text
        body = r.json()
        if body["recommendation"]["eligible_by_law"] is want_eligible and body["status"] == "new":
            return body
    raise AssertionError(f"no payload in the district with eligible_by_law={want_eligible}")


def _notice(client, headers, app_id: int, lang: str, fmt: str = "html"):
    return client.get(f"/api/v1/applications/{app_id}/notice?lang={lang}&format={fmt}", headers=headers)


def _flat(text: str) -> str:
    """Whitespace collapsed (the PDF wraps lines; money uses no-break spaces)."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def _iins(body: dict) -> list[str]:
    return [p["iin"] for p in body["snapshot"]["persons"]]


# --- tests --------------------------------------------------------------------------------------------------


def test_approved_notice_in_russian_and_kazakh_html_and_pdf(client, as_officer, svc_payloads, db):
    created = _submit_until(client, as_officer, in_district(svc_payloads), want_eligible=True)
    app_id, rec = created["id"], created["recommendation"]
    body = {"outcome": "approve", "version": created["version"]}
    if rec["recommended_decision"] != "approve":  # the model disagreed with the law: a reason is required
        body["reason_code"] = "law_criteria"
        body["comment"] = "The law's criteria are met"  # every departure is explained to the family
    r = client.post(f"/api/v1/applications/{app_id}/decision", json=body, headers=as_officer)
    assert r.status_code == 200, r.text
    law = rec["law"]
    first, last = law["assignment_period"].split("/")

    pages = {}
    for lang, words in (
        (
            "ru",
            [
                "Адресная социальная помощь назначена",
                "Как обжаловать решение",
                "Как попросить исправить данные",
            ],
        ),
        (
            "kk",
            ["Атаулы әлеуметтік көмек тағайындалды", "Шешімге қалай шағымдануға болады", "Деректерді түзету"],
        ),
    ):
        t = Translator(lang)
        page = _notice(client, as_officer, app_id, lang)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert f'<html lang="{lang}">' in html
        assert t.money(rec["amount_monthly"], 2) in html  # e.g. "124 155 ₸" with the locale's spaces
        assert t.money(law["asp_monthly_amount"], 2) in html
        assert months_span(first, last, t) in html  # the assignment period, months in the locale
        assert t("monthly") in html
        for w in words:
            assert w in html, w
        assert f"№ {app_id}" in html
        assert casework.district_name(created["district_kato"], lang) in html
        for iin in _iins(created):
            assert iin not in html  # no IIN in clear, the applicant's is masked
        assert 'id="appeal"' in html and 'id="correction"' in html and 'id="model"' in html
        pages[lang] = html

        pdf = _notice(client, as_officer, app_id, lang, "pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"] == f'inline; filename="notice-{app_id}-{lang}.pdf"'
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 10_000
        text = _flat(pdf_text(pdf.content))
        assert _flat(t.money(rec["amount_monthly"], 2)) in text
        assert _flat(months_span(first, last, t)) in text
        for w in words:
            assert w in text, w
        for iin in _iins(created):
            assert iin not in text
    assert "ә" in pdf_text(pdf.content) or "қ" in pdf_text(pdf.content)  # Kazakh letters are drawn
    assert pages["ru"] != pages["kk"]

    db.rollback()
    reads = db.execute(select(AuditEvent).where(AuditEvent.action == "notice.read")).scalars().all()
    assert len(reads) == 4 and all(e.object_id == str(app_id) and e.outcome == "ok" for e in reads)
    db.rollback()


def test_refused_notice_states_the_reason_and_the_model_role(client, as_officer, svc_payloads):
    created = _submit_until(client, as_officer, in_district(svc_payloads), want_eligible=False)
    app_id = created["id"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={
            "outcome": "reject",
            "reason_code": "assets_found",
            "comment": "A second flat is registered",
            "version": created["version"],
        },
        headers=as_officer,
    )
    assert r.status_code == 200, r.text
    html = _notice(client, as_officer, app_id, "ru").text
    assert "В назначении адресной социальной помощи отказано" in html
    assert "Основание для отказа по закону" in html  # the law refused: its ground in plain words
    assert label("override_reason", "assets_found", "ru") in html  # and the officer's reason code
    assert "A second flat is registered" in html
    assert "совещательный характер" in html and "не является доказательством против вашей семьи" in html
    model = created["recommendation"]["model_version"]
    assert model and model in html  # the model's version
    kk = _notice(client, as_officer, app_id, "kk").text
    assert "Атаулы әлеуметтік көмек тағайындаудан бас тартылды" in kk
    assert label("override_reason", "assets_found", "kk") in kk


def test_pending_home_visit_and_reopened_notices(client, as_officer, svc_payloads):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    app_id = created["id"]
    html = _notice(client, as_officer, app_id, "ru").text
    assert "Решение ещё не принято" in html
    from datetime import date

    from babel.dates import format_date

    assert format_date(date.fromisoformat(created["deadline"]), "long", locale="ru_RU") in html
    assert "предварительный" in html  # the law's calculation is shown as preliminary
    model = created["recommendation"]["model_version"]
    assert "вероятность" not in html and (model is None or "в уведомлении после принятия решения" in html)

    visit = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "home_visit", "version": created["version"]},
        headers=as_officer,
    )
    assert visit.status_code == 200
    html = _notice(client, as_officer, app_id, "ru").text
    assert "назначено обследование условий жизни семьи" in html and "ст. 128 п. 2" in html

    corr = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["incomes", "persons"], "description": "Wages in May were lower"},
        headers=as_officer,
    )
    assert corr.status_code == 200 and corr.json()["status"] == "reopened"
    kk = _notice(client, as_officer, app_id, "kk").text
    assert "қайта қаралуда" in kk  # being considered again
    assert "Табыстар, Отбасы құрамы" in kk  # the recorded request, its fields in Kazakh (registry.labels)


def test_notice_is_scoped_audited_and_checks_its_parameters(client, as_officer, svc_payloads, db):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[1], headers=as_officer
    ).json()
    app_id = created["id"]
    other = token_headers(client, "officer2")
    assert _notice(client, other, app_id, "ru").status_code == 403
    analyst = token_headers(client, "analyst")
    assert _notice(client, analyst, app_id, "kk", "pdf").status_code == 403
    assert client.get(f"/api/v1/applications/{app_id}/notice").status_code == 401
    assert _notice(client, as_officer, app_id, "de").status_code == 422
    assert _notice(client, as_officer, app_id, "ru", "docx").status_code == 422
    assert _notice(client, as_officer, 999_999, "ru").status_code == 404
    supervisor = token_headers(client, "supervisor")
    assert _notice(client, supervisor, app_id, "en").status_code == 200
    db.rollback()
    denied = (
        db.execute(
            select(AuditEvent).where(AuditEvent.action == "notice.read", AuditEvent.outcome == "denied")
        )
        .scalars()
        .all()
    )
    assert {e.actor for e in denied} == {"officer2", "analyst"}
    db.rollback()
