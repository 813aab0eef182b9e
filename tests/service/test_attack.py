"""The service under attack (issue 17), on SQLite and PostgreSQL: login floods and lock-outs, bad input,
blind mode, the keyed and anchored audit chain, accounts, response headers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from atauly.service import audit
from atauly.service.audit import utcnow
from atauly.service.limits import LoginLimits
from atauly.service.models import AuditEvent, AuditHead, Decision, LoginLimit, Session, User
from atauly.service.throttle import LoginGate, RefusalTally, Throttled

from .conftest import DISTRICT, PASSWORD, REGION, in_district, token_headers
from .test_web import CSRF, csrf, sign_in


def _login(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _events(db, action: str, outcome: str | None = None) -> list[AuditEvent]:
    db.rollback()
    q = select(AuditEvent).where(AuditEvent.action == action)
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    return list(db.execute(q.order_by(AuditEvent.id)).scalars())


# --- 1. login flood and lock-out ------------------------------------------------------------------------


def _limits(db, user_id: int, scope: str) -> list[LoginLimit]:
    db.rollback()
    q = select(LoginLimit).where(LoginLimit.user_id == user_id, LoginLimit.scope == scope)
    return list(db.execute(q).scalars())


def test_refusals_during_a_lockout_do_not_count_and_the_lockout_ends_on_time(client, db):
    for _ in range(5):
        assert _login(client, "officer", "wrong-password").status_code == 401
    locked = _login(client, "officer")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 60
    for _ in range(30):  # the attacker keeps trying: refused without a hash, and not counted
        assert _login(client, "officer", "wrong-password").status_code == 429
    db.rollback()
    user = db.execute(select(User).where(User.username == "officer")).scalar_one()
    (pair,) = _limits(db, user.id, "source")
    assert pair.failures == 0 and pair.until is not None
    (stranger,) = _limits(db, user.id, "untrusted")
    assert stranger.failures == 5 and stranger.until is None  # 30 refusals did not count
    # the lock-out's time passes: the correct password works at once (the refusals did not extend it)
    db.execute(
        update(LoginLimit).where(LoginLimit.key == pair.key).values(until=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    assert _login(client, "officer").status_code == 200
    # wrong passwords are audited one by one (five); the refusals during the lock-out are tallied
    assert len([e for e in _events(db, "auth.login", "denied") if e.object_type == "user"]) == 5


def test_an_attempt_hashed_while_the_account_was_locked_learns_nothing(app, client, db):
    """A burst's attempts pass the checks before any failure is recorded; the ones whose hash ends after
    the account was locked are refused alike (429), so a right and a wrong password cannot be told apart."""
    from types import SimpleNamespace

    from atauly.service import auth
    from atauly.service.casework import ServiceError

    request = SimpleNamespace(app=app, client=None, headers={})
    limits = app.state.login_limits
    db.rollback()
    user = db.execute(select(User).where(User.username == "officer")).scalar_one()
    db.expunge(user)
    source = limits.source(db, user.id, "198.51.100.7", None)
    db.rollback()
    attempt = auth._Attempt("officer", "198.51.100.7", user, source)  # checked before the lock-out began
    key = limits._keys(user.id, source)["source"]
    db.add(
        LoginLimit(
            key=key,
            scope="source",
            user_id=user.id,
            failures=0,
            since=utcnow(),
            until=utcnow() + timedelta(minutes=9),
        )
    )
    db.commit()
    statuses = []
    for correct in (False, True):
        with pytest.raises(ServiceError) as refused:
            auth._after_hash(db, request, attempt, correct, "api")
        statuses.append(refused.value.status)
    assert statuses == [429, 429]
    assert [r.failures for r in _limits(db, user.id, "source")] == [0]  # not counted
    assert _limits(db, user.id, "untrusted") == []


def _from(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_an_attacker_from_other_addresses_cannot_keep_the_officer_out(app, client, db):
    """The lock-out DoS: anyone who knew a username could keep it locked with five wrong passwords every
    fifteen minutes. Now an attacker locks only their own sources, and from many addresses only the
    unrecognised ones: the officer signs in from where they signed in before."""
    office = _from(app, "203.0.113.10")
    assert _login(office, "officer").status_code == 200  # a recognised source from now on
    for k in range(8):  # 8 addresses × 5 wrong passwords: each address locks itself, then strangers
        attacker = _from(app, f"198.51.100.{k}")
        codes = [_login(attacker, "officer", "wrong-password").status_code for _ in range(6)]
        assert 429 in codes
        assert _login(attacker, "officer").status_code == 429  # even the right password: nothing learnt
    assert _login(office, "officer").status_code == 200
    assert _login(_from(app, "192.0.2.99"), "officer").status_code == 429  # an unrecognised address
    # wrong passwords from strangers are bounded: the untrusted lock-out stops them being hashed
    denied = [e for e in _events(db, "auth.login", "denied") if e.object_type == "user"]
    assert len(denied) == app.state.login_limits.untrusted


def test_a_browser_that_signed_in_before_is_not_locked_out_by_its_neighbours(app, db, users):
    """Behind one address (an office's NAT), a neighbour's wrong passwords lock that address for the
    officer; the officer's browser carries its device cookie and still signs in."""
    from atauly.service.limits import DEVICE_COOKIE

    browser = sign_in(app, "officer")
    assert browser.cookies.get(DEVICE_COOKIE)
    browser.post("/logout", data={"csrf_token": csrf(browser.get("/queue"))})
    neighbour = TestClient(app)  # same address ("testclient"), no device cookie
    for _ in range(5):
        assert _login(neighbour, "officer", "wrong-password").status_code == 401
    assert _login(neighbour, "officer").status_code == 429

    def form_sign_in(b):
        token = CSRF.search(b.get("/login").text).group(1)
        data = {"username": "officer", "password": PASSWORD, "csrf_token": token, "next": "/"}
        return b.post("/login", data=data, follow_redirects=False).status_code

    assert form_sign_in(TestClient(app)) == 429  # a new browser at that address is refused …
    assert form_sign_in(browser) == 303  # … the officer's own browser is not


def test_a_sign_in_form_without_its_token_is_tallied_not_written_with_what_was_typed(app, client, db):
    for _ in range(5):
        r = client.post("/login", data={"username": "my-secret-password", "password": "x", "csrf_token": "t"})
        assert r.status_code == 403
    assert _events(db, "web.csrf") == []  # no row per request, nothing typed is stored
    app.state.refusals.flush(db, force=True)
    (event,) = _events(db, "web.csrf")
    assert event.detail["attempts"] == 5 and "my-secret-password" not in json.dumps(event.detail)


def test_an_iin_across_the_cut_of_an_error_text_is_not_half_shown():
    from atauly.service.errors import safe_text

    text = safe_text("x" * 195 + "123456789012", limit=200)
    assert "12345" not in text


def test_an_admin_lifts_a_lockout(client, db, settings, monkeypatch):
    for _ in range(5):
        _login(client, "officer", "wrong-password")
    assert _login(client, "officer").status_code == 429
    from atauly.cli.main import app as cli
    from atauly.settings import get_settings

    monkeypatch.setenv("ATAULY_HOME", str(settings.home))
    monkeypatch.setenv("ATAULY_DATABASE_URL", settings.database)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["users", "unlock", "--username", "officer"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert _login(client, "officer").status_code == 200
    unlock = _events(db, "user.unlock")
    assert len(unlock) == 1 and unlock[0].actor.startswith("cli") and unlock[0].object_id == "officer"


def test_a_flood_from_one_address_is_refused_before_hashing_and_audited_as_one_summary(app, client, db):
    app.state.login_limits = LoginLimits(per_address=3)
    app.state.refusals = RefusalTally(interval=3600)
    before = db.execute(select(func.count(AuditEvent.id))).scalar_one()
    db.rollback()  # SQLite: the test's session must not hold the one connection while the app works
    codes = [_login(client, f"nobody{k}", "whatever-123").status_code for k in range(40)]
    assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}
    db.rollback()
    assert db.execute(select(func.count(AuditEvent.id))).scalar_one() == before  # nothing written yet
    app.state.refusals.flush(db, force=True)
    summary = _events(db, "auth.login", "denied")
    assert len(summary) == 1 and summary[0].object_type == "summary"
    d = summary[0].detail
    assert d["attempts"] == 40 and d["distinct_usernames"] == 40 and d["distinct_addresses"] == 1
    assert d["why"]["too many failed sign-ins from this address"] == 37
    db.rollback()
    # an officer already signed in is not affected; a correct password from that address waits too
    r = _login(client, "officer")
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_the_hash_queue_is_bounded_and_hashes_run_at_a_lower_priority():
    import os
    import threading

    gate = LoginGate(slots=1, queue=1)
    release, results = threading.Event(), []
    holders = [threading.Thread(target=lambda: results.append(gate.check(release.wait, 5))) for _ in range(2)]
    for t in holders:  # one hashing, one waiting
        t.start()
    for _ in range(500):
        if gate._admitted == 2:
            break
        threading.Event().wait(0.01)
    assert gate._admitted == 2
    with pytest.raises(Throttled) as refused:
        gate.check(lambda: True)
    assert refused.value.retry_after >= 1
    release.set()
    for t in holders:
        t.join()
    assert results == [True, True] and gate._admitted == 0
    assert gate.check(os.getpriority, os.PRIO_PROCESS, 0) > os.getpriority(os.PRIO_PROCESS, 0)


# --- 2. input edges ---------------------------------------------------------------------------------------


BAD_BODIES = [
    (b'{"family": {"land_ha": NaN}, "persons": [], "incomes": []}', "applications"),
    (b'{"family": {"land_ha": Infinity}}', "applications"),
    (b'{"family": {"nonmortgage_loan_balance": -Infinity}}', "applications"),
    (b'{"idempotency_key": "\\ud800", "family": {}}', "applications"),
    (b'{"\\ud800": 1}', "applications"),
    (b'{"outcome": "home_visit", "comment": "\\ud800", "version": 1}', "decision"),
    (b'{"outcome": "home_visit", "comment": "a\\u0000b", "version": 1}', "decision"),
    (b'{"outcome": "home_visit", "version": NaN}', "decision"),
    (b'{"fields": ["incomes"], "description": "\\udfff"}', "corrections"),
]


def test_nan_infinity_surrogates_and_nul_are_422_and_the_connection_stays_usable(
    client, as_officer, svc_payloads
):
    app_id = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()["id"]
    headers = {**as_officer, "Content-Type": "application/json"}
    for body, where in BAD_BODIES:
        path = "/api/v1/applications" if where == "applications" else f"/api/v1/applications/{app_id}/{where}"
        r = client.post(path, content=body, headers=headers)
        assert r.status_code == 422, (body, r.status_code, r.text)
        json.loads(r.text)  # valid JSON, nothing unencodable
        assert client.get("/api/v1/applications", headers=as_officer).status_code == 200
    # a NaN inside an otherwise valid application
    payload = in_district(svc_payloads)[1]
    raw = json.dumps({**payload, "family": {**payload["family"], "land_ha": float("nan")}}).encode()
    assert client.post("/api/v1/applications", content=raw, headers=headers).status_code == 422


def test_422_bodies_never_echo_an_iin(client, as_officer, svc_payloads):
    payload = in_district(svc_payloads)[0]
    iin = payload["persons"][0]["iin"]
    person = {**payload["persons"][0], "iin": iin + "7"}  # 13 digits: fails the pattern
    r = client.post("/api/v1/applications", json={**payload, "persons": [person]}, headers=as_officer)
    assert r.status_code == 422 and iin not in r.text and "input" not in r.json()["detail"][0]
    person = {**payload["persons"][0], "role": iin}  # an IIN where a code belongs
    r = client.post("/api/v1/applications", json={**payload, "persons": [person]}, headers=as_officer)
    assert r.status_code == 422 and iin not in r.text
    r = client.post("/api/v1/applications", json={**payload, iin: 1}, headers=as_officer)  # as a key
    assert r.status_code == 422 and iin not in r.text and "digits hidden" in r.text


def test_timestamps_carry_their_zone_and_version_is_required(client, as_officer, svc_payloads):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[2], headers=as_officer
    ).json()
    assert created["recommendation"]["created_at"].endswith(("Z", "+00:00"))
    url = f"/api/v1/applications/{created['id']}/decision"
    r = client.post(url, json={"outcome": "home_visit"}, headers=as_officer)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "version"]
    r = client.post(url, json={"outcome": "home_visit", "version": created["version"]}, headers=as_officer)
    assert r.status_code == 200 and r.json()["decisions"][0]["decided_at"].endswith(("Z", "+00:00"))
    r = client.post(url, json={"outcome": "home_visit", "version": created["version"]}, headers=as_officer)
    assert r.status_code == 409  # stale


# --- 3. blind mode ------------------------------------------------------------------------------------------


def _blind(db, on: bool = True):
    from atauly.service.casework import set_district_settings

    db.rollback()
    sup = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    set_district_settings(db, sup, [DISTRICT], blind_mode=on)


def test_blind_mode_hides_the_law_in_the_queue_and_the_notice_and_records_blindness_truthfully(
    client, as_officer, svc_payloads, db
):
    seen_first = client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    seen_first = seen_first.json()
    assert seen_first["recommendation"] is not None  # blind mode off: the officer sees it
    _blind(db)
    fresh = client.post("/api/v1/applications", json=in_district(svc_payloads)[1], headers=as_officer).json()
    assert fresh["recommendation"] is None
    queue = {a["id"]: a for a in client.get("/api/v1/applications", headers=as_officer).json()}
    assert (
        queue[fresh["id"]]["eligible_by_law"] is None and queue[seen_first["id"]]["eligible_by_law"] is None
    )
    notice = client.get(f"/api/v1/applications/{fresh['id']}/notice", headers=as_officer)
    assert notice.status_code == 409 and "assessment" in notice.json()["detail"]

    for app in (seen_first, fresh):
        url = f"/api/v1/applications/{app['id']}"
        assert (
            client.post(url + "/assessment", json={"outcome": "approve"}, headers=as_officer).status_code
            == 200
        )
        shown = client.get(url, headers=as_officer).json()
        body = {"outcome": "home_visit", "version": shown["version"]}
        assert client.post(url + "/decision", json=body, headers=as_officer).status_code == 200
    db.rollback()
    blind = dict(db.execute(select(Decision.application_id, Decision.blind)).all())
    db.rollback()
    # the first was seen before blind mode came on: its assessment is not blind, whatever the mode now
    assert blind == {seen_first["id"]: False, fresh["id"]: True}
    assert client.get(f"/api/v1/applications/{fresh['id']}/notice", headers=as_officer).status_code == 200


# --- 4. the keyed, anchored audit chain ---------------------------------------------------------------------


def _plain(ev: AuditEvent) -> str:
    """What an attacker without the key computes: the chain's old, unkeyed hash."""
    ev.key_id = None
    return audit.event_hash(ev)


def test_edit_and_rehash_the_rest_is_detected(client, as_officer, svc_payloads, db):
    client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    db.rollback()
    assert audit.verify(db).ok
    events = list(db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())
    assert all(e.key_id for e in events)
    prev = events[2].prev_hash
    for ev in events[2:]:  # edit event 3, then re-hash it and every event after it, and move the head
        if ev.id == 3:
            ev.actor = "someone-else"
        ev.prev_hash = prev
        ev.hash = prev = _plain(ev)
    db.execute(update(AuditHead).values(hash=prev))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.first_bad == 3, result


def test_a_chain_rewritten_without_any_key_is_not_taken_for_intact(client, as_officer, svc_payloads, db):
    client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    db.rollback()
    prev = audit.GENESIS
    for ev in db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        ev.prev_hash = prev
        ev.hash = prev = _plain(ev)
    db.execute(update(AuditHead).values(hash=prev))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and "no event is keyed" in result.problem, result


def test_cutting_the_tail_and_moving_the_head_is_detected_by_the_checkpoint(
    client, as_officer, svc_payloads, db
):
    client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    db.rollback()
    line = audit.checkpoint(db)
    assert line is not None and audit.checkpoint(db) is None  # written once per head
    last = line["last_id"]
    keep = db.get(AuditEvent, last - 2)
    db.execute(delete(AuditEvent).where(AuditEvent.id > last - 2))
    db.execute(update(AuditHead).values(last_id=keep.id, hash=keep.hash))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and "checkpoint" in result.problem and result.first_bad == last - 1, result


def test_an_altered_checkpoint_is_detected_and_a_rotated_key_still_verifies(
    client, as_officer, svc_payloads, db, tmp_path
):
    client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    db.rollback()
    keys = audit.keys_of(db)
    audit.checkpoint(db)
    # a second key signs from now on; the first still verifies the events it keyed
    rotated = audit.AuditKeys({**keys.keys, "k-new": b"n" * 32}, "k-new", keys.checkpoint_dir)
    db.info["audit_keys"] = rotated
    audit.append(db, "test.event")
    db.commit()
    audit.checkpoint(db)
    result = audit.verify(db)
    assert result.ok and result.anchors == 2, result
    assert {e.key_id for e in db.execute(select(AuditEvent)).scalars()} == {keys.current, "k-new"}
    path = audit.checkpoint_file(db)
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["last_id"] -= 1
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    assert not audit.verify(db).ok
    db.info["audit_keys"] = keys  # without the newer key, its events do not verify
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert "unknown audit key" in audit.verify(db).problem


def test_the_audit_key_file_is_private_and_outside_the_database(settings):
    keys = audit.AuditKeys.load(settings)
    path = settings.home / "audit.key"
    assert path.stat().st_mode & 0o077 == 0
    assert keys.current in path.read_text()
    env = audit.AuditKeys.load(settings.model_copy(update={"audit_key": f"a:{'11' * 16},b:{'22' * 32}"}))
    assert env.current == "b" and set(env.keys) == {"a", "b"}


# --- 5. accounts ------------------------------------------------------------------------------------------


def test_logout_ends_the_token_and_refresh_tokens_are_used_once(client, db):
    r = _login(client, "officer")
    tok = r.json()
    assert tok["expires_in"] == 15 * 60 and tok["refresh_token"]
    headers = {"Authorization": f"Bearer {tok['access_token']}"}
    assert client.get("/api/v1/applications", headers=headers).status_code == 200
    renewed = client.post("/api/v1/auth/refresh", data={"refresh_token": tok["refresh_token"]})
    assert renewed.status_code == 200
    again = client.post("/api/v1/auth/refresh", data={"refresh_token": tok["refresh_token"]})
    assert again.status_code == 401  # used once
    new = renewed.json()
    new_headers = {"Authorization": f"Bearer {new['access_token']}"}
    out = client.post(
        "/api/v1/auth/logout", data={"refresh_token": new["refresh_token"]}, headers=new_headers
    )
    assert out.status_code == 204
    assert client.get("/api/v1/applications", headers=new_headers).status_code == 401
    assert (
        client.post("/api/v1/auth/refresh", data={"refresh_token": new["refresh_token"]}).status_code == 401
    )
    # an access token ends on time
    db.rollback()
    db.execute(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert client.get("/api/v1/applications", headers=headers).status_code == 401


def test_deactivate_reset_password_and_revoke_are_audited_and_end_tokens(client, db, settings, monkeypatch):
    from atauly.cli.main import app as cli
    from atauly.settings import get_settings

    headers = token_headers(client, "officer")
    monkeypatch.setenv("ATAULY_HOME", str(settings.home))
    monkeypatch.setenv("ATAULY_DATABASE_URL", settings.database)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        r = runner.invoke(
            cli,
            ["users", "reset-password", "--username", "officer", "--password-stdin"],
            input="new-secret-1\n",
        )
        assert r.exit_code == 0, r.output
        assert client.get("/api/v1/applications", headers=headers).status_code == 401
        assert (
            _login(client, "officer").status_code == 401
            and _login(client, "officer", "new-secret-1").status_code == 200
        )
        headers = token_headers(client, "officer2")
        r = runner.invoke(cli, ["users", "revoke-tokens", "--username", "officer2"])
        assert r.exit_code == 0 and client.get("/api/v1/applications", headers=headers).status_code == 401
        headers = token_headers(client, "officer2")
        r = runner.invoke(cli, ["users", "deactivate", "--username", "officer2"])
        assert r.exit_code == 0 and client.get("/api/v1/applications", headers=headers).status_code == 401
        assert _login(client, "officer2").status_code == 401
        r = runner.invoke(
            cli, ["users", "create", "--username", "clerk", "--role", "analyst", "--password", "argv-pass-1"]
        )
        assert r.exit_code == 0 and "visible to other users" in r.output
        r = runner.invoke(
            cli,
            ["users", "create", "--username", "clerk2", "--role", "analyst", "--password-stdin"],
            input="stdin-pass-1\n",
        )
        assert r.exit_code == 0 and "visible" not in r.output
    finally:
        get_settings.cache_clear()
    for action in ("user.reset_password", "user.revoke_tokens", "user.deactivate", "user.create"):
        assert _events(db, action), action
    assert "new-secret-1" not in json.dumps([e.detail for e in _events(db, "user.reset_password")])
    assert audit.verify(db).ok


# --- 6. headers, /docs, the region switch, statistics ------------------------------------------------------


def test_personal_data_is_not_cached_nor_sniffed_and_the_notice_has_a_csp(client, as_officer, svc_payloads):
    created = client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    for r in (created, client.get("/api/v1/applications", headers=as_officer)):
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    notice = client.get(f"/api/v1/applications/{created.json()['id']}/notice", headers=as_officer)
    assert notice.status_code == 200
    assert "frame-ancestors 'none'" in notice.headers["content-security-policy"]
    assert notice.headers["x-frame-options"] == "DENY"
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_supervisor_cannot_switch_another_region_and_bad_cookies_are_tallied(app, client, db):
    from atauly.registry import codes
    from atauly.service.models import DistrictSetting

    page = sign_in(app, "supervisor")
    form = page.get("/settings")
    other = next(r.kato for r in codes.REGIONS if r.kato != REGION)
    r = page.post("/settings/region-model", data={"region": other, "switch": "off", "csrf_token": csrf(form)})
    assert r.status_code == 403
    db.rollback()
    assert db.execute(select(func.count()).select_from(DistrictSetting)).scalar_one() == 0  # own not switched
    assert _events(db, "settings.update", "denied")
    db.rollback()
    r = page.post(
        "/settings/region-model",
        data={"region": REGION, "switch": "off", "csrf_token": csrf(form)},
        follow_redirects=False,
    )
    assert r.status_code == 303

    from fastapi.testclient import TestClient

    stranger = TestClient(app, cookies={"atauly_session": "forged"})
    assert stranger.get("/queue", follow_redirects=False).status_code == 303
    app.state.refusals.flush(db, force=True)
    assert any(
        e.detail.get("why", {}).get("unknown or expired session cookie") for e in _events(db, "web.session")
    )


def test_statistics_suppress_small_cells_for_analysts(client, as_officer, svc_payloads):
    for p in in_district(svc_payloads)[:3]:
        client.post("/api/v1/applications", json=p, headers=as_officer)
    analyst = client.get("/api/v1/statistics", headers=token_headers(client, "analyst")).json()
    assert analyst["totals"]["applications"] == "<10" and analyst["totals"]["agreement"] is None
    assert analyst["by_district"][0]["applications"] == "<10" and analyst["min_cell"] == 10
    officer = client.get("/api/v1/statistics", headers=as_officer).json()
    assert officer["totals"]["applications"] == 3  # officers see their own district's cases anyway


# --- a killed engine child --------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_killed_engine_process_gives_503_then_recovers(settings, svc_payloads, users):
    import os
    import signal

    from fastapi.testclient import TestClient

    from atauly.service.app import create_app
    from atauly.service.engine import RecommendationEngine

    engine = RecommendationEngine(None, process=True)
    app = create_app(settings, engine=engine)
    try:
        client = TestClient(app)
        headers = token_headers(client, "officer")
        payloads = in_district(svc_payloads)
        assert client.post("/api/v1/applications", json=payloads[0], headers=headers).status_code == 201
        for pid in list(engine._pool._processes):
            os.kill(pid, signal.SIGKILL)
        r = client.post("/api/v1/applications", json=payloads[1], headers=headers)
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert client.post("/api/v1/applications", json=payloads[1], headers=headers).status_code == 201
    finally:
        engine.close()
        app.state.db_engine.dispose()


# --- 7. speed: statistics off the write connection, the law's trace kept, several workers --------------------


def test_statistics_read_off_the_write_connection_and_agree(app, client, as_officer, svc_payloads, db, users):
    from atauly.service import statistics

    for p in in_district(svc_payloads)[:2]:
        client.post("/api/v1/applications", json=p, headers=as_officer)
    officer = users["officer"]
    read = app.state.read_sessions()
    read.execute(select(func.count(AuditEvent.id))).scalar_one()  # a read transaction stays open …
    created = client.post("/api/v1/applications", json=in_district(svc_payloads)[2], headers=as_officer)
    assert created.status_code == 201  # … and the service writes meanwhile
    read.close()
    db.rollback()
    apart = statistics.compute(db, officer, read=app.state.read_sessions())
    together = statistics.compute(db, officer)
    assert apart["totals"] == together["totals"] and apart["totals"]["applications"] == 3


def test_the_law_trace_is_computed_once_per_snapshot_and_language(client, as_officer, svc_payloads, db):
    from atauly.service import casework
    from atauly.service.models import Application

    created = client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    db.rollback()
    app = db.get(Application, created.json()["id"])
    casework._TRACES.clear()
    first = casework.law_trace(app, "ru")
    key = next(iter(casework._TRACES))
    assert key[0] == app.input_hash and len(casework._TRACES) == 1
    try:
        casework._TRACES[key] = ("kept",)  # a second call answers from the cache
        assert casework.law_trace(app, "ru") == ["kept"] and first != ["kept"]
        assert casework.law_trace(app, "en") != ["kept"] and len(casework._TRACES) == 2
    finally:
        casework._TRACES.clear()  # the marker must not reach other tests
    db.rollback()


def test_several_workers_need_postgresql(settings, monkeypatch):
    from atauly.cli.main import app as cli
    from atauly.settings import get_settings

    monkeypatch.setenv("ATAULY_HOME", str(settings.home))
    monkeypatch.setenv("ATAULY_DATABASE_URL", f"sqlite:///{settings.home}/never.db")
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code != 0 and "PostgreSQL" in out.output


def test_a_burst_of_officers_signing_in_through_the_api_waits_for_a_hash_instead_of_being_refused(
    app, client
):
    """Fifty officers at nine in the morning: the API's sign-ins wait for one of the two hash slots
    (without holding a request thread) rather than being refused as a flood would be."""
    from concurrent.futures import ThreadPoolExecutor

    app.state.login_gate = LoginGate(slots=1, queue=1, async_queue=32)
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: _login(client, "officer").status_code, range(12)))
    assert codes == [200] * 12


def test_sign_in_limits_are_shared_by_every_worker(app, client, settings, svc_engine):
    """Two workers (two applications on one database, as `serve --workers 2` runs them): the failures
    counted by one are refused by the other, for the account and for the address."""
    from atauly.service.app import create_app

    other = create_app(settings, engine=svc_engine)
    try:
        second = TestClient(other)
        for k in range(5):  # wrong passwords for one account, alternating between the workers
            assert _login((client, second)[k % 2], "officer", "wrong-password").status_code == 401
        assert _login(client, "officer").status_code == 429
        assert _login(second, "officer").status_code == 429
        app.state.login_limits = LoginLimits(per_address=4)
        other.state.login_limits = LoginLimits(per_address=4)
        pair = (_from(app, "198.51.100.77"), _from(other, "198.51.100.77"))  # one address, both workers
        flood = [_login(pair[k % 2], f"nobody{k}", "guess-123").status_code for k in range(6)]
        assert flood[:4] == [401] * 4 and flood[4:] == [429, 429]  # the address: 2 + 2 failures, refused
    finally:
        other.state.db_engine.dispose()
        other.state.read_engine.dispose()
