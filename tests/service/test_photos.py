"""Stage 2 in the service: photos attached through the API, checked, stored encrypted, findings confirmed."""

import io

import numpy as np
import pytest
from PIL import Image

from atauly.vision import privacy, synthetic

from .conftest import in_district


@pytest.fixture
def vision_home(tmp_path, monkeypatch):
    from atauly.service import photos
    from atauly.settings import get_settings

    monkeypatch.setenv("ATAULY_HOME", str(tmp_path))
    monkeypatch.setenv("ATAULY_VISION_KEY", "ab" * 32)
    get_settings.cache_clear()
    photos._checker.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    photos._checker.cache_clear()


def _files(**named):
    return [("files", (name, data, "application/octet-stream")) for name, data in named.items()]


def test_photos_upload_check_view_and_confirm(client, as_officer, svc_payloads, vision_home, db):
    payload = in_district(svc_payloads)[0]
    payload["family"]["vehicles_owned"] = 0
    app_id = client.post("/api/v1/applications", json=payload, headers=as_officer).json()["id"]
    face = synthetic.jpeg_bytes(synthetic.sample("astronaut"))
    kitchen = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    bad = synthetic.bad_files(kitchen)

    # a batch with one bad file is refused whole, with the file and its reason; nothing is stored
    r = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"a.jpg": face, "x.png": bad["decompression_bomb.png"]}),
        headers=as_officer,
    )
    assert r.status_code == 422, r.text
    assert (
        r.json()["detail"][0]["file"] == "x.png" and r.json()["detail"][0]["reason"] == "decompression_bomb"
    )
    assert not (vision_home / "vision" / "store").exists()
    for name, status in (("polyglot_zip.jpg", 422), ("wrong_type.jpg", 415), ("truncated.jpg", 422)):
        r = client.post(
            f"/api/v1/applications/{app_id}/photos", files=_files(**{name: bad[name]}), headers=as_officer
        )
        assert r.status_code == status, (name, r.text)

    r = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"family.jpg": face, "kitchen.jpg": kitchen}),
        headers=as_officer,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert [p["file_name"] for p in made] == ["family.jpg", "kitchen.jpg"] and made[0]["faces"] == 1
    # the same upload again stores nothing twice
    again = client.post(
        f"/api/v1/applications/{app_id}/photos", files=_files(**{"kitchen.jpg": kitchen}), headers=as_officer
    )
    assert again.status_code == 201 and again.json() == []

    listing = client.get(f"/api/v1/applications/{app_id}/photos", headers=as_officer).json()
    assert len(listing["photos"]) == 2
    img = client.get(f"/api/v1/applications/{app_id}/photos/{made[0]['id']}/image", headers=as_officer)
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    seen = np.asarray(Image.open(io.BytesIO(img.content)).convert("RGB"))
    assert not [b for b in privacy.detect(seen, people=False) if b.kind == "face"]
    blobs = list((vision_home / "vision" / "store").rglob("*.bin"))
    assert blobs and all(face[200:400] not in b.read_bytes() for b in blobs)

    # an officer elsewhere may not see them
    from .conftest import token_headers

    other = token_headers(client, "officer2")
    assert client.get(f"/api/v1/applications/{app_id}/photos", headers=other).status_code == 403

    # a finding: planted on the kitchen photo as the model would write it, then confirmed
    from atauly.service.models import Photo, PhotoFinding

    photo = db.get(Photo, made[1]["id"])
    db.add(
        PhotoFinding(
            photo_id=photo.id, asset="vehicle", confidence=0.91, label="pickup truck", status="pending"
        )
    )
    db.commit()
    listing = client.get(f"/api/v1/applications/{app_id}/photos?lang=en", headers=as_officer).json()
    assert "declared: no vehicle — photo 2 may show a pickup truck (0.91)" in listing["questions"]
    fid = [f for p in listing["photos"] for f in p["findings"] if f["asset"] == "vehicle"][0]["id"]
    r = client.post(f"/api/v1/photo-findings/{fid}", json={"decision": "confirm"}, headers=as_officer)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    listing = client.get(f"/api/v1/applications/{app_id}/photos?lang=en", headers=as_officer).json()
    assert listing["questions"] == []
    analyst = token_headers(client, "analyst")
    assert client.get(f"/api/v1/applications/{app_id}/photos", headers=analyst).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_photos_page_upload_and_confirm(app, client, as_officer, svc_payloads, vision_home, db):
    from .test_web import csrf, sign_in

    payload = in_district(svc_payloads)[1]
    app_id = client.post("/api/v1/applications", json=payload, headers=as_officer).json()["id"]
    browser = sign_in(app, "officer")
    page = browser.get(f"/applications/{app_id}/photos?lang=en")
    assert page.status_code == 200
    assert 'type="file"' in page.text and 'accept="image/*,video/*"' in page.text and "capture=" in page.text
    kitchen = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    bad = synthetic.bad_files(kitchen)["polyglot_html.jpg"]
    r = browser.post(
        f"/applications/{app_id}/photos",
        data={"csrf_token": csrf(page)},
        files=_files(**{"k.jpg": kitchen, "evil.jpg": bad}),
    )
    assert r.status_code == 422 and "evil.jpg" in r.text and "Nothing was attached" in r.text
    r = browser.post(
        f"/applications/{app_id}/photos",
        data={"csrf_token": csrf(page)},
        files=_files(**{"k.jpg": kitchen}),
        follow_redirects=False,
    )
    assert r.status_code == 303
    # no token, no upload
    r = browser.post(f"/applications/{app_id}/photos", data={}, files=_files(**{"k2.jpg": kitchen}))
    assert r.status_code == 403
    from atauly.service.models import Photo, PhotoFinding

    photo_id = db.query(Photo).filter_by(application_id=app_id).one().id
    finding = PhotoFinding(
        photo_id=photo_id, asset="livestock", confidence=0.77, label="ox", status="pending"
    )
    db.add(finding)
    db.flush()
    fid = finding.id
    db.commit()  # the test's session must not hold SQLite's only connection during the requests
    page = browser.get(f"/applications/{app_id}/photos?lang=en")
    assert f"/applications/{app_id}/photos/{photo_id}/image" in page.text and "ox (0.77)" in page.text
    img = browser.get(f"/applications/{app_id}/photos/{photo_id}/image")
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    r = browser.post(
        f"/applications/{app_id}/photos/findings/{fid}",
        data={"csrf_token": csrf(page), "decision": "dismiss"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    assert db.get(PhotoFinding, fid).status == "dismissed"
    db.rollback()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_inspection_act_records_the_checklist_and_the_confirmed_facts(
    client, as_officer, svc_payloads, vision_home, db
):
    payload = in_district(svc_payloads)[2]
    app_id = client.post("/api/v1/applications", json=payload, headers=as_officer).json()["id"]
    assert client.get(f"/api/v1/applications/{app_id}/inspection-act", headers=as_officer).json() is None
    photo = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"yard.jpg": synthetic.jpeg_bytes(synthetic.sample("rocket"))}),
        headers=as_officer,
    ).json()[0]
    act = {
        "inspected_on": "2025-08-01",
        "checklist": {
            "dwelling_type": "yurt",
            "heating": "stove_wood_or_dung",
            "water": "well",
            "livestock_heads": 12,
            "appliances": ["refrigerator"],
            "notes": "two rooms",
        },
        "photos": {"livestock": [photo["id"]]},
    }
    r = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer)
    assert r.status_code == 200, r.text
    body = r.json()
    # the act's counts and its coded dwelling are facts (the dwelling: Stage 1's features where trained)
    assert body["version"] == 1 and body["facts"] == {
        "dwelling_type": "yurt",
        "heating": "stove_wood_or_dung",
        "water": "well",
        "livestock_heads": 12,
    }
    # a confirmed photo finding of a vehicle becomes a fact too (at least one)
    from atauly.service.models import PhotoFinding

    finding = PhotoFinding(
        photo_id=photo["id"], asset="vehicle", confidence=0.9, label="pickup truck", status="pending"
    )
    db.add(finding)
    db.flush()
    fid = finding.id
    db.commit()
    assert client.get(f"/api/v1/applications/{app_id}/inspection-act", headers=as_officer).json()[
        "facts"
    ] == {"dwelling_type": "yurt", "heating": "stove_wood_or_dung", "water": "well", "livestock_heads": 12}
    client.post(f"/api/v1/photo-findings/{fid}", json={"decision": "confirm"}, headers=as_officer)
    again = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=act, headers=as_officer).json()
    assert again["version"] == 2 and again["facts"] == {
        **body["facts"],
        "vehicles_owned": 1,
    }
    # clear errors: an unknown code, a photo of another application
    bad = dict(act, checklist=dict(act["checklist"], dwelling_type="palace"))
    assert (
        client.put(f"/api/v1/applications/{app_id}/inspection-act", json=bad, headers=as_officer).status_code
        == 422
    )
    stray = dict(act, photos={"water": [photo["id"] + 999]})
    r = client.put(f"/api/v1/applications/{app_id}/inspection-act", json=stray, headers=as_officer)
    assert r.status_code == 422 and "not attached" in r.text


def test_read_upload_reads_at_most_the_types_limit_plus_one_byte():
    from atauly.service.photos import read_upload
    from atauly.vision.intake import Limits

    limits = Limits(max_image_bytes=1000, max_video_bytes=3000)
    jpeg = io.BytesIO(b"\xff\xd8\xff\xe0" + b"\0" * 10_000)
    assert len(read_upload(jpeg, limits)) == 1001 and jpeg.tell() == 1001
    mp4 = io.BytesIO(b"\0\0\0\x18ftypisom" + b"\0" * 10_000)
    assert len(read_upload(mp4, limits)) == 3001
    assert read_upload(b"abc", limits) == b"abc"


def test_upload_requests_are_bounded_before_anything_is_read(
    app, client, as_officer, svc_payloads, vision_home
):
    from atauly.service.photos import MAX_REQUEST_BYTES, MAX_REQUEST_FILES

    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()["id"]
    url = f"/api/v1/applications/{app_id}/photos"
    tiny = synthetic.bad_files(b"")["wrong_type.jpg"]
    many = [("files", (f"{i}.jpg", tiny, "image/jpeg")) for i in range(MAX_REQUEST_FILES + 1)]
    r = client.post(url, files=many, headers=as_officer)
    assert r.status_code == 400
    assert r.json()["detail"] == [
        {
            "file": "",
            "reason": "too_many_files",
            "message": "Слишком много файлов за одну загрузку: не более 30 за раз. Ничего не прикреплено.",
        }
    ]
    for lang, words in (("kk", "ең көбі 30"), ("en", "at most 30 at a time")):
        r = client.post(f"{url}?lang={lang}", files=many, headers=as_officer)
        assert r.status_code == 400 and words in r.json()["detail"][0]["message"]
    # the phone page: the same refusal on the error page, in the page's language
    from .test_web import sign_in

    browser = sign_in(app, "officer")
    r = browser.post(f"/applications/{app_id}/photos?lang=kk", files=many, headers={"Accept": "text/html"})
    assert r.status_code == 400 and "Бір жүктеуде файлдар тым көп: бір ретте ең көбі 30" in r.text
    # a body announced larger than the cap is refused before it is read
    r = client.post(
        url,
        content=b"--x--\r\n",
        headers={
            **as_officer,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(MAX_REQUEST_BYTES + 1),
        },
    )
    assert r.status_code == 413
    assert r.json()["detail"][0]["reason"] == "too_large"
    assert r.json()["detail"][0]["message"] == "Загрузка больше 200 МБ в сумме. Ничего не прикреплено."
    assert not (vision_home / "vision" / "store").exists()


def _index_size(vision_home) -> int:
    tsv = vision_home / "vision" / "index" / "items.tsv"
    return len(tsv.read_text().splitlines()) if tsv.exists() else 0


def test_a_crash_in_one_file_refuses_the_batch_and_leaves_the_reuse_index_as_it_was(
    client, as_officer, svc_payloads, vision_home, monkeypatch
):
    from atauly.service import photos

    first, second = (
        client.post("/api/v1/applications", json=p, headers=as_officer).json()["id"]
        for p in in_district(svc_payloads)[:2]
    )
    good = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    checker = photos._checker()
    real = checker.check_bytes

    def crashing(data, name, ctx):
        if name == "boom.jpg":
            raise RuntimeError("a detector failed")
        return real(data, name, ctx)

    monkeypatch.setattr(checker, "check_bytes", crashing)
    r = client.post(
        f"/api/v1/applications/{first}/photos",
        files=_files(**{"good.jpg": good, "boom.jpg": good[:-1]}),
        headers=as_officer,
    )
    assert r.status_code == 422, r.text
    assert [p["reason"] for p in r.json()["detail"]] == ["error"]
    assert len(checker.index) == 0 and _index_size(vision_home) == 0
    # the photo that was never attached is nobody's original
    r = client.post(
        f"/api/v1/applications/{second}/photos", files=_files(**{"good.jpg": good}), headers=as_officer
    )
    assert r.status_code == 201 and r.json()[0]["duplicate_of"] is None


def test_a_failed_commit_keeps_neither_index_entries_nor_stored_files(
    client, as_officer, svc_payloads, vision_home, monkeypatch
):
    from atauly.service import photos

    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()["id"]
    good = synthetic.jpeg_bytes(synthetic.sample("rocket"))

    def failing(*args, **kwargs):
        raise RuntimeError("the database went away")

    recorded = photos.record
    monkeypatch.setattr(photos, "record", failing)
    with pytest.raises(RuntimeError):
        client.post(
            f"/api/v1/applications/{app_id}/photos", files=_files(**{"y.jpg": good}), headers=as_officer
        )
    assert len(photos._checker().index) == 0 and _index_size(vision_home) == 0
    assert not list((vision_home / "vision" / "store").rglob("*.bin"))
    monkeypatch.setattr(photos, "record", recorded)
    r = client.post(
        f"/api/v1/applications/{app_id}/photos", files=_files(**{"y.jpg": good}), headers=as_officer
    )
    assert r.status_code == 201 and len(r.json()) == 1 and _index_size(vision_home) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_form_shows_the_refusals_own_words(
    app, client, as_officer, svc_payloads, vision_home, monkeypatch
):
    import functools

    from atauly.vision import intake

    from .test_web import csrf, sign_in

    monkeypatch.setattr(intake, "Limits", functools.partial(intake.Limits, max_files=1))
    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[1], headers=as_officer
    ).json()["id"]
    browser = sign_in(app, "officer")
    page = browser.get(f"/applications/{app_id}/photos?lang=en")
    kitchen = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    r = browser.post(
        f"/applications/{app_id}/photos",
        data={"csrf_token": csrf(page)},
        files=_files(**{"a.jpg": kitchen, "b.jpg": kitchen[:-2]}),
    )
    assert r.status_code == 413
    assert "at most 1 photos per application: 0 attached already, 2 more sent" in r.text
    assert "Choose at least one photo" not in r.text
    r = browser.post(f"/applications/{app_id}/photos", data={"csrf_token": csrf(page)})
    assert r.status_code == 422 and "Choose at least one photo" in r.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_final_decision_starts_the_retention_period_and_purge_deletes_after_it(
    client, as_officer, svc_payloads, vision_home
):
    from datetime import date, timedelta

    from typer.testing import CliRunner

    from atauly.cli.main import app as cli
    from atauly.settings import get_settings
    from atauly.vision.store import PhotoStore

    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[3], headers=as_officer
    ).json()
    app_id = created["id"]
    photo = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"room.jpg": synthetic.jpeg_bytes(synthetic.sample("coffee"))}),
        headers=as_officer,
    ).json()[0]
    store = PhotoStore.open()
    assert store.meta(photo["sha256"]).retain_until is None  # undecided: kept
    version = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["version"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": created["recommendation"]["recommended_decision"], "version": version},
        headers=as_officer,
    )
    assert r.status_code in (200, 201), r.text
    until = date.fromisoformat(store.meta(photo["sha256"]).retain_until)
    assert until - date.today() in (timedelta(days=d) for d in (1824, 1825))
    assert get_settings().photo_retention_days == 1825
    # the family asks to correct its data: the case is open again, and its photos are kept until the new
    # decision dates them again
    r = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["incomes"], "description": "a wage was counted twice"},
        headers=as_officer,
    )
    assert r.status_code in (200, 201), r.text
    assert store.meta(photo["sha256"]).retain_until is None
    version = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["version"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": created["recommendation"]["recommended_decision"], "version": version},
        headers=as_officer,
    )
    assert r.status_code in (200, 201), r.text
    assert date.fromisoformat(store.meta(photo["sha256"]).retain_until) == until

    runner = CliRunner()
    r = runner.invoke(cli, ["vision", "purge", "--today", until.isoformat()])
    assert r.exit_code == 0 and "Purged 0" in r.output  # the last day is still kept
    r = runner.invoke(cli, ["vision", "purge", "--today", (until + timedelta(days=1)).isoformat()])
    assert r.exit_code == 0 and "Purged 1" in r.output, r.output
    assert photo["sha256"] not in store
    img = client.get(f"/api/v1/applications/{app_id}/photos/{photo['id']}/image", headers=as_officer)
    assert img.status_code == 404


def test_the_audit_of_a_refused_batch_names_no_file(client, as_officer, svc_payloads, vision_home, db):
    from sqlalchemy import select

    from atauly.service.models import AuditEvent

    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()["id"]
    bad = synthetic.bad_files(b"")["wrong_type.jpg"]
    r = client.post(
        f"/api/v1/applications/{app_id}/photos",
        files=_files(**{"Ivanova_Aigerim.jpg": bad}),
        headers=as_officer,
    )
    assert r.status_code == 415 and r.json()["detail"][0]["file"] == "Ivanova_Aigerim.jpg"  # to the uploader
    db.rollback()
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "photos.upload", AuditEvent.outcome == "denied")
    ).all()
    assert events
    text = " ".join(str(e.detail) for e in events)
    assert "Ivanova" not in text and "wrong_type" in text and "1 of 1 files refused" in text


def test_flags_are_stored_as_codes_and_shown_in_the_readers_language(
    client, as_officer, svc_payloads, vision_home, db
):
    from atauly.service.models import Photo

    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[2], headers=as_officer
    ).json()["id"]
    face = synthetic.jpeg_bytes(synthetic.sample("astronaut"))
    r = client.post(
        f"/api/v1/applications/{app_id}/photos?lang=kk", files=_files(**{"f.jpg": face}), headers=as_officer
    )
    assert r.status_code == 201, r.text
    db.rollback()
    stored = db.get(Photo, r.json()[0]["id"]).flags
    db.rollback()  # SQLite's only connection must be free for the requests
    assert {"code": "faces", "n": 1} in stored  # not words in the uploader's language
    en = client.get(f"/api/v1/applications/{app_id}/photos?lang=en", headers=as_officer).json()
    ru = client.get(f"/api/v1/applications/{app_id}/photos?lang=ru", headers=as_officer).json()
    assert "1 face(s) or person(s) blurred" in en["photos"][0]["flags"]
    assert not any("face(s)" in f for f in ru["photos"][0]["flags"]) and ru["photos"][0]["flags"]


def test_flags_of_older_records_in_words_are_shown_as_they_are():
    from atauly.vision.check import flag_text

    assert flag_text("размыто (резкость 12 ниже 60)", "en") == "размыто (резкость 12 ниже 60)"
    assert flag_text({"code": "dark", "value": 21.0}, "en") == "too dark (mean brightness 21 of 255)"
    assert flag_text({"code": "no_such_code"}, "ru") == "no_such_code"


def test_a_retention_failure_never_turns_a_saved_decision_into_an_error(
    client, as_officer, svc_payloads, vision_home, monkeypatch
):
    from atauly.service import photos as photos_module

    def broken(*args, **kwargs):
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(photos_module, "apply_retention", broken)
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[3], headers=as_officer
    ).json()
    app_id = created["id"]
    version = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()["version"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": created["recommendation"]["recommended_decision"], "version": version},
        headers=as_officer,
    )
    assert r.status_code in (200, 201), r.text
    after = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    assert after["status"] in ("approved", "rejected")


def test_the_multipart_parsers_refusals_are_put_in_words():
    from atauly.service.errors import multipart_refusal

    r = multipart_refusal("Too many files. Maximum number of files is 30.", "ru")
    assert r["reason"] == "too_many_files" and "не более 30" in r["message"]
    assert multipart_refusal("Part exceeded maximum size of 1024KB.", "kk")["reason"] == "field_too_large"
    assert multipart_refusal("Invalid multipart data.", "en")["message"].startswith("The upload could not")
    assert multipart_refusal("Not Found", "ru") is None


def test_the_service_purges_photos_past_their_retention_date_on_a_schedule(tmp_path, monkeypatch, caplog):
    import time
    from datetime import date

    from atauly.service.photos import PurgeThread
    from atauly.vision.store import PhotoStore

    monkeypatch.setenv("ATAULY_VISION_KEY", "ab" * 32)
    # nothing stored yet: nothing done, and no key file made
    assert PurgeThread(tmp_path, 24).run_once() == 0 and not (tmp_path / "vision").exists()
    store = PhotoStore.open(tmp_path)
    drop = store.put(b"decided long ago", derivative=b"d", retain_until=date(2026, 1, 1))
    keep = store.put(b"decided lately", retain_until=date(2031, 1, 1))
    undecided = store.put(b"not decided")
    # the thread's first round runs at start; later rounds every `hours`
    thread = PurgeThread(tmp_path, hours=0.5 / 3600, today=lambda: date(2026, 6, 1))
    thread.start()
    deadline = time.monotonic() + 5
    while thread.rounds < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    thread.stop()
    assert thread.rounds >= 2 and not thread._thread.is_alive()
    assert drop not in store and keep in store and undecided in store
    audit = (tmp_path / "vision" / "audit.log").read_text()
    assert '"actor": "purge-schedule"' in audit and drop in audit
    # 0 hours: no thread (the operator schedules `atauly vision purge` instead)
    off = PurgeThread(tmp_path, 0)
    off.start()
    assert not off._thread.is_alive() and off.rounds == 0
