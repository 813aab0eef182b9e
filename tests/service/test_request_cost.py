"""What a request costs in the server's process, pinned where a benchmark cannot: no trip to a worker thread
for the session and the engine dependencies, no BaseHTTPMiddleware (a task and memory streams per request)
— and the security headers still on every answer."""

from __future__ import annotations

import inspect

from fastapi.testclient import TestClient
from starlette.middleware.base import BaseHTTPMiddleware

from atauly.service import deps
from atauly.service.app import SecurityHeaders, create_app
from atauly.settings import Settings


def test_session_and_engine_dependencies_run_on_the_event_loop():
    assert inspect.isasyncgenfunction(deps.get_db)
    assert inspect.iscoroutinefunction(deps.get_engine)


def test_headers_come_from_plain_asgi_middleware(tmp_path):
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}"), engine=object())
    classes = [m.cls for m in app.user_middleware]
    assert SecurityHeaders in classes and BaseHTTPMiddleware not in classes
    r = TestClient(app).get("/api/v1/applications")  # refused (no token): headers all the same
    assert r.status_code == 401
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
