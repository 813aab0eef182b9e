"""The supervisors' and analysts' pages: /trends, /dashboard (the tile map, drilling into a region) and the
Excel-ready export — labelled in the page's language, scoped to the user, suppressed for analysts."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from atauly.service.web.oversight import TILES, excel_number, period_label

from .conftest import DISTRICT, OTHER_DISTRICT, REGION
from .test_trends import ALMATY, _case, casework  # noqa: F401 — the fixture
from .test_web import sign_in

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_periods_are_named_in_each_language():
    from atauly.i18n import Translator

    assert period_label("2026Q4", Translator("ru")) == "IV квартал 2026 г."
    assert period_label("2026Q4", Translator("kk")) == "2026 ж. IV тоқсан"
    assert period_label("2026Q4", Translator("en")) == "Q4 2026"
    assert period_label("2026-11-30", Translator("ru")) == "неделя с 30.11.2026"
    assert period_label("2026-11-30", Translator("kk")) == "30.11.2026 күні басталған апта"


def test_the_map_has_the_twenty_regions_once():
    from atauly.registry import codes

    assert set(TILES) == {r.kato for r in codes.REGIONS}
    assert len(set(TILES.values())) == 20


def test_excel_numbers():
    assert excel_number(85000.0, 2, "ru") == "85000,00"
    assert excel_number(85000.0, 2, "en") == "85000.00"
    assert excel_number(12345, 0, "kk") == "12345"
    assert excel_number("<10", 0, "ru") == "<10"
    assert excel_number(None, 1, "ru") == ""


@sqlite_only
def test_supervisor_trends_page_in_russian_and_kazakh(app, casework):  # noqa: F811
    browser = sign_in(app, "supervisor")
    ru = browser.get("/trends?period=quarter&lang=ru")
    assert ru.status_code == 200
    assert "IV квартал 2026 г." in ru.text and "Нагрузка специалистов" in ru.text
    assert ">officer<" in ru.text  # supervisors see usernames
    kk = browser.get("/trends?period=week&lang=kk")
    assert "02.11.2026 күні басталған апта" in kk.text and "Үрдістер" in kk.text
    assert browser.get(f"/trends?region={ALMATY}").status_code == 403


@sqlite_only
def test_officer_sees_own_district_trend_only(app, casework):  # noqa: F811
    browser = sign_in(app, "officer")
    page = browser.get("/trends?period=quarter&lang=ru")
    assert page.status_code == 200 and 'id="officers-table"' not in page.text
    assert browser.get(f"/trends?region={ALMATY}&lang=ru").status_code == 403
    dash = browser.get("/dashboard?lang=ru")
    assert dash.status_code == 200  # their own district's row only, not the neighbouring district's
    from atauly.service.casework import district_name

    assert district_name(DISTRICT, "ru") in dash.text and district_name(OTHER_DISTRICT, "ru") not in dash.text
    assert browser.get(f"/dashboard?region={ALMATY}").status_code == 403
    assert browser.get("/statistics/export.csv?table=officers").status_code == 403


@sqlite_only
def test_analyst_dashboard_map_and_drill_down(app, casework):  # noqa: F811
    browser = sign_in(app, "analyst")
    page = browser.get("/dashboard?lang=ru")
    assert page.status_code == 200
    assert page.text.count("data-region=") == 20
    assert f'href="/dashboard?region={REGION}"' in page.text
    assert "Шымкент" in page.text and "на 1 000 семей" in page.text
    assert 'id="suppression-note"' in page.text  # analysts: small cells suppressed (default 10)
    drill = browser.get(f"/dashboard?region={REGION}&lang=kk")
    assert drill.status_code == 200 and "data-region=" not in drill.text
    assert f'data-area="{DISTRICT}"' in drill.text
    assert "Барлық өңірлер" in drill.text  # back to the country


@sqlite_only
def test_excel_export_has_bom_semicolons_and_named_places(app, casework):  # noqa: F811
    browser = sign_in(app, "supervisor")
    r = browser.get("/statistics/export.csv?table=by_district&lang=ru")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Район", "Регион", "Заявления"]
    assert all(len(row) == len(rows[0]) for row in rows)
    district = {row[0]: row for row in rows[1:]}
    assert "Абайский район" in district  # a name, not 790100000
    assert not any("790100000" in cell for row in rows for cell in row)
    money = rows[0].index("Назначенная помощь в месяц, ₸")
    assert district["Абайский район"][money] == "55000,00"
    kk = browser.get("/statistics/export.csv?table=trends_quarter&lang=kk")
    rows = list(csv.reader(io.StringIO(kk.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Кезең" and rows[2][0] == "2026 ж. IV тоқсан"
    assert browser.get("/statistics.csv?table=by_district").text.startswith("district,region,")  # unchanged
    assert browser.get("/statistics/export.csv?table=nope").status_code == 422


@sqlite_only
def test_analyst_export_is_suppressed(app, casework):  # noqa: F811
    o = casework["officer"]
    with app.state.sessions() as db:
        for _ in range(12):
            _case(
                db,
                DISTRICT,
                date(2026, 11, 16),
                "approved",
                [(o, "approve", False, 1.0, datetime(2026, 11, 17))],
            )
        db.commit()
    browser = sign_in(app, "analyst")
    r = browser.get("/statistics/export.csv?table=regions&lang=en")
    rows = {row[0]: row for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";")}
    header = rows["Region or district"]
    almaty = rows["Almaty city"]
    assert almaty[header.index("Recipients per 1,000 families")] == ""
    assert almaty[header.index("Approved")] == "<10"
