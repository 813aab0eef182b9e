"""The registry's Parquet writer and one-family reader on inputs the registry itself does not produce
(found in review): a categorical id column, and a reader asked for columns without the id."""

import pandas as pd

from atauly.registry.io import read_parquet_where, write_parquet


def test_a_categorical_family_id_is_sorted_by_its_values(tmp_path):
    df = pd.DataFrame({"family_id": pd.Categorical(["F2", "F1", "F3", "F1"]), "v": [1, 2, 3, 4]})
    path = write_parquet(df, tmp_path / "t.parquet")
    back = pd.read_parquet(path)
    assert back["family_id"].astype(str).tolist() == ["F1", "F1", "F2", "F3"]
    assert back["v"].tolist() == [2, 4, 1, 3]  # stable: the order inside a family is kept


def test_reading_some_columns_without_the_filter_column(tmp_path):
    path = write_parquet(
        pd.DataFrame({"family_id": ["F2", "F1", "F3"], "v": [1, 2, 3]}), tmp_path / "t.parquet"
    )
    got = read_parquet_where(path, "family_id", ["F1", "F3"], columns=["v"])
    assert list(got.columns) == ["v"] and sorted(got["v"]) == [2, 3]
    both = read_parquet_where(path, "family_id", ["F2"], columns=["family_id", "v"])
    assert both.to_dict("records") == [{"family_id": "F2", "v": 1}]
