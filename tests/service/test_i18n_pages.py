"""Every message of the code and of the page templates is translated into Russian and Kazakh."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from atauly.i18n import catalog

SRC = Path(__file__).resolve().parents[2] / "src" / "atauly"
TEMPLATES = "**/templates/**.html"


def _messages() -> dict[str, str]:
    """msgid → the file it was first found in (Python with t/N_, templates with Babel's Jinja2 extractor)."""
    found: dict[str, str] = {}
    for filename, _lineno, message, *_ in extract_from_dir(
        SRC,
        [(TEMPLATES, "jinja2"), ("**.py", "python")],
        options_map={TEMPLATES: {"silent": "false"}},  # a template that does not parse fails the test
        keywords={"t": None, "N_": None},
    ):
        found.setdefault(message, filename)
    return found


def test_every_message_of_the_code_and_the_templates_is_translated():
    found = _messages()
    assert any(f.endswith(".html") for f in found.values()), "no template message was extracted"
    assert len(found) > 300
    for lang in ("ru", "kk"):
        missing = sorted(m for m in found if m not in catalog(lang))
        assert not missing, (lang, [(m, found[m]) for m in missing[:10]])


def test_translations_keep_their_placeholders():
    """A translation that drops or renames a {field} would fail (or lie) at run time."""
    import re

    fields = re.compile(r"\{(\w*)\}")
    for lang in ("ru", "kk"):
        for msgid, text in catalog(lang).items():
            assert sorted(fields.findall(msgid)) == sorted(fields.findall(text)), (lang, msgid, text)
