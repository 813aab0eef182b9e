"""The merged message catalogs are cached as JSON (a fresh process does not parse the .po files again),
keyed by the files' bytes: an edited catalog is parsed anew; a damaged or unwritable cache is skipped."""

from __future__ import annotations

import shutil

import pytest
from babel.messages import pofile

from atauly import i18n


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.catalog.cache_clear()
    yield tmp_path / "cache" / "atauly" / "i18n"
    i18n.catalog.cache_clear()


def _parsed(lang: str) -> dict[str, str]:
    paths = sorted(
        (i18n.LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"), key=lambda p: (p.name != "atauly.po", p.name)
    )
    return i18n._parse(lang, [(p, p.read_bytes()) for p in paths])


def _no_parsing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the .po files were parsed again")

    monkeypatch.setattr(pofile, "read_po", refuse)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_second_process_reads_the_cache_and_gets_the_same_messages(fresh, monkeypatch, lang):
    first = i18n.catalog(lang)
    assert first == _parsed(lang)
    assert [p.name.startswith(f"{lang}-") for p in fresh.glob("*.json")] == [True]
    i18n.catalog.cache_clear()  # as in a new process
    _no_parsing(monkeypatch)
    assert i18n.catalog(lang) == first


def test_an_edited_catalog_is_parsed_again(fresh, monkeypatch, tmp_path):
    i18n.catalog("kk")
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR / "kk", locale / "kk")
    po = locale / "kk" / "LC_MESSAGES" / "plans.po"
    text = po.read_text(encoding="utf-8")
    old = i18n.catalog("kk")["Social contract"]
    po.write_text(text.replace(f'msgstr "{old}"', 'msgstr "Келісім (өзгертілді)"', 1), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.catalog.cache_clear()
    assert i18n.catalog("kk")["Social contract"] == "Келісім (өзгертілді)"
    assert len(list(fresh.glob("kk-*.json"))) == 2


def test_a_damaged_cache_is_skipped(fresh):
    messages = i18n.catalog("ru")
    (cached,) = fresh.glob("ru-*.json")
    for damage in ('{"a": 1}', "[1, 2]", "{not json", "{}"):
        cached.write_text(damage, encoding="utf-8")
        i18n.catalog.cache_clear()
        assert i18n.catalog("ru") == messages


def test_an_unwritable_cache_is_skipped(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    i18n.catalog.cache_clear()
    try:
        assert i18n.catalog("kk") == _parsed("kk")
    finally:
        i18n.catalog.cache_clear()


def test_no_home_and_no_cache_directory_parses_the_catalogs(monkeypatch):
    """Without XDG_CACHE_HOME and without a home (Path.home() raises: a container's arbitrary user), the
    catalogs are parsed, not a crash."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(i18n.Path, "home", staticmethod(no_home))
    i18n.catalog.cache_clear()
    try:
        assert i18n.catalog("ru") == _parsed("ru")
    finally:
        i18n.catalog.cache_clear()
