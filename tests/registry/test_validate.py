import pandas as pd

from atauly.registry import load_registry, write_registry
from atauly.registry.io import Registry
from atauly.registry.validate import RegistryValidationError, validate
from factories import family, person, quarter_incomes, tables


def _bad_registry():
    fams = [
        family(
            "A",
            [
                person("applicant", "M", "1980-01-01", incomes=quarter_incomes("wages", 50000)),
                person("child", "F", "1970-01-01"),
            ],
        ),  # child older than parent
        family("B", [person("applicant", incomes={("wages", "2025-04"): -100})], region="999999999"),
        family("C", [person("applicant", iin="123456789012")]),
    ]
    fam, per, inc = tables(fams)
    per.loc[len(per)] = per.iloc[0]  # duplicate person id (same IIN too)
    orphan = per.iloc[[1]].copy()
    orphan["person_id"], orphan["family_id"], orphan["iin"] = "Z-1", "NOPE", "900101300012"
    per = pd.concat([per, orphan], ignore_index=True)
    return fam, per, inc


def test_every_problem_is_reported_at_once():
    _, _, _, report = validate(*_bad_registry())
    rules = set(report.problems["rule"])
    assert {
        "negative",
        "unknown_region",
        "iin_check_digit",
        "child_older_than_parent",
        "duplicate_id",
        "unknown_family",
    } <= rules
    row = report.problems.loc[report.problems["rule"] == "unknown_region"].iloc[0]
    assert (row["table"], row["column"], row["value"], row["family_id"]) == (
        "families",
        "region_kato",
        "999999999",
        "B",
    )
    assert list(report.problems.columns) == [
        "table",
        "row_id",
        "family_id",
        "column",
        "value",
        "rule",
        "message",
    ]


def test_iins_are_never_shown_in_clear():
    _, _, _, report = validate(*_bad_registry())
    assert not report.problems["value"].astype(str).str.contains("123456789012").any()
    assert "123456789012" not in report.summary(limit=100)


def test_missing_column_and_types():
    fam, per, inc = tables([family("A", [person()])])
    per = per.drop(columns=["sex"])
    per["birth_date"] = "not a date"
    fam["dwellings_owned"] = "two"
    _, _, _, report = validate(fam, per, inc)
    rules = set(report.problems["rule"])
    assert {"missing_column", "type_date", "type_int"} <= rules


def test_family_rules():
    fam, per, inc = tables([family("A", [person("spouse")]), family("B", [person()])])
    fam.loc[len(fam)] = fam.iloc[1]
    fam.loc[len(fam) - 1, "family_id"] = "EMPTY"
    fam["district_kato"] = ["611000000", "751000000", "61"]
    _, _, _, report = validate(fam, per, inc)
    got = set(zip(report.problems["family_id"], report.problems["rule"], strict=True))
    assert ("A", "applicant_count") in got
    assert ("EMPTY", "empty_family") in got
    assert ("B", "district_region_mismatch") in got
    assert ("EMPTY", "district_format") in got


def test_load_registry_raises_then_skips(tmp_path):
    fam, per, inc = _bad_registry()
    fam = pd.concat([fam, tables([family("OK", [person()])])[0]], ignore_index=True)
    ok_person = tables([family("OK", [person(born="1990-05-05")])])[1]
    per = pd.concat([per, ok_person], ignore_index=True)
    write_registry(Registry(fam, per, inc), tmp_path, fmt="csv")
    try:
        load_registry(tmp_path)
        raise AssertionError("expected a validation error")
    except RegistryValidationError as exc:
        assert len(exc.report.problems) >= 6
    reg, report = load_registry(tmp_path, skip_invalid=True)
    assert list(reg.families["family_id"]) == ["OK"]
    assert not report.ok


def test_parquet_and_csv_round_trip(tmp_path):
    fam, per, inc, report = validate(
        *tables([family("A", [person(incomes=quarter_incomes("pension", 1000))])])
    )
    assert report.ok
    for fmt in ("parquet", "csv"):
        write_registry(Registry(fam, per, inc), tmp_path / fmt, fmt=fmt)
        reg, rep = load_registry(tmp_path / fmt)
        assert rep.ok
        assert reg.persons["iin"].iloc[0] == per["iin"].iloc[0]
        assert reg.incomes["amount_kzt"].sum() == 3000


def test_a_table_whose_every_id_is_missing_is_reported_not_crashed():
    """Found by the fast path's property test: a family without an id and nothing else crashed the
    factorisation of ids (no id at all to count) instead of being reported."""
    import pandas as pd

    from atauly.registry.arrow import Keys

    keys = Keys(pd.Series([None], dtype=object), pd.Series(["F1", None], dtype=object))
    assert keys.duplicated().tolist() == [False]
    assert keys.positions().tolist() == [-1, -1]
