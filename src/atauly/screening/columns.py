"""The scan's output columns, declared once: ``candidates/`` and ``summary/`` (docs/screening.md)."""

from __future__ import annotations

#: Output columns of ``candidates/`` (issue 6's contract), then extra columns.
CANDIDATE_COLUMNS = [
    "family_id",
    "district",
    "region",
    "rank",
    "eligible_by_law",
    "probability",
    "wellbeing_level",
    "reason",
]
EXTRA_COLUMNS = [
    "members",
    "per_capita_income",
    "poverty_line",
    "monthly_amount",
    "need_gap",
    "offered",  # issue 15: within the district's capacity and above the minimum probability
    "probability_entitled",  # the population-calibrated probability (NaN for a model that is not)
    "capacity",  # the district's offers (home visits) this quarter
    "offer_reason",  # why the family was (or was not) offered, for the officer
    "scan_score",  # the score the scan's map reads (the forest's; out-of-fold for its training families)
    # The quarter of an earlier verification visit that found the family entitled, with no application
    # since ("" none): the map's history input (model.verified.visit_history).
    "visit_entitled_quarter",
    # The codes the English reasons are made of (their figures are the columns above), worded in kk/ru/en
    # by screening.wording: by_law | by_model | visit; the law's ground on the records; offered |
    # beyond_capacity | below_minimum (within_capacity | outside_capacity without calibrated probabilities).
    "reason_code",
    "refusal_reason",
    "offer_code",
    # The forecast's amount a if the family is truly entitled (₸ a month) and what it rests on: visit (an
    # earlier visit's verified income under today's line) | gap_bin (the records' amount × the sample's
    # ratio for the gap bin) | records (the law's amount on records: a model without the sample's amounts).
    "amount_if_entitled",
    "amount_basis",
]
#: The target of a model trained on the verification sample (model.verified.load_verified): its calibrated
#: probability is the population's probability of being truly entitled.
POPULATION_TARGET = "verified_entitled"
#: The scan's figures by district: what every scan writes to ``summary/`` (and the service stores).
DISTRICT_SUMMARY_COLUMNS = [
    "region",
    "district",
    "families",
    "entitled_by_law",
    "receiving",
    "applied",
    "candidates",
    "candidates_monthly_amount",
]
#: ``summary/`` of a scan with capacity-aware offers (issue 15): the district figures, then the offers'.
SUMMARY_COLUMNS = [
    *DISTRICT_SUMMARY_COLUMNS,
    "capacity",
    "offered",
    "offered_monthly_amount",  # Σ a: the law's monthly amount on records over the offered
    # Sums over the offered of p = probability_entitled and a = amount, from which the report builds its
    # forecasts and their intervals for any consent rate (screening/report.py, issue 15):
    "expected_entitled",  # Σ p
    "sum_p2",  # Σ p²
    "expected_amount",  # Σ p·a
    "sum_a2p",  # Σ a²·p
    "sum_a2p2",  # Σ a²·p²
    # Each bootstrap replicate of the scan's map (model.verified.scan_calibration): Σ p and Σ p·a over the
    # offered (lists, one value per replicate; empty for a map without replicates) — the calibration's
    # own error in the forecasts' intervals.
    "calibration_entitled",
    "calibration_amount",
]
