"""The proactive scan in the service's dashboard: the report's figures from the service database, with
the offers' progress (sent, agreed, refused, applications created) by district. Aggregates only."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB

from atauly.screening.columns import DISTRICT_SUMMARY_COLUMNS
from atauly.screening.report import DEFAULT_CONSENT_RATE, REPORT_COLUMNS, tables_from

from .casework import ServiceError, deny, record
from .models import Offer, ScanCandidate, ScanSummary, User

OFFER_COLUMNS = ["offers", "offers_sent", "agreed", "refused"]


def quarters(db: DB) -> list[str]:
    return list(
        db.execute(select(ScanSummary.quarter).distinct().order_by(ScanSummary.quarter.desc())).scalars()
    )


def scan_dashboard(
    db: DB, user: User, quarter: str | None = None, consent_rate: float = DEFAULT_CONSENT_RATE
) -> dict:
    """By region and district for the user's scope: entitled by law, receiving, applied, candidates,
    expected take-up, additional monthly budget, and the offers made so far."""
    if not 0 <= consent_rate <= 1:
        raise ServiceError(422, "consent_rate: must be between 0 and 1")
    known = quarters(db)
    if not known:
        return {"quarter": None, "quarters": [], "by_region": [], "by_district": [], "totals": {}}
    quarter = quarter or known[0]
    if quarter not in known:
        raise ServiceError(404, f"quarter: no scan loaded for {quarter}")
    scope, cscope, oscope = _scopes(db, user)
    summary, cand = _scan_rows(db, quarter, scope, cscope)
    region, district = tables_from(summary, cand.drop(columns=["offered"]), consent_rate)
    # Issue 15: how many candidates the scan offered (within capacity, above the minimum probability).
    by_scan = cand[cand["offered"].fillna(False).astype(bool)].groupby("district").size()
    district["offered_by_scan"] = district["district"].map(by_scan).fillna(0).astype(int).to_numpy()
    district = district.merge(_offer_counts(db, quarter, oscope), on="district", how="left").fillna(
        dict.fromkeys(OFFER_COLUMNS, 0)
    )
    district[OFFER_COLUMNS] = district[OFFER_COLUMNS].astype(int)
    region = region.merge(
        district.groupby("region", as_index=False)[OFFER_COLUMNS].sum(), on="region", how="left"
    )
    region = region.merge(
        district.groupby("region", as_index=False)["offered_by_scan"].sum(), on="region", how="left"
    )
    cols = [*REPORT_COLUMNS, *OFFER_COLUMNS, "offered_by_scan"]
    totals = {c: float(district[c].sum()) for c in cols}
    record(db, user, "scan.read", object_type="scan", object_id=quarter, region_kato=user.region_kato)
    db.commit()
    return {
        "quarter": quarter,
        "quarters": known,
        "consent_rate": consent_rate,
        "totals": totals,
        "by_region": region.drop(columns=["name"]).to_dict("records"),
        "by_district": district.to_dict("records"),
    }


def _scopes(db: DB, user: User):
    """The conditions that limit the scan's summary, candidates and offers to the user's scope."""
    if user.role == "officer":
        return (
            ScanSummary.district_kato == user.district_kato,
            ScanCandidate.district_kato == user.district_kato,
            Offer.district_kato == user.district_kato,
        )
    if user.role == "supervisor":
        return (
            ScanSummary.region_kato == user.region_kato,
            ScanCandidate.region_kato == user.region_kato,
            Offer.region_kato == user.region_kato,
        )
    if user.role in ("analyst", "admin"):
        return True, True, True
    raise deny(db, user, "scan.read", 403, "unknown role")  # pragma: no cover - roles are checked on creation


def _scan_rows(db: DB, quarter: str, scope, cscope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loaded scan's district summary and candidates of ``quarter`` within the scope."""
    summary = pd.DataFrame(
        db.execute(
            select(
                ScanSummary.region_kato,
                ScanSummary.district_kato,
                ScanSummary.families,
                ScanSummary.entitled_by_law,
                ScanSummary.receiving,
                ScanSummary.applied,
                ScanSummary.candidates,
                ScanSummary.candidates_monthly_amount,
            ).where(ScanSummary.quarter == quarter, scope)
        ).all(),
        columns=DISTRICT_SUMMARY_COLUMNS,
    )
    cand = pd.DataFrame(
        db.execute(
            select(
                ScanCandidate.region_kato,
                ScanCandidate.district_kato,
                ScanCandidate.probability,
                ScanCandidate.monthly_amount,
                ScanCandidate.offered,
            ).where(ScanCandidate.quarter == quarter, cscope)
        ).all(),
        columns=["region", "district", "probability", "monthly_amount", "offered"],
    )
    return summary, cand


def _offer_counts(db: DB, quarter: str, oscope) -> pd.DataFrame:
    """Offers of ``quarter`` by district: made, sent, agreed and refused."""
    offers = pd.DataFrame(
        db.execute(
            select(Offer.district_kato, Offer.status, func.count())
            .where(Offer.quarter == quarter, oscope)
            .group_by(Offer.district_kato, Offer.status)
        ).all(),
        columns=["district", "status", "n"],
    )
    wide = offers.pivot_table(index="district", columns="status", values="n", aggfunc="sum", fill_value=0)
    if not len(wide):
        return pd.DataFrame(columns=["district", *OFFER_COLUMNS])

    def get(name):
        return wide[name] if name in wide.columns else 0

    return pd.DataFrame(
        {
            "offers": wide.sum(axis=1),
            "offers_sent": get("sent") + get("agreed") + get("refused"),
            "agreed": get("agreed"),
            "refused": get("refused"),
        }
    ).reset_index()
