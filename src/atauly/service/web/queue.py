"""The queue: open applications of the user's scope, the nearest deadline first, or the latest decided;
narrowed by facts of the case (state, quarter, district, family size, assignment) and searched by the
application's number or a member's IIN. An open application's law result and recommendation are not shown
here (anti-anchoring): the officer meets them on the case page, beside the family's data."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form

from atauly.i18n import N_

from .. import casework
from ..casework import FAMILY_SIZE_MAX, QueueFilter
from ..models import DECIDED_STATES, OPEN_STATES, Application
from .kit import Page, Posted, SignedIn, district_label, render, scope_districts, usernames

router = APIRouter(include_in_schema=False)


QUEUE_PAGE = 100

#: The assignment filter's choices.
ASSIGNED_CHOICES = {"me": N_("Assigned to me"), "none": N_("Not assigned")}


def _hidden(page: Page, app: Application) -> bool:
    return casework.recommendation_hidden(page.db, page.user, app)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def _filters(page: Page, status: str, state, quarter, district, size, assigned) -> QueueFilter:
    """The GET filters, each dropped when it is not one the page offers."""
    status = "decided" if status == "decided" else "open"
    states = OPEN_STATES if status == "open" else DECIDED_STATES
    size_n = _int(size)
    return QueueFilter(
        status=status,
        state=state if state in states else None,
        quarter=quarter if quarter and len(quarter) == 6 and quarter[4] == "Q" else None,
        district=district if district in casework.district_catalogue() else None,
        family_size=size_n if size_n and 1 <= size_n <= FAMILY_SIZE_MAX else None,
        assigned=assigned if assigned in ASSIGNED_CHOICES else None,
    )


def _rows(page: Page, apps: list[Application]) -> list[dict]:
    today = date.today()
    names = usernames(page.db, {a.assigned_to for a in apps if a.assigned_to is not None})
    rows = []
    for a in apps[:QUEUE_PAGE]:
        rec = a.recommendation
        # An open application's law result and recommendation stay on its page (anti-anchoring); a decided
        # one's are shown beside the decision, for review.
        is_open = a.status in OPEN_STATES
        shown = not is_open and rec is not None and not _hidden(page, a)
        final = next((d for d in reversed(a.decisions) if d.outcome != "home_visit"), None)
        rows.append(
            {
                "id": a.id,
                "family_id": a.family_id,
                "district": district_label(a.district_kato, page.lang),
                "family_size": a.family_size,
                "quarter": a.quarter,
                "received": a.received_on,
                "deadline": a.deadline,
                "days_left": casework.working_days_between(today, a.deadline),
                "overdue": is_open and a.deadline < today,
                "due_today": is_open and a.deadline == today,
                "status": a.status,
                "assigned": names.get(a.assigned_to, "") if a.assigned_to is not None else "",
                "assigned_to_me": a.assigned_to == page.user.id,
                "eligible": rec.eligible_by_law if shown else None,
                "amount": rec.amount_monthly if shown else None,
                "recommended": ("approve" if rec.recommended else "reject") if shown else None,
                "mode": rec.mode if shown else None,
                "decision": final.outcome if final else None,
                "decided_at": a.decided_at,
            }
        )
    return rows


def _queue(page: Page, f: QueueFilter, offset: int, search: dict, status_code: int = 200):
    apps = casework.queue(page.db, page.user, limit=QUEUE_PAGE + 1, offset=offset, filters=f)
    rows = _rows(page, apps)
    query = {
        k: v
        for k, v in (
            ("status", f.status),
            ("state", f.state),
            ("quarter", f.quarter),
            ("district", f.district),
            ("size", f.family_size),
            ("assigned", f.assigned),
        )
        if v is not None
    }
    return render(
        page,
        "queue.html",
        status_code,
        status_tab=f.status,
        rows=rows,
        offset=offset,
        page_size=QUEUE_PAGE,
        more=len(apps) > QUEUE_PAGE and f.iin is None,
        overdue=sum(r["overdue"] for r in rows),
        filters=f,
        query="&amp;".join(f"{k}={v}" for k, v in query.items()),
        filtered=any(k != "status" for k in query),
        states=DECIDED_STATES if f.status == "decided" else OPEN_STATES,
        quarters=casework.queue_quarters(page.db, page.user),
        districts=scope_districts(page),
        sizes=list(range(1, FAMILY_SIZE_MAX + 1)),
        size_max=FAMILY_SIZE_MAX,
        assigned_choices=list(ASSIGNED_CHOICES.items()),
        search=search,
    )


@router.get("/queue")
def queue_page(
    page: SignedIn,
    status: str = "open",
    offset: int = 0,
    state: str | None = None,
    quarter: str | None = None,
    district: str | None = None,
    size: str | None = None,
    assigned: str | None = None,
):
    f = _filters(page, status, state, quarter, district, size, assigned)
    return _queue(page, f, max(0, offset), {"q": "", "error": "", "searched": False})


@router.post("/queue/search")
def queue_search(page: Posted, q: Annotated[str, Form()] = ""):
    """Search by the application's number or a member's IIN. Posted, and answered without a redirect, so
    that an IIN never appears in an address, a server log or the browser's history; compared exactly."""
    text = "".join(q.split()).lstrip("№#")
    f = QueueFilter(status="all")  # a number or an IIN is looked for among open and decided applications
    if len(text) == 12 and text.isdigit():
        f.iin, shown = text, ""
    elif text.isdigit() and len(text) < 10:
        f.app_id, shown = int(text), text
    else:
        error = N_("Enter an application number or a 12-digit IIN.")
        # the error beside the open queue, as before the search (status "all" headed it "recently decided")
        return _queue(page, QueueFilter(), 0, {"q": "", "error": page.tr(error), "searched": False}, 422)
    return _queue(page, f, 0, {"q": shown, "error": "", "searched": True})
