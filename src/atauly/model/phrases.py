"""Sentences the training stores, as a code and its figures beside the English (issue 20).

A :class:`Phrase` is the English sentence a log or an old reader shows, carrying the code and the
parameters it was made from. What is stored is both: the English under its usual key and
:func:`record` (``{"code": …, **params}``) under ``<key>_code`` (a list of records for a reason made of
several checks), so that a reader words it in their language from the catalogs
(:mod:`atauly.model.wording`) instead of parsing the English back. Parameters are plain JSON values
(numbers unformatted, names as codes); a parameter may itself be a record (a verdict inside a reason).
"""

from __future__ import annotations

import numbers


class Phrase(str):
    """``Phrase("gate.floor_ok", "ROC-AUC ≥ 0.6", floor=0.6)``: English that also knows its code."""

    code: str
    params: dict

    def __new__(cls, code: str, text: str, **params) -> Phrase:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = {k: _plain(v) for k, v in params.items()}
        return obj

    def __reduce__(self):  # copies keep their code
        return (_rebuild, (self.code, str(self), self.params))


def _rebuild(code: str, text: str, params: dict) -> Phrase:
    return Phrase(code, text, **params)


def _plain(value):
    """A parameter as a JSON value: numpy numbers as Python ones, a phrase as its record."""
    if isinstance(value, Phrase):
        return record(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record(text) -> dict | None:
    """The stored form of a phrase (``None`` for plain text: the reader falls back on the English)."""
    if not isinstance(text, Phrase):
        return None
    return {"code": text.code, **text.params}


def records(texts) -> list[dict] | None:
    """The records of several phrases (a gate's checks), or ``None`` when any of them is plain text."""
    out = [record(x) for x in texts]
    return None if any(r is None for r in out) else out


def joined(texts, sep: str = "; ") -> str:
    """The English of several phrases joined (the stored text of a reason made of checks)."""
    return sep.join(str(x) for x in texts)
