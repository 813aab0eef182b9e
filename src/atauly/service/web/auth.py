"""Signing in and out of the pages. The sign-in form is protected by a double-submit token: a random value
in a SameSite=Strict cookie that only this site's form repeats, so another site cannot sign a browser in
under an account of its choosing."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from sqlalchemy import delete

from ..auth import client_address
from ..auth import login as api_login
from ..casework import ServiceError, record
from ..limits import DEVICE_COOKIE
from ..models import Session as WebSession
from ..security import find_session, token_hash
from .kit import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    AnyPage,
    Page,
    Posted,
    SignedIn,
    is_https,
    redirect,
    render,
    safe_next,
)

router = APIRouter(include_in_schema=False)


def _login_form(page: Page, status: int = 200, error: str = "", username: str = "", next_: str = "/"):
    token = secrets.token_urlsafe(24)
    response = render(
        page,
        "login.html",
        status,
        canonical="/login" + (f"?next={quote(next_)}" if next_ != "/" else ""),
        login_token=token,
        error=error,
        username=username,
        next=next_,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=is_https(page.request),
    )
    return response


@router.get("/login")
def login_page(page: AnyPage, next: str = "/"):
    if find_session(page.db, page.request.cookies.get(SESSION_COOKIE), "web") is not None:
        return redirect(page, safe_next(next))
    return _login_form(page, next_=safe_next(next))


@router.post("/login")
def login_submit(
    page: AnyPage,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    next_ = safe_next(next)
    expected = page.request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        # Anyone can post this: tallied (no row per request, nothing typed into the form is stored).
        refusals = page.request.app.state.refusals
        refusals.add(
            "web.csrf",
            "sign-in form without its token (expired or from another site)",
            "",
            client_address(page.request),
        )
        refusals.flush(page.db)
        error = page.t("The sign-in form has expired. Please try again.")
        return _login_form(page, 403, error, username, next_)
    if not username.strip() or not password:
        return _login_form(page, 422, page.t("Enter your username and password."), username, next_)
    try:
        token, _user = api_login(page.db, page.request, username, password, "web")
    except ServiceError as exc:
        if exc.status == 429:
            message = page.t("Too many failed sign-in attempts. Try again in 15 minutes.")
        else:
            message = page.t("Wrong username or password.")
        response = _login_form(page, exc.status, message, username, next_)
        response.headers.update(exc.headers or {})  # Retry-After on a throttled or locked sign-in
        return response
    response = redirect(page, next_)
    response.set_cookie(
        SESSION_COOKIE, token, path="/", httponly=True, samesite="lax", secure=is_https(page.request)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    device = getattr(page.request.state, "new_device", None)
    if device:  # this browser is a recognised source for the user from now on (see atauly.service.limits)
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=int(page.request.app.state.login_limits.trust_days * 86400),
            path="/login",
            httponly=True,
            samesite="strict",
            secure=is_https(page.request),
        )
    return response


@router.post("/logout")
def logout(page: Posted):
    token = page.request.cookies.get(SESSION_COOKIE, "")
    page.db.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    record(
        page.db,
        page.user,
        "auth.logout",
        object_type="user",
        object_id=page.user.username,
        region_kato=page.user.region_kato,
    )
    page.db.commit()
    response = redirect(page, "/login", flash="signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(page: SignedIn):
    return redirect(page, "/statistics" if page.user.role == "analyst" else "/queue")
