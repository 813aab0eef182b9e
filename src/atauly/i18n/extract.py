"""A Babel extraction method for the texts the pages translate from data files: the support measures'
names (``label``) and responsible bodies (``responsible_body``) in ``plans/parameters/*.yaml``
(babel-plans.cfg: ``[atauly.i18n.extract.extract_yaml_labels: plans/parameters/*.yaml]``)."""

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
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is not None:
        yield from _walk(node)


def _walk(node) -> Iterator[tuple[int, str | None, str, list[str]]]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value in KEYS and isinstance(value, yaml.ScalarNode) and str(value.value).strip():
                yield value.start_mark.line + 1, None, str(value.value), []
            else:
                yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)
