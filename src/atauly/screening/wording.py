"""The scan's reasons in the officer's language (kk, ru or en), from the codes and figures ``candidates/``
stores beside the English.

Each candidate row keeps ``reason`` and ``offer_reason`` in English (lists, logs, older readers) and, since
issue 15, the codes they were made from: ``reason_code`` (``by_law``, ``by_model``, ``visit``),
``refusal_reason`` (the law's ground on the records, a code of :data:`atauly.registry.labels.REFUSAL_REASONS`)
and ``offer_code`` (``offered``, ``beyond_capacity``, ``below_minimum``; for a model without calibrated
probabilities ``within_capacity`` and ``outside_capacity``); the figures are the row's own columns
(``need_gap``, ``probability``, ``probability_entitled``, ``rank``, ``capacity``,
``visit_entitled_quarter``) and the scan's minimum probability (``scan.json``). A reader words them here
through the message catalogs rather than parsing the English back (as :mod:`atauly.model.wording` does for
the training's sentences).
"""

from __future__ import annotations

from collections.abc import Mapping

from atauly.i18n import N_, Translator
from atauly.registry.labels import label

#: A candidate's reason, by ``reason_code``: the English of ``partition._reasons`` with its fields.
REASONS = {
    "by_law": N_("entitled by law: per-capita income {gap} below the poverty line"),
    "by_model": N_("likely entitled (model {probability}); on records the law refuses: {refusal}"),
    "visit": N_("entitled at the {quarter} visit, not applied since; law on records refuses: {refusal}"),
}
#: Why a candidate was (or was not) offered a visit, by ``offer_code``.
OFFER_REASONS = {
    "offered": N_("offered: probability truly entitled {probability} (rank {rank} of capacity {capacity})"),
    "beyond_capacity": N_(
        "not offered: beyond the district's capacity, probability truly entitled {probability} "
        "(rank {rank} of capacity {capacity})"
    ),
    "below_minimum": N_(
        "not offered: probability truly entitled {probability} below the minimum {minimum} "
        "(rank {rank} of capacity {capacity})"
    ),
    "within_capacity": N_("offered: within the district's capacity (rank {rank} of capacity {capacity})"),
    "outside_capacity": N_(
        "not offered: beyond the district's capacity (rank {rank} of capacity {capacity})"
    ),
}
#: Added to the offer's reason when an earlier visit found the family entitled.
VISIT_NOTE = N_("entitled at the {quarter} visit")


def _quarter(value, lang: str) -> str:
    """A visit's quarter in words (ru «I квартал 2025 г.», kk «2025 ж. I тоқсан»), as every page writes
    periods; in English as stored (``2025Q1``, so the English equals the scan's own); "" for none."""
    if value is None or str(value) == "":
        return ""
    if lang == "en":
        return str(value)
    from atauly.registry.quarter import Quarter

    try:
        return Quarter.parse(str(value)).label(lang)
    except ValueError:
        return str(value)


def _two(tr: Translator, value) -> str:
    """A probability with two decimals in the language's format (``0,50`` in ru and kk)."""
    from babel.numbers import format_decimal

    return format_decimal(float(value), format="0.00", locale=tr.locale)


def _value(row: Mapping, key: str, default=None):
    value = row.get(key, default) if hasattr(row, "get") else getattr(row, key, default)
    return default if value is None else value


def reason_text(row: Mapping, lang: str = "ru") -> str:
    """Why the family is a candidate, in ``lang``; the stored English for a row without codes (a scan
    from before the codes)."""
    code = _value(row, "reason_code", "")
    if code not in REASONS:
        return str(_value(row, "reason", ""))
    tr = Translator(lang)
    refusal = label("refusal_short", _value(row, "refusal_reason", ""), lang)
    return tr(
        REASONS[code],
        gap=tr.percent(round(abs(float(_value(row, "need_gap", 0.0))), 2)),
        probability=_two(tr, _value(row, "probability", 0.0)),
        refusal=refusal,
        quarter=_quarter(_value(row, "visit_entitled_quarter", ""), lang),
    )


def offer_reason_text(row: Mapping, lang: str = "ru", min_probability: float = 0.5) -> str:
    """Why the family was (or was not) offered a visit, in ``lang``; the stored English for a row
    without codes."""
    code = _value(row, "offer_code", "")
    if code not in OFFER_REASONS:
        return str(_value(row, "offer_reason", "") or "")
    tr = Translator(lang)
    text = tr(
        OFFER_REASONS[code],
        probability=_two(tr, _value(row, "probability_entitled", 0.0)),
        minimum=_two(tr, min_probability),
        rank=tr.number(int(_value(row, "rank", 0))),
        capacity=tr.number(int(_value(row, "capacity", 0))),
    )
    visit = _quarter(_value(row, "visit_entitled_quarter", ""), lang)
    if visit:
        text = f"{text}; {tr(VISIT_NOTE, quarter=visit)}"
    return text
