"""The queue: open applications of the user's scope, the nearest deadline first, or the latest decided."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from .. import casework
from ..models import Application
from .kit import Page, SignedIn, district_label, render

router = APIRouter(include_in_schema=False)


QUEUE_PAGE = 100


def _hidden(page: Page, app: Application) -> bool:
    return casework.recommendation_hidden(page.db, page.user, app)


@router.get("/queue")
def queue_page(page: SignedIn, status: str = "open", offset: int = 0):
    status = "decided" if status == "decided" else "open"
    offset = max(0, offset)
    apps = casework.queue(page.db, page.user, limit=QUEUE_PAGE + 1, offset=offset, status=status)
    today = date.today()
    rows = []
    for a in apps[:QUEUE_PAGE]:
        rec = a.recommendation
        hidden = _hidden(page, a)
        days = casework.working_days_between(today, a.deadline)
        final = next((d for d in reversed(a.decisions) if d.outcome != "home_visit"), None)
        rows.append(
            {
                "id": a.id,
                "family_id": a.family_id,
                "district": district_label(a.district_kato, page.lang),
                "received": a.received_on,
                "deadline": a.deadline,
                "days_left": days,
                "overdue": status == "open" and a.deadline < today,
                "due_today": status == "open" and a.deadline == today,
                "status": a.status,
                "hidden": hidden,
                "eligible": rec.eligible_by_law if rec and not hidden else None,
                "amount": rec.amount_monthly if rec and not hidden else None,
                "recommended": (
                    None if rec is None or hidden else ("approve" if rec.recommended else "reject")
                ),
                "mode": rec.mode if rec else None,
                "decision": final.outcome if final else None,
                "decided_at": a.decided_at,
            }
        )
    return render(
        page,
        "queue.html",
        status_tab=status,
        rows=rows,
        offset=offset,
        page_size=QUEUE_PAGE,
        more=len(apps) > QUEUE_PAGE,
        overdue=sum(r["overdue"] for r in rows),
    )
