"""The project's rule on function length (at most 80 lines), checked for the photo pipeline and its service
and command-line front ends, so that a long function is split when it is written, not found in review."""

import ast
from pathlib import Path

import atauly

SRC = Path(atauly.__file__).parent
FILES = [
    *sorted((SRC / "vision").glob("*.py")),
    SRC / "service" / "photos.py",
    SRC / "service" / "facts.py",
    SRC / "service" / "inspection.py",
    SRC / "service" / "web" / "photos.py",
    SRC / "service" / "web" / "inspection.py",
    SRC / "service" / "api" / "routes" / "photos.py",
    SRC / "cli" / "vision.py",
]
MAX_LINES = 80


def test_no_function_of_the_photo_pipeline_is_longer_than_80_lines():
    long = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, long
