"""The audit trail in words: every action code the service writes has a label in ru, kk and en, and an
event's details read as one short line without personal data (issue 20)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from atauly.i18n import Translator
from atauly.service.web.audit_labels import ACTIONS, action_label, detail_line, technical

SRC = Path(__file__).resolve().parents[2] / "src" / "atauly"
#: The helpers through which an action code reaches audit.append (the code is a literal argument).
WRITERS = {
    "append",
    "record",
    "deny",
    "load",
    "_may_decide",
    "_may_plan",
    "scope",
    "_audit",
    "admin_action",
    "add",
}
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _written_codes() -> set[str]:
    found = set()
    for path in [*SRC.joinpath("service").rglob("*.py"), SRC / "cli" / "service.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            args = [k.value for k in node.keywords if k.arg == "action"]
            if name in WRITERS:
                args += node.args[:4]
            for a in args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and CODE.match(a.value):
                    found.add(a.value)
    return found


def test_every_action_the_service_writes_has_a_label():
    codes = _written_codes()
    assert {"queue.read", "decision.create", "user.reset_password", "auth.token"} <= codes  # the scan works
    missing = sorted(c for c in codes if c not in ACTIONS and c.removesuffix(".open") not in ACTIONS)
    assert not missing, missing


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_labels_are_translated(lang):
    t = Translator(lang)
    untranslated = sorted(code for code, message in ACTIONS.items() if t(message) == message)
    assert not untranslated, untranslated
    assert action_label("decision.create.open", t) != action_label("decision.create", t)
    assert action_label("no.such_code", t) == "no.such_code"


def test_details_read_in_words_without_personal_data():
    t = Translator("ru")
    line = detail_line({"status": 403, "why": "only supervisors see it", "verify": True, "offset": 50}, t)
    assert "only supervisors" not in line and "{" not in line
    assert "Доступ запрещён".lower() in line.lower() or "доступ" in line.lower()
    assert "да" in line and "50" in line
    iin = "900101300123"
    assert iin not in detail_line({"to": iin}, t)
    assert iin not in technical({"to": iin, "why": f"no such IIN {iin}"})
    assert "why" in technical({"why": "x"})
    assert detail_line(None, t) == "" and technical({}) == ""


def test_coded_values_read_in_words():
    t = Translator("kk")
    line = detail_line({"status": "open", "quarter": "2026Q4", "outcome": "approve", "search": "iin"}, t)
    assert "open" not in line and "2026Q4" not in line and "approve" not in line and "iin" not in line
    assert "2026 ж. IV тоқсан" in line


def test_objects_read_in_words():
    from atauly.registry.codes import REGIONS, districts, region_name
    from atauly.service.web.audit_labels import OBJECTS, object_label

    t = Translator("kk")
    assert all(t(message) != message for message in OBJECTS.values())
    assert object_label("application", "897", t) == f"{t(OBJECTS['application'])} 897"
    region, district = REGIONS[0], districts()[0]
    assert object_label("statistics", region.kato, t).endswith(region_name(region.kato, "kk"))
    assert district.kato not in object_label("queue", district.kato, t)
    assert object_label("no_such", "x", t) == "no_such x"
