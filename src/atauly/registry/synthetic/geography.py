"""Regions and districts of the synthetic registry, with the published figures they are built on.

Every number names its source in the project fact sheet (``shared/domain/asp-kazakhstan.md``) or says
"estimate"/"assumption". Regions not covered by a published 2025 figure share the rest of the national
total in proportion to rough recent sizes (estimates, marked as such).
"""

from __future__ import annotations

from dataclasses import dataclass

NATIONAL_POPULATION_2025 = 20_286_084  # 1 Jan 2025, BNS (turantimes.kz 57276) [H]
NATIONAL_URBAN_SHARE = 12_774_743 / NATIONAL_POPULATION_2025  # same source


@dataclass(frozen=True)
class RegionStats:
    key: str
    population: int
    population_source: str
    urban_share: float  # assumption unless the region is a city
    poverty_rate: float  # share of people below the subsistence minimum (BNS), target of the calibration
    poverty_source: str


_E = "estimate: share of the national remainder (not published in the fact sheet)"
_A = "assumption: set so that the national rate is 5.3% (Q3 2025, news.mail.ru 69187241)"

REGION_STATS: tuple[RegionStats, ...] = (
    RegionStats(
        "abai",
        596_000,
        "1 Dec 2025 (zakon.kz 6503417)",
        0.55,
        0.079,
        "Q3 2025 (news.mail.ru 69187241)",
    ),
    RegionStats("akmola", 780_000, _E, 0.50, 0.040, _A),
    RegionStats("aktobe", 930_000, _E, 0.65, 0.040, _A),
    RegionStats("almaty_region", 1_560_377, "1 Jan 2025 (turantimes.kz 57276)", 0.25, 0.050, _A),
    RegionStats("atyrau", 700_000, _E, 0.55, 0.036, "Q3 2024 (samal-akparat 182404)"),
    RegionStats("west_kazakhstan", 690_000, _E, 0.55, 0.040, _A),
    RegionStats(
        "zhambyl", 1_215_892, "1 Dec 2025 (zakon.kz 6503417)", 0.42, 0.081, "Q3 2024 (samal-akparat 182404)"
    ),
    RegionStats(
        "zhetisu",
        690_000,
        _E + "; ≈689.6k at 1 Sep 2025 [L]",
        0.40,
        0.078,
        "Q2 2024 (kokshetau.asia)",
    ),
    RegionStats(
        "karaganda", 1_131_438, "1 Dec 2025 (zakon.kz 6503417)", 0.80, 0.033, "Q3 2024 (samal-akparat 182404)"
    ),
    RegionStats("kostanay", 830_000, _E, 0.55, 0.040, _A),
    # Poverty rate not retrieved: 8% (like neighbouring Zhambyl 8.1% and Turkestan 9.0%) — an assumption
    # inferred from Kyzylorda's 8.6% share of ASP recipient families (1 Aug 2023, fact sheet §5.3), the
    # third largest; at 5.5% the region could not reach that share at any take-up.
    RegionStats(
        "kyzylorda",
        830_000,
        _E,
        0.45,
        0.080,
        "assumption: inferred from its 8.6% share of ASP recipient families",
    ),
    RegionStats("mangystau", 790_000, _E, 0.45, 0.082, "Q3 2025 (news.mail.ru 69187241)"),
    RegionStats("pavlodar", 750_000, _E, 0.70, 0.035, _A),
    RegionStats("north_kazakhstan", 514_732, "1 Dec 2025 (tengrinews 589638)", 0.45, 0.040, _A),
    RegionStats(
        "turkestan",
        2_154_334,
        "1 Jan 2025 (turantimes.kz 57276)",
        0.20,
        0.090,
        "Q3 2025 (news.mail.ru 69187241)",
    ),
    RegionStats("ulytau", 221_317, "1 Jan 2025 (turantimes.kz 57276)", 0.75, 0.040, _A),
    RegionStats("east_kazakhstan", 730_000, _E, 0.65, 0.040, _A),
    RegionStats(
        "astana",
        1_630_640,
        "1 Dec 2025 (zakon.kz 6503417)",
        1.0,
        0.027,
        "Q3 2025 (news.mail.ru 69187241)",
    ),
    RegionStats(
        "almaty",
        2_292_333,
        "1 Jan 2025 (turantimes.kz 57276)",
        1.0,
        0.050,
        "Q3 2025 (news.mail.ru 69187241)",
    ),
    RegionStats(
        "shymkent",
        1_291_011,
        "1 Dec 2025 (zakon.kz 6503417)",
        1.0,
        0.066,
        "Q3 2025 (news.mail.ru 69187241)",
    ),
)
STATS_BY_KEY = {s.key: s for s in REGION_STATS}
