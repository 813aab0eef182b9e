"""The page kit of the server-rendered pages (Jinja2 templates, plain HTML forms, no JavaScript): the page
context and its dependencies (signed in, a posted form with its CSRF token), rendering with the header and
the language links, redirects with a flash message, error pages, formatting in the page's locale.

Sign-in opens a web session (cookie ``atauly_session``: HttpOnly, SameSite=Lax) whose row holds the CSRF
token every form carries; a POST without it is refused (403) and audited.

Every text goes through the message catalogs (``web.po``) in Russian (the default), Kazakh or English;
``?lang=`` switches and a cookie remembers. Pages reuse the casework functions: scope checks, audit events
and refusals happen there, so a page can show no more than the API would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError  # noqa: F401 — path_error reads one
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from atauly import __version__
from atauly.i18n import LANGUAGES, N_, Translator
from atauly.registry import codes, labels
from atauly.registry.quarter import Quarter, month_label, plain_periods

from .. import casework
from ..casework import ServiceError, deny
from ..deps import get_db
from ..models import User
from ..security import find_session

HERE = Path(__file__).parents[1]  # the service package: its templates and static files
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SESSION_COOKIE = "atauly_session"
LANG_COOKIE = "atauly_lang"
LOGIN_COOKIE = "atauly_login"  # the sign-in form's double-submit token
FLASH_COOKIE = "atauly_flash"
LOCAL_TZ = ZoneInfo("Asia/Almaty")

# --- labels (marked for the catalogs; translated where shown) ----------------------------------------

LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}
FLASH = {
    "decided": N_("The decision is recorded."),
    "decided_next": N_("The decision is recorded. This is the next application of your queue."),
    "home_visit_next": N_("The home visit is recorded. This is the next application of your queue."),
    "decided_last": N_("The decision is recorded. No other application is waiting for you."),
    "assigned": N_("The assignment is saved."),
    "verified": N_("The verified value is recorded and the law recomputed on it."),
    "home_visit": N_("The home visit is recorded; the application stays in the queue."),
    "assessed": N_("Your assessment is recorded. The law's result and the recommendation are shown below."),
    "correction": N_("The correction request is recorded and the application is reopened."),
    "language": N_("The family's language is recorded: the notice is written in it."),
    "settings": N_("The settings are saved."),
    "model_off": N_("The model is switched off in every district of the region: the law alone recommends."),
    "model_on": N_("The model is switched on again in every district of the region."),
    "signed_out": N_("You have signed out."),
    "plan_approved": N_("The plan is approved."),
    "outcome_saved": N_("The outcome is recorded."),
}
ERRORS = {
    400: (N_("The request could not be understood"), N_("Check the address or the form and try again.")),
    401: (N_("Please sign in"), N_("Your session has ended. Sign in again to continue.")),
    403: (
        N_("Access denied"),
        N_("Your role or your district does not give access to this page. The attempt has been recorded."),
    ),
    404: (N_("Not found"), N_("There is no such page or application.")),
    405: (N_("The request could not be understood"), N_("Check the address or the form and try again.")),
    409: (
        N_("The application has changed"),
        N_("Someone changed it since you opened it. Open it again to see it as it is now."),
    ),
    422: (N_("The data is not valid"), N_("Check the address or the form and try again.")),
    429: (N_("Too many attempts"), N_("Too many failed sign-in attempts. Try again in 15 minutes.")),
    500: (N_("Something went wrong"), N_("The error has been logged. Try again later.")),
}


# --- templates and formatting ------------------------------------------------------------------------


@pass_context
def _tr(context, message: str | None) -> str:
    """``{{ label|tr }}``: translate a message marked with ``N_`` in Python (not extracted again here)."""
    return context["t"](message) if message else ""


@pass_context
def _quarter(context, value) -> str:
    """``{{ app.quarter|quarter }}``: «IV квартал 2026 г.», «2026 ж. IV тоқсан», "Q4 2026"."""
    return Quarter.parse(value).label(context["lang"]) if value else "—"


@pass_context
def _month(context, value) -> str:
    """``{{ m|month }}``: «июль 2026 г.», «2026 ж. шілде», "July 2026"."""
    return month_label(value, context["lang"]) if value else "—"


@pass_context
def _periods(context, text) -> str:
    """``{{ line|periods }}``: a text (the law's explanation, a period ``2026-11/2026-12``) with its quarter
    and month codes written as people write them in the page's language."""
    if not text:
        return ""
    return plain_periods(str(text), context["lang"])


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tr"] = _tr
    env.filters["quarter"] = _quarter
    env.filters["month"] = _month
    env.filters["periods"] = _periods
    env.globals["labels"] = {
        "status": labels.APPLICATION_STATUSES,
        "outcome": labels.OUTCOMES,
        "role": labels.USER_ROLES,
        "reason": labels.OVERRIDE_REASONS,
    }
    return env


class Fmt:
    """Numbers, money, shares and dates in the page's locale (dates as officers write them: 12.05.2026)."""

    def __init__(self, t: Translator) -> None:
        self.t = t

    def number(self, value, decimals: int = 0) -> str:
        if isinstance(value, str):  # a suppressed small cell ("<10")
            return value
        return "—" if value is None else self.t.number(value, decimals)

    def money(self, value) -> str:
        if isinstance(value, str):
            return value
        return "—" if value is None else self.t.money(value, 2)  # tiyn shown when present (half up)

    def percent(self, share) -> str:
        if isinstance(share, str):
            return share
        return "—" if share is None else self.t.percent(share)

    def date(self, value) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if self.t.lang == "en":
            return format_date(value, "d MMM yyyy", locale=self.t.locale)
        return format_date(value, "dd.MM.yyyy", locale=self.t.locale)

    def datetime(self, value: datetime | None) -> str:
        """A stored UTC time shown in Kazakhstan's time."""
        if value is None:
            return "—"
        local = value.replace(tzinfo=UTC).astimezone(LOCAL_TZ)
        pattern = "d MMM yyyy, HH:mm" if self.t.lang == "en" else "dd.MM.yyyy HH:mm"
        return format_datetime(local, pattern, locale=self.t.locale)

    def iso(self, value) -> str:
        return "" if value is None else value.isoformat()


# --- the page context and its dependencies -------------------------------------------------------------


class LoginRequired(Exception):
    """No valid web session: the browser is sent to the sign-in page (and back afterwards)."""

    def __init__(self, target: str = "/") -> None:
        self.target = target
        super().__init__(target)


@dataclass
class Page:
    request: Request
    db: DB | None
    lang: str
    t: Translator
    user: User | None = None
    csrf: str = ""

    def tr(self, message: str, **fields) -> str:
        """Translate a message held in a variable (marked for the catalogs where it is defined)."""
        return self.t(message, **fields)


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGUAGES:
        return kept
    default = request.app.state.settings.lang
    return default if default in LANGUAGES else "ru"


def _page(request: Request, db: Annotated[DB, Depends(get_db)]) -> Page:
    request.state.page = True  # a ServiceError from here on renders an HTML error page
    lang = language(request)
    request.state.lang = lang
    return Page(request, db, lang, Translator(lang))


def _here(request: Request) -> str:
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _signed_in(page: Annotated[Page, Depends(_page)]) -> Page:
    db = page.db
    cookie = page.request.cookies.get(SESSION_COOKIE)
    session = find_session(db, cookie, "web")
    if session is None:
        db.rollback()
        if cookie:  # a session cookie presented and refused (ended, forged): tallied, audited once a minute
            request = page.request
            tally = request.app.state.refusals
            tally.add(
                "web.session",
                "unknown or expired session cookie",
                "",
                request.client.host if request.client else "unknown",
            )
            tally.flush(db)
        raise LoginRequired(_here(page.request))
    page.user, page.csrf = session.user, session.csrf_token
    db.expunge(page.user)
    db.rollback()  # release the read transaction (SQLite's lock) before the page's own work
    page.request.state.user, page.request.state.csrf = page.user, page.csrf
    return page


def _posted(page: Annotated[Page, Depends(_signed_in)], csrf_token: Annotated[str, Form()] = "") -> Page:
    """A form POST: its ``csrf_token`` must be the session's (refusals are audited)."""
    if not secrets.compare_digest(csrf_token.encode(), page.csrf.encode()) or not csrf_token:
        raise deny(
            page.db,
            page.user,
            "web.csrf",
            403,
            "the form's CSRF token is missing or wrong",
            object_type="page",
            object_id=page.request.url.path,
            region_kato=page.user.region_kato,
        )
    return page


AnyPage = Annotated[Page, Depends(_page)]
SignedIn = Annotated[Page, Depends(_signed_in)]
Posted = Annotated[Page, Depends(_posted)]


# --- responses ------------------------------------------------------------------------------------------


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def finish(page: Page, response: Response) -> Response:
    request = page.request
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            page.lang,
            max_age=365 * 24 * 3600,
            path="/",
            samesite="lax",
            secure=is_https(request),
        )
    headers = response.headers
    headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cache-Control"] = "no-store"  # pages hold personal data: not kept in shared caches
    return response


def _lang_links(page: Page, canonical: str | None) -> list[dict]:
    request = page.request
    if canonical is None:
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        path = request.url.path
    else:
        path, _, query = canonical.partition("?")
        params = dict(parse_qsl(query))
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "href": f"{path}?{urlencode({**params, 'lang': code})}",
            "current": code == page.lang,
        }
        for code in LANGUAGES
    ]


#: The header's navigation: (path, label, the roles that see it), in order. A new page group adds its entry.
NAV = [
    ("/queue", N_("Queue"), ("officer", "supervisor", "admin")),
    ("/statistics", N_("Statistics"), ("officer", "supervisor", "analyst", "admin")),
    ("/trends", N_("Trends"), ("officer", "supervisor", "analyst", "admin")),
    ("/dashboard", N_("Dashboard"), ("supervisor", "analyst", "admin")),
    ("/offers", N_("Proactive search"), ("officer", "supervisor", "analyst", "admin")),
    ("/plans", N_("Plans"), ("officer", "supervisor", "analyst", "admin")),
    ("/model", N_("Model"), ("officer", "supervisor", "analyst", "admin")),
    ("/settings", N_("Safeguards"), ("supervisor", "admin")),
    ("/audit", N_("Audit trail"), ("supervisor", "admin")),
]


def nav(user: User | None) -> list[tuple[str, str]]:
    """The navigation entries ``user`` sees (none before sign-in)."""
    if user is None:
        return []
    return [(path, label) for path, label, roles in NAV if user.role in roles]


def _scope_label(user: User | None, lang: str) -> str:
    if user is None:
        return ""
    if user.district_kato:
        return district_label(user.district_kato, lang)
    if user.region_kato:
        return codes.region_name(user.region_kato, lang)
    return ""


def render(
    page: Page, template: str, status: int = 200, *, canonical: str | None = None, **context
) -> HTMLResponse:
    """A page: the template with the header (user, navigation, language links) and any flash message."""
    request = page.request
    if page.db is not None:
        page.db.rollback()  # nothing is held while rendering; templates get plain values
    flash_key = request.cookies.get(FLASH_COOKIE)
    html = (
        templates()
        .get_template(template)
        .render(
            t=page.t,
            lang=page.lang,
            fmt=Fmt(page.t),
            user=page.user,
            role_label=labels.USER_ROLES.get(page.user.role, "") if page.user else "",
            scope_label=_scope_label(page.user, page.lang),
            csrf=page.csrf,
            nav=nav(page.user),
            path=request.url.path,
            lang_links=_lang_links(page, canonical),
            flash=FLASH.get(flash_key or "", ""),
            version=__version__,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    if flash_key:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return finish(page, response)


def redirect(page: Page, url: str, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE, flash, path="/", httponly=True, samesite="lax", secure=is_https(page.request)
        )
    return finish(page, response)


def error_page(request: Request, exc: ServiceError) -> HTMLResponse:
    """A refused or failed page request, in the user's language, with the error's status."""
    lang = getattr(request.state, "lang", None) or language(request)
    page = Page(
        request,
        None,
        lang,
        Translator(lang),
        getattr(request.state, "user", None),
        getattr(request.state, "csrf", ""),
    )
    title, text = ERRORS.get(exc.status, ERRORS[500])
    return render(
        page,
        "error.html",
        exc.status,
        canonical="/",
        code=exc.status,
        title=title,
        text=text,
        detail=exc.message,
    )


@cache
def district_label(kato: str, lang: str) -> str:
    """A district's name in ``lang`` (the catalogue is walked once per district and language)."""
    return casework.district_name(kato, lang)


def scope_districts(page: Page) -> list[tuple[str, str]]:
    """The districts a page's district filter offers, by name: a supervisor's region, every district for an
    admin or an analyst, none for an officer (one district)."""
    user = page.user
    if user.role == "officer":
        return []
    return sorted(
        (
            (kato, district_label(kato, page.lang))
            for kato, region in casework.district_catalogue().items()
            if user.role != "supervisor" or region == user.region_kato
        ),
        key=lambda d: d[1],
    )


def usernames(db: DB, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme) is followed after sign-in. Browsers drop tabs
    and newlines from URLs (so a tab between two slashes makes ``//host``) and read a backslash as a slash:
    both are refused."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ch.isspace() or ord(ch) < 32 for ch in target)
        or target.startswith("/login")
    ):
        return "/"
    return target


def path_error(exc: RequestValidationError) -> bool:
    return any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
