"""Babel extraction methods for the texts the pages and reports translate from data: the support measures'
names (``label``) and responsible bodies (``responsible_body``) in ``plans/parameters/*.yaml``
(babel-plans.cfg: ``[atauly.i18n.extract.extract_yaml_labels: plans/parameters/*.yaml]``; another key list
with the option ``keys = source``, as babel.cfg does for the calibration targets' sources), and the
source notes of the regions' published figures in ``registry/synthetic/geography.py``
(:func:`extract_region_sources`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

#: The keys whose text values are shown to users (translated with ``t(...)`` where shown).
KEYS = ("label", "responsible_body")


def extract_yaml_labels(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: dict
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """(line, funcname, message, comments) for each ``label:``/``responsible_body:`` text in a YAML file."""
    import yaml

    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    keys = tuple(str(options["keys"]).split()) if options.get("keys") else KEYS
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is not None:
        yield from _walk(node, keys)


def _walk(node, keys: tuple[str, ...] = KEYS) -> Iterator[tuple[int, str | None, str, list[str]]]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value in keys and isinstance(value, yaml.ScalarNode) and str(value.value).strip():
                yield value.start_mark.line + 1, None, str(value.value), []
            else:
                yield from _walk(value, keys)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, keys)


#: The fields of ``RegionStats`` whose text the calibration report shows (as the figures' sources).
SOURCE_FIELDS = ("population_source", "poverty_source")


def extract_region_sources(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: dict
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """(line, funcname, message, comments) for each source note given to ``RegionStats(...)`` in a module
    (by position or keyword; a module-level name bound to a text is followed), so that the report can
    translate the notes through the catalogs without marking the world's data."""
    import ast

    tree = ast.parse(fileobj.read().decode(options.get("encoding", "utf-8")))
    fields: list[str] = []
    names: dict[str, ast.Constant] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "RegionStats":
            fields = [
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            names.update({n.id: node.value for n in node.targets if isinstance(n, ast.Name)})
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RegionStats"):
            continue
        given = dict(zip(fields, node.args, strict=False)) | {k.arg: k.value for k in node.keywords if k.arg}
        for name in SOURCE_FIELDS:
            text = _text(given.get(name), names)
            if text and text.strip():
                yield given[name].lineno, None, text, []


def _text(node, names: dict) -> str | None:
    """A text literal, a module-level name bound to one, or a sum of those (``_E + "; more"``)."""
    import ast

    if isinstance(node, ast.Name):
        node = names.get(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, names), _text(node.right, names)
        return left + right if left is not None and right is not None else None
    return None
