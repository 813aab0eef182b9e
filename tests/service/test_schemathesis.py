"""Property-based tests of the API against its own OpenAPI document (schemathesis): no input, valid or not,
makes the service answer 5xx.

Every operation of the app's /openapi.json gets a bounded, derandomised set of generated requests
(schema-valid and schema-breaking: huge integers in paths, odd unicode, wrong types, empty bodies), sent
with an officer's bearer token to a fresh database that already holds a few applications of the officer's
district, and one check: no server error. SQLite only (the fixture below pins it), to stay quick.

The document is read when the module is imported, from an app on a throwaway in-memory database (the
document does not depend on the data); the requests go to the fixtures' app. (``schemathesis.pytest.
from_fixture`` would read it from the fixture, but schemathesis 4.32 fails on pytest 9 there.)
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client

from atauly.service.app import create_app
from atauly.service.engine import RecommendationEngine
from atauly.service.models import ScanCandidate
from atauly.settings import Settings

from .conftest import DISTRICT, REGION, in_district, token_headers

#: Generated requests per operation: bounded so that the file runs in well under a minute.
MAX_EXAMPLES = 30

_document_app = create_app(
    Settings(home=tempfile.gettempdir(), database_url="sqlite://"), engine=RecommendationEngine(None)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app)


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: overrides the conftest's parametrised fixture (SQLite and PostgreSQL) in this file."""
    return f"sqlite:///{tmp_path / 'atauly.db'}"


@pytest.fixture
def officer(client, svc_payloads, app):
    """An officer's bearer token, with three applications of the officer's district on record and two
    families the proactive scan offered a visit there (so that ``GET /offers`` lists rows)."""
    headers = token_headers(client, "officer")
    for payload in in_district(svc_payloads)[:3]:
        r = client.post("/api/v1/applications", json=payload, headers=headers)
        assert r.status_code == 201, r.text
    with app.state.sessions() as db:
        db.add_all(
            ScanCandidate(
                quarter="2025Q3",
                family_id=f"R79F{i}",
                district_kato=DISTRICT,
                region_kato=REGION,
                rank=i,
                eligible_by_law=True,
                probability=0.7,
                wellbeing_level="E",
                reason="entitled by law",
                monthly_amount=1000.0,
                offered=True,
                probability_entitled=0.6 if i == 1 else None,
                loaded_at=datetime(2025, 7, 1),
            )
            for i in (1, 2)
        )
        db.commit()
    assert len(client.get("/api/v1/offers", headers=headers).json()) == 2
    return headers


@pytest.fixture
def asgi_session(app):
    with get_client(app) as session:
        yield session


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case, app, asgi_session, officer):
    case.call_and_validate(app=app, session=asgi_session, headers=officer, checks=[not_a_server_error])


#: What JSON parsers accept but no amount or text may be: non-finite numbers, lone surrogates, NUL.
POISON = [float("nan"), float("inf"), float("-inf"), "\ud800", "x\udfffy", "\x00", "a\x00b"]


def _poison(value, bad):
    """``value`` with every leaf of ``bad``'s kind (numbers for a float, strings for a string) replaced."""
    if isinstance(value, dict):
        return {k: _poison(v, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, bad) for v in value]
    if isinstance(bad, float) and isinstance(value, int | float) and not isinstance(value, bool):
        return bad
    if isinstance(bad, str) and isinstance(value, str):
        return bad
    return value


@schema.parametrize()
@settings(
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_nan_infinity_surrogates_and_nul_in_any_body_are_4xx_and_the_connection_stays_usable(
    case, app, officer
):
    """Every generated JSON body, once with each poison in all of its numbers or all of its strings: a
    4xx (never a 5xx, never an error that cannot be encoded), and the next request on the same client
    is answered."""
    from fastapi.testclient import TestClient

    if not isinstance(case.body, dict) or "json" not in (case.media_type or ""):
        return
    client = TestClient(app, raise_server_exceptions=False)
    for bad in POISON:
        raw = json.dumps(_poison(case.body, bad), allow_nan=True, ensure_ascii=True).encode()
        r = client.request(
            case.method,
            case.formatted_path,
            content=raw,
            headers={**officer, "Content-Type": "application/json"},
        )
        assert r.status_code < 500, (case.method, case.formatted_path, bad, r.status_code, r.text)
        json.loads(r.text or "null")
        assert client.get("/api/v1/reason-codes").status_code == 200
