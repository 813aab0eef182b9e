"""Migrations 0014 and 0015 (the scan's reasons as text, then their codes) go down and up again on SQLite and
PostgreSQL: the candidates stay, their reasons cut to the old columns' limits as 0014's downgrade says, the
codes dropped by 0015's downgrade (nullable when they come back), and the schema after the second upgrade is
the models' again."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from atauly.service.db import alembic_config, make_engine, migrate
from atauly.service.models import Base

CODES = (
    "reason_code",
    "refusal_reason",
    "offer_code",
    "need_gap",
    "capacity",
    "visit_entitled_quarter",
    "min_probability",
)
LONG_REASON = "entitled by law; " + "r" * 200  # longer than 0014's old VARCHAR(64)
LONG_OFFER = "offered within capacity; " + "o" * 300  # longer than the old VARCHAR(160)


def _alembic(engine, verb: str, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, verb)(cfg, revision)


def _rows(engine) -> list[dict]:
    with engine.connect() as c:
        return [
            dict(r._mapping)
            for r in c.execute(
                text(
                    "SELECT family_id, district_kato, rank, offered, probability_entitled, reason, "
                    "offer_reason FROM scan_candidates ORDER BY family_id"
                )
            )
        ]


@pytest.mark.empty_database
@pytest.mark.parametrize("below", ["0014_scan_reason_text", "0013_audit_object_idx"])
def test_the_scan_reason_migrations_go_down_and_up_again_keeping_the_candidates(database_url, below):
    engine = make_engine(database_url)
    try:
        migrate(engine)
        now = datetime(2026, 12, 5)
        with engine.begin() as c:
            for family, rank, reason, offer in (
                ("F-1", 1, LONG_REASON, LONG_OFFER),
                ("F-2", 2, "short reason", None),
            ):
                c.execute(
                    text(
                        "INSERT INTO scan_candidates (quarter, family_id, district_kato, region_kato, rank, "
                        "eligible_by_law, probability, wellbeing_level, reason, monthly_amount, offered, "
                        "probability_entitled, offer_reason, reason_code, refusal_reason, offer_code, "
                        "need_gap, capacity, visit_entitled_quarter, min_probability, loaded_at) VALUES "
                        "('2025Q3', :family, '790100000', '790000000', :rank, true, 0.7, '1', :reason, "
                        "1000.0, true, 0.6, :offer, 'law', 'income', 'capacity', 1200.5, 4, '2025Q1', "
                        "0.5, :now)"
                    ),
                    {"family": family, "rank": rank, "reason": reason, "offer": offer, "now": now},
                )
        before = _rows(engine)

        _alembic(engine, "downgrade", below)
        columns = {c["name"] for c in inspect(engine).get_columns("scan_candidates")}
        assert not columns & set(CODES)  # 0015's downgrade drops the codes
        down = _rows(engine)
        assert [r["family_id"] for r in down] == ["F-1", "F-2"]
        if below == "0013_audit_object_idx":  # 0014's downgrade cuts the texts to the old limits
            assert down[0]["reason"] == LONG_REASON[:64] and down[0]["offer_reason"] == LONG_OFFER[:160]
        else:
            assert down[0]["reason"] == LONG_REASON and down[0]["offer_reason"] == LONG_OFFER
        assert down[1]["reason"] == "short reason" and down[1]["offer_reason"] is None
        keep = ("district_kato", "rank", "offered", "probability_entitled")
        assert [{k: r[k] for k in keep} for r in down] == [{k: r[k] for k in keep} for r in before]

        migrate(engine)  # and up again
        assert _rows(engine) == down
        with engine.connect() as c:
            codes = c.execute(text(f"SELECT {', '.join(CODES)} FROM scan_candidates")).all()
            assert all(v is None for row in codes for v in row)
            diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
        assert diff == [], diff
    finally:
        engine.dispose()
