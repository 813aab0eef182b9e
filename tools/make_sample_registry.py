"""Regenerate the hand-written sample registry (src/atauly/registry/sample/*.csv).

About twenty fictitious families, each written to exercise one case of the law for 2025Q3 (income
months 2025-04..06). No real person: IINs are made valid for the invented birth dates and sexes.
Run: .venv/bin/python tools/make_sample_registry.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from atauly.registry.iin import make_iin

OUT = Path(__file__).resolve().parents[1] / "src" / "atauly" / "registry" / "sample"
Q = ("2025-04", "2025-05", "2025-06")

# family: (id, region_kato, district_kato, settlement, application_date, extra family fields, note)
# person: (role, sex, birth_date, status, disability_group, extra person fields, {source: monthly amount})
FAMILIES = [
    (
        "F01",
        "610000000",
        "611000000",
        "rural",
        "2025-07-08",
        {},
        "couple, 3 children, one wage: conditional",
        [
            ("applicant", "M", "1990-03-14", "employee", 0, {}, {"wages": 90000}),
            ("spouse", "F", "1993-06-02", "caring_child_under_3", 0, {}, {}),
            ("child", "F", "2023-02-10", "not_working", 0, {}, {}),
            ("child", "M", "2020-01-20", "not_working", 0, {}, {}),
            ("child", "M", "2016-05-05", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F02",
        "750000000",
        "751000000",
        "urban",
        "2025-07-15",
        {},
        "pensioner living alone above the line",
        [("applicant", "F", "1955-09-30", "pensioner", 0, {}, {"pension": 70000})],
    ),
    (
        "F03",
        "790000000",
        "791000000",
        "urban",
        "2025-07-21",
        {},
        "mother on maternity leave: unconditional",
        [
            ("applicant", "F", "1998-11-11", "maternity_leave", 0, {}, {"childcare_benefit": 30000}),
            ("child", "F", "2024-05-01", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F04",
        "350000000",
        "351000000",
        "urban",
        "2025-08-04",
        {},
        "disabled head, carer spouse: unconditional",
        [
            ("applicant", "M", "1975-04-04", "not_working", 2, {}, {"disability_benefit": 81362}),
            ("spouse", "F", "1978-08-19", "caring_disabled", 0, {}, {}),
            ("child", "M", "2018-02-02", "not_working", 0, {}, {}),
            ("child", "F", "2015-10-10", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F05",
        "310000000",
        "311000000",
        "rural",
        "2025-07-02",
        {},
        "large family, benefit counted",
        [
            ("applicant", "M", "1985-01-25", "employee", 0, {}, {"wages": 120000}),
            ("spouse", "F", "1987-07-07", "not_working", 0, {}, {"large_family_benefit": 63030}),
            ("child", "M", "2010-03-03", "not_working", 0, {}, {}),
            ("child", "F", "2012-04-04", "not_working", 0, {}, {}),
            ("child", "M", "2015-06-06", "not_working", 0, {}, {}),
            ("child", "F", "2019-09-09", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F06",
        "470000000",
        "471000000",
        "urban",
        "2025-07-03",
        {"dwellings_owned": 2},
        "owns two dwellings",
        [
            ("applicant", "M", "1980-12-12", "not_working", 0, {}, {}),
            ("spouse", "F", "1982-02-22", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F07",
        "430000000",
        "431000000",
        "rural",
        "2025-07-09",
        {"vehicles_owned": 1},
        "owns a car",
        [
            ("applicant", "M", "1988-05-15", "self_employed", 0, {}, {"self_employment": 40000}),
            ("spouse", "F", "1990-01-01", "not_working", 0, {}, {}),
            ("child", "M", "2014-07-07", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F08",
        "430000000",
        "431000000",
        "rural",
        "2025-07-10",
        {"vehicles_owned": 1},
        "owns a car but has a disabled child: car rule does not apply",
        [
            ("applicant", "M", "1986-06-16", "employee", 0, {}, {"wages": 60000}),
            ("spouse", "F", "1989-09-19", "caring_disabled", 0, {}, {"child_disability_benefit": 74428}),
            ("child", "F", "2013-03-13", "not_working", 2, {}, {}),
        ],
    ),
    (
        "F09",
        "100000000",
        "101000000",
        "urban",
        "2025-07-11",
        {},
        "member refused employment measures",
        [
            (
                "applicant",
                "M",
                "1992-02-12",
                "registered_unemployed",
                0,
                {"employment_measures_refusal_date": "2025-05-20"},
                {},
            ),
            ("spouse", "F", "1994-04-14", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F10",
        "330000000",
        "331000000",
        "rural",
        "2025-07-14",
        {"social_contract_breach_date": "2024-10-01"},
        "social contract breached more than 6 months ago: no longer a ground",
        [("applicant", "F", "1984-08-08", "registered_unemployed", 0, {}, {"wages": 20000})],
    ),
    (
        "F11",
        "110000000",
        "111000000",
        "rural",
        "2025-07-16",
        {"commission_found_no_need": True},
        "commission found no need",
        [("applicant", "M", "1979-07-17", "not_working", 0, {}, {})],
    ),
    (
        "F12",
        "550000000",
        "551000000",
        "urban",
        "2025-07-17",
        {"refused_commission_survey": True},
        "refused the commission's survey",
        [("applicant", "F", "1983-03-23", "not_working", 0, {}, {})],
    ),
    (
        "F13",
        "390000000",
        "391000000",
        "urban",
        "2025-07-18",
        {"false_information": True},
        "false information",
        [("applicant", "M", "1991-01-31", "not_working", 0, {}, {})],
    ),
    (
        "F14",
        "230000000",
        "231000000",
        "urban",
        "2025-09-10",
        {},
        "loan received in the reference quarter; counted for applications from Sep 2025",
        [
            ("applicant", "M", "1987-11-27", "employee", 0, {}, {"wages": 30000, "loans": 200000}),
            ("spouse", "F", "1989-12-01", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F15",
        "150000000",
        "151000000",
        "urban",
        "2025-07-22",
        {},
        "income exactly at the poverty line",
        [
            ("applicant", "M", "1981-05-05", "employee", 0, {}, {"wages": 118038}),
            ("spouse", "F", "1983-06-06", "not_working", 0, {}, {}),
            ("child", "F", "2009-09-29", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F16",
        "710000000",
        "711000000",
        "urban",
        "",
        {},
        "has not applied: proactive scan finds it entitled",
        [
            ("applicant", "F", "1960-02-29", "pensioner", 0, {}, {"pension": 62771}),
            ("other", "M", "1989-10-10", "registered_unemployed", 0, {}, {}),
            ("other", "F", "2021-04-01", "not_working", 0, {}, {}),
        ],
    ),
    (
        "F17",
        "630000000",
        "631000000",
        "urban",
        "2025-07-23",
        {},
        "informal earnings lift it above the line",
        [("applicant", "M", "1977-07-27", "employee", 0, {}, {"wages": 50000, "informal": 100000})],
    ),
    (
        "F18",
        "590000000",
        "591000000",
        "urban",
        "2025-07-24",
        {},
        "alimony counted, scholarship excluded",
        [
            ("applicant", "F", "1976-06-26", "not_working", 0, {}, {"alimony": 40000}),
            ("child", "M", "2006-01-15", "student_full_time", 0, {}, {"scholarship": 30000}),
        ],
    ),
    (
        "F19",
        "620000000",
        "621000000",
        "urban",
        "2025-07-25",
        {},
        "single unemployed man without income",
        [("applicant", "M", "1990-09-09", "registered_unemployed", 0, {}, {})],
    ),
    (
        "F20",
        "270000000",
        "271000000",
        "rural",
        "2025-08-12",
        {},
        "applied in August: two months assigned; children aged 0 and 7 get no supplement",
        [
            ("applicant", "M", "1993-03-03", "employee", 0, {}, {"wages": 70000}),
            ("spouse", "F", "1995-05-25", "caring_child_under_3", 0, {}, {}),
            ("child", "M", "2025-01-10", "not_working", 0, {}, {}),
            ("child", "F", "2018-01-10", "not_working", 0, {}, {}),
        ],
    ),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fam_rows, per_rows, inc_rows = [], [], []
    serial = 100
    for fid, region, district, settlement, applied, extra, note, people in FAMILIES:
        fam_rows.append(
            {
                "family_id": fid,
                "region_kato": region,
                "district_kato": district,
                "settlement_type": settlement,
                "application_date": applied,
                "dwellings_owned": extra.get("dwellings_owned", 1),
                "vehicles_owned": extra.get("vehicles_owned", 0),
                "land_ha": 0,
                "livestock_heads": 0,
                "nonmortgage_loan_balance": 0,
                "refused_commission_survey": int(extra.get("refused_commission_survey", False)),
                "commission_found_no_need": int(extra.get("commission_found_no_need", False)),
                "social_contract_breach_date": extra.get("social_contract_breach_date", ""),
                "false_information": int(extra.get("false_information", False)),
                "note": note,
            }
        )
        for k, (role, sex, born, status, group, pextra, incomes) in enumerate(people, start=1):
            pid = f"{fid}-P{k}"
            serial += 7
            per_rows.append(
                {
                    "person_id": pid,
                    "family_id": fid,
                    "iin": make_iin(dt.date.fromisoformat(born), sex, serial),
                    "role": role,
                    "sex": sex,
                    "birth_date": born,
                    "disability_group": group,
                    "employment_status": status,
                    "education": "general_secondary" if role != "child" else "",
                    "long_term_illness": 0,
                    "employment_measures_refusal_date": pextra.get("employment_measures_refusal_date", ""),
                }
            )
            for source, amount in incomes.items():
                months = ("2025-05",) if source == "loans" else Q
                for month in months:
                    inc_rows.append(
                        {"person_id": pid, "month": month, "source": source, "amount_kzt": amount}
                    )
    for name, rows in (("families", fam_rows), ("persons", per_rows), ("incomes", inc_rows)):
        with open(OUT / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    print(f"wrote {len(fam_rows)} families, {len(per_rows)} persons, {len(inc_rows)} income rows to {OUT}")


if __name__ == "__main__":
    main()
