"""Parameters of the synthetic registry. Each says where it comes from: a source in the fact sheet, or
"assumption" (a modelling choice to be revisited when real data arrives). docs/synthetic-data.md lists them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SyntheticParams:
    quarter: str = "2025Q3"  # "current" quarter; truth incomes are those of the preceding quarter
    # Household size: an explicit distribution over sizes 1, 2, 3… (shares of households), one for towns and
    # one for villages — assumption, tuned to three published figures at once: ≈3 members in towns and ≈4
    # in villages, 26% of people in households of 5+ (fact sheet §5.7: mgorod.kz 2021-11-24; newsline.kz
    # 1031022), and 6.3M families (DFM, inbuh.kz 263). The one-parameter 1 + Poisson(λ) used before could
    # not match the means and the share of large households together (it gave ≈7.0M families). Matching
    # both needs fewer one-person households and a thinner tail than a Poisson: the tables give ≈2.9 / ≈3.9.
    household_size_urban: tuple[float, ...] = (0.15, 0.24, 0.30, 0.24, 0.05, 0.015, 0.005)
    household_size_rural: tuple[float, ...] = (0.06, 0.12, 0.19, 0.355, 0.17, 0.06, 0.03, 0.01, 0.003, 0.002)
    large_family_regions: tuple[str, ...] = ("turkestan", "shymkent", "kyzylorda", "zhambyl", "mangystau")
    # Assumption: the south and west have larger households; there the share of size s is weighted by
    # tilt^(s-1) (then renormalised), which shifts the whole distribution up rather than adding a tail.
    large_family_tilt: float = 1.1
    spouse_share: float = 0.72  # families of 2+ with a spouse — assumption
    adult_child_share: float = (
        0.15  # children aged 18–24 still living with parents (when parents are old enough)
    )
    # Disability: ≈543k benefit recipients (1 Dec 2025, fact sheet §5.11) ≈ 2.7% of people.
    disability_child: float = 0.015  # assumption
    disability_adult: float = 0.032  # assumption
    disability_elderly: float = 0.06  # assumption
    disability_groups: tuple[float, float, float] = (0.10, 0.40, 0.50)  # I, II, III — assumption
    # Employment of working-age adults (assumptions; BNS labour statistics not in the fact sheet).
    employee_urban: float = 0.62
    employee_rural: float = 0.42
    self_employed_urban: float = 0.12
    self_employed_rural: float = 0.24
    registered_unemployed: float = 0.04
    head_employment_boost: float = 1.3  # heads of families: employment rates × this — assumption
    student_18_22: float = 0.45
    informal_share_not_working: float = 0.30  # adults without formal work who earn informally — assumption
    informal_share_self_employed: float = 0.50
    # Informal lifting out of poverty favours small families (weight size^-exponent) — assumption. With 2.5,
    # 76% of poor people live in households of 5+ (fact sheet §5.7: 889.2k of 1,027.4k = 86.5%, Q2 2024)
    # and recipient families have ≈5.4 members (5.3 in 2023–2025, §5.1), at full scale, seed 1. The
    # earlier 2.0 gave ≈5.1–5.2 members with the household size tables above (scale 0.05).
    lift_size_exponent: float = 2.5
    informal_share_idle_families: float = 0.90  # heads of families with no other money — assumption
    # Money, KZT per month, 2025 (fact sheet §5.9–5.11 where named).
    wage_median: float = 260_000.0  # assumption, below the mean wage 403,251 (Q2 2024, daul-info 174014)
    wage_sigma: float = 0.55
    self_employment_median: float = 110_000.0  # assumption
    informal_median: float = 70_000.0  # assumption
    minimum_wage: float = 85_000.0  # 2025 (fact sheet §5.10)
    min_pension: float = 62_771.0  # 2025 (fact sheet §5.10)
    pension_extra_median: float = 45_000.0  # assumption: pensions above the minimum
    disability_benefit: tuple[float, float, float] = (101_702.0, 81_362.0, 55_474.0)  # 2025, §5.11
    child_disability_benefit: float = 74_428.0  # 2025, from childhood group III, §5.11 (used for children)
    large_family_benefit: tuple[float, float, float, float] = (
        63_030.0,
        78_798.0,
        94_565.0,
        110_332.0,
    )  # 4..7
    large_family_per_child_8plus: float = 15_728.0  # 2025, §5.11
    childcare_benefit: float = 30_000.0  # assumption: unemployed mother's benefit for a child under 1.5
    alimony_share: float = 0.30  # single parents receiving alimony — assumption
    alimony_median: float = 40_000.0
    scholarship_share: float = 0.5
    scholarship: float = 40_000.0  # assumption
    livestock_share_rural: float = 0.35
    livestock_median: float = 20_000.0
    loan_share: float = 0.06  # families taking a non-mortgage loan in the quarter — assumption
    loan_median: float = 300_000.0
    # Regional earning levels (relative), before the calibration to regional poverty rates.
    region_wage_level: dict[str, float] = field(
        default_factory=lambda: {
            "atyrau": 1.8,
            "mangystau": 1.4,
            "almaty": 1.4,
            "astana": 1.4,
            "turkestan": 0.6,
            "shymkent": 0.75,
            "zhambyl": 0.7,
            "kyzylorda": 0.8,
            "zhetisu": 0.75,
            "abai": 0.8,
            "almaty_region": 0.85,
        }
    )
    # Subsistence minimum used to measure the poverty rate of the truth: national BNS Q2 2025 (§1.4).
    poverty_subsistence_minimum: float = 56_208.0
    # Assets (assumptions; 86.8% own their dwelling, fact sheet §5.7).
    own_dwelling: float = 0.868
    second_dwelling: float = 0.06
    vehicle_base: float = 0.30
    # Recorded view (what state databases show) — assumptions.
    stale_share: float = 0.20  # persons whose records are 1–4 quarters old (issue 14: 10–20%)
    # A stale record stays stale (one quarter older) the next quarter with this chance, else it is updated
    # (dynamics.record_ages: a chain drawn forwards; at most 4 quarters old) — assumption. 1: a record
    # that falls behind is brought up to date only at the yearly reconciliation, 4 quarters on, so the
    # ages of the stale records are uniform over 1–4 in every quarter, as in the one-snapshot world
    # before. (0.75, tried, gave younger stale records — closer to the truth — and a records-only forest
    # at the acceptance check's limit, ROC-AUC 0.930 against the truth.)
    stale_persistence: float = 1.0
    stale_job_change: float = 0.35  # of stale records, share where the job situation changed since
    vehicle_unrecorded: float = 0.10
    livestock_unrecorded: float = 0.30
    land_unrecorded: float = 0.20
    # Assets over the history window (dynamics.asset_paths) — assumptions: a family buys or sells a car
    # with this chance a quarter (≈6% a year; Kazakhstan registers ≈0.2M new and ≈0.9M used-car sales a
    # year for ≈6.3M families, so a few % of families change cars a year), and a herd changes by a log step
    # of this σ a quarter (births, sales and slaughter). Dwellings and land are held fixed.
    vehicle_change_rate: float = 0.015
    livestock_sigma: float = 0.15
    # Applications and decisions (assumptions, to be calibrated against the ASP recipient targets).
    history_quarters: int = 8
    income_drift_sigma: float = 0.04  # family earnings drift per quarter back (log scale)
    quarterly_growth: float = 1.02
    takeup_intercept: float = -4.8  # calibrated to the ASP stock on 1 Jun 2025 (45.2k families, §5.1)
    takeup_need: float = 6.0  # take-up rises with the perceived gap to the line (smoothly, no cut)…
    takeup_size: float = 2.0  # …and with family size (large families know the programme)
    takeup_rural: float = 0.3  # …and falls with distance (rural families)
    # …and is lower in Astana and Almaty (fewer recipients there than their poverty suggests:
    # Almaty 1,819 families in 2025, fact sheet §5.3) — assumption calibrated to the Aug 2023 shares.
    takeup_city: float = 1.8
    cities: tuple[str, ...] = ("710000000", "750000000")
    # Regional take-up shifts (logit) — assumption calibrated at full scale (seed 1) to the regional shares
    # of recipient families (1 Aug 2023, fact sheet §5.3): the south applies more, the industrial north and
    # west less. Regions without a published share are kept below the sixth-largest published one
    # (Zhetisu, 6.0%) and above the fourth-smallest (Karaganda, 1.6%), as the published ranking implies.
    takeup_region_shift: dict[str, float] = field(
        default_factory=lambda: {
            "610000000": 1.33,  # Turkestan
            "790000000": 1.44,  # Shymkent
            # Kyzylorda: take-up is saturated (a shift of 3.5 instead of 2.4 adds only 6% more recipients);
            # its share is reached through its assumed poverty rate (8%, geography.py), not this shift.
            "430000000": 2.5,
            "310000000": -1.59,  # Zhambyl
            "190000000": 0.57,  # Almaty Region
            "330000000": 0.67,  # Zhetisu
            "350000000": -3.36,  # Karaganda
            "230000000": -3.84,  # Atyrau
            "620000000": -3.01,  # Ulytau
            "590000000": -2.11,  # North Kazakhstan
            "550000000": -0.6,  # Pavlodar
            "390000000": -0.6,  # Kostanay
            "110000000": -0.4,  # Akmola
            "630000000": -0.6,  # East Kazakhstan
            "270000000": -0.4,  # West Kazakhstan
            "150000000": -0.3,  # Aktobe
            "750000000": -1.12,  # Almaty city (on top of takeup_city)
            "470000000": -0.64,  # Mangystau
        }
    )
    family_takeup_sigma: float = 1.5  # persistent family propensity to apply (logit), so recipients stay on
    lift_formal_share: float = 0.5  # share of the lift out of poverty that is formal (recorded) income
    officer_error_range: tuple[float, float] = (0.01, 0.06)  # per-district error rate of officers
    # What applicants declare and what the home visit finds — assumptions. Drawn once per family and kept
    # every quarter (the same habits, the same home), so that eligibility does not flicker from quarter to
    # quarter when nothing changed (few families come and go within a year, fact sheet §5.1).
    declared_informal_max: float = 0.5  # applicants declare up to this share of their informal income
    visit_reveals_assets: float = 0.5  # the home visit finds unrecorded vehicles, land and livestock
    # The visit finds no need above this many poverty lines of consumption per adult equivalent (as
    # docs/synthetic-data.md always said). It was 1.5, a value kept from when it compared income per
    # member: consumption per adult equivalent is ~1.3–2× income per member in large families, so 1.5
    # refused a third of the truly entitled applicants on the visit alone — assumption.
    commission_no_need_above: float = 2.0
    # Share of families whose application draw is new each quarter — assumption (was 0.10: with the draw
    # renewed that often too many families came and went within a year, fact sheet §5.1).
    takeup_fresh_draw: float = 0.03
    # Recipients of the last quarter who are still below their own line re-apply with this probability,
    # whatever their draw (ASP is assigned for a quarter; few recipients leave during a year: 54.4k families
    # over 2025 for 45.2k on 1 Jun, fact sheet §5.1) — assumption.
    recipients_reapply: float = 0.95

    # -- Hidden need (issue 14): income the state does not see, driven by things it partly sees ----------
    # Informal employment as a share of all employment: 12.8% in 2023 (BNS labour force survey, the
    # official figure named in issue 14). ILO-based and survey estimates put it at ~30–36%: the
    # high-informality sensitivity (``SyntheticParams.high_informality()``) uses 0.33.
    informal_employment_share: float = 0.128
    # Who works informally: a logit weight on proxies the records partly show (assumption; the signs follow
    # the ILO's "Women and men in the informal economy" 2018 profile: rural, less educated, young workers
    # and the self-employed are more often informal). The base rate is solved so that the share above holds.
    informal_weight_rural: float = 0.6
    informal_weight_low_education: float = 0.5
    informal_weight_higher_education: float = -0.5
    informal_weight_young: float = 0.3  # aged under 30
    informal_weight_self_employed: float = 1.0
    # Of the informally employed, this share had no recorded job at all (casual work by people the records
    # show as not working); the rest hold a job the records show as not existing — assumption.
    informal_from_not_working: float = 0.5
    # Envelope wages: formal employees recorded near the minimum wage, topped up in cash. No Kazakh figure
    # is published; Special Eurobarometer 498 (2019) finds 3% of EU employees paid so, 5–10% in the east of
    # the EU — assumption 8%, more often where informality is more likely (same proxy weights).
    envelope_share: float = 0.08
    envelope_recorded_max: float = 1.3  # recorded wage: 1.0–1.3 minimum wages (assumption)
    # Self-employment income under-reported to the tax records: the recorded share of it is uniform in
    # [min, 1] (assumption; Pissarides & Weber 1989 find the self-employed report ~2/3 of their income).
    self_employment_reported_min: float = 0.35
    # Quarterly transitory shock on informal and self-employment income (log σ; issue 14's 0.2–0.3,
    # consistent with household-panel estimates of transitory earnings variance) — also used in the history.
    informal_shock_sigma: float = 0.25
    # …persistent from quarter to quarter: an AR(1) in logs with this coefficient (assumption; transitory
    # earnings shocks are serially correlated over short horizons — Meghir & Pistaferri 2004 find an MA
    # component at annual frequency, so within a year a quarterly shock partly carries over). With 0 a
    # family's declared income flickered across the line from one quarter to the next, and the families
    # approved over a year were 1.4× the quarter's stock against 1.2× published (fact sheet §5.1).
    informal_shock_persistence: float = 0.7
    # Multiplicative noise on hidden income (log σ) on top of what its proxies explain — assumption, tuned so
    # that the R² of log true consumption on record-based proxies is 0.4–0.6 (proxy-means-test regressions
    # reach that range: Brown, Ravallion & van de Walle 2018). `registry calibrate` reports the measured R².
    hidden_income_sigma: float = 0.5
    # Livestock income per head a month (assumption: a few thousand tenge a head of net product).
    livestock_income_per_head: float = 5_000.0
    # Remittances from relatives working elsewhere — assumption: 4% of families (rural and south more
    # often), median 50k ₸ a month. Stored as source "other"; state databases do not see them.
    remittance_share: float = 0.04
    remittance_median: float = 50_000.0
    # Consumption (the second notion of need): per adult equivalent (OECD-modified scale: 1, 0.5 per other
    # member aged 14+, 0.3 per child under 14), from smoothed income (the quarter's transitory shock
    # removed) + transfers + remittances − debt service (a monthly payment of this share of the non-mortgage
    # loan balance: ~3-year consumer credit at ~25% a year — assumption), times a household shock (log σ,
    # assumption: health spending, prices, tastes). Consumption poverty: below ``consumption_line_sm``
    # subsistence minima per adult equivalent (assumption).
    debt_service_share: float = 0.04
    consumption_shock_sigma: float = 0.10
    consumption_line_sm: float = 1.0
    # Records that lag in both directions (issue 14; assumptions). Alimony awarded and recorded but not
    # paid: in this share of single parents receiving none, the records still show it. Absent members still
    # registered: adults aged 18–40 other than the head and spouse who left (work elsewhere), counted by the
    # records with their recorded wages where they work formally.
    alimony_unpaid_share: float = 0.30
    absent_member_share: float = 0.10
    # Home visit: it sees a noisy signal of the family's consumption (log σ, per family: the same home each
    # quarter) and finds "no need" above ``commission_no_need_above`` poverty lines per adult equivalent;
    # σ is set so that the visit is right about ~80% of visited families (issue 14: 75–85%; assumption).
    visit_sigma: float = 0.5
    # Officer error: a district leniency (``officer_error_range``) times a case factor (exp of these logit
    # weights) — harder cases are self-employed, rural and large families (assumption).
    officer_error_self_employed: float = 0.5
    officer_error_rural: float = 0.3
    officer_error_large_family: float = 0.3
    # An officer's error on a family is mostly the same quarter after quarter (the same social worker and
    # file): the family's error draw is renewed with this chance a quarter — assumption. The error rate of
    # each quarter is unchanged; with a fresh draw each quarter, 5% of recipients were refused by error
    # and re-approved the next quarter, turnover the published year does not show (§5.1).
    officer_error_fresh: float = 0.25
    # Automation bias: from this quarter on, officers see a recommendation (the law on the records alone, as
    # the proactive scan gives it) and follow it against their own reading with this probability (the AI
    # Act's Art. 14 warns of it; the share is an assumption). None: no recommendation in the history.
    recommendations_from: str | None = None
    automation_bias: float = 0.3
    # Take-up: a smooth logistic in true and perceived need (no cut at the line); perceived need is true
    # need plus a persistent family error (log σ, assumption).
    perceived_need_sigma: float = 0.3
    # Dynamics over the history window (dynamics.py). Job loss 2–3% a quarter (issue 14; labour-flow
    # magnitudes of middle-income countries), 2.5% here — assumption; onset of disability 1% a quarter of
    # today's disabled within the window — assumption.
    job_loss_rate: float = 0.025
    disability_onset_rate: float = 0.01
    # Before finding their current job, people got by on informal work at this share of their pay
    # (assumption: few jobless spells have no money at all; without it the past is much poorer than today).
    pre_job_informal_share: float = 0.5
    # The verification sample: each quarter a random share of all families has its true welfare verified
    # (as a household budget survey linked to the registry would give): ``verification/``.
    verification_share: float = 0.01
    # …and a stratified second part: families whose records show an income per member below the line
    # are drawn again at this share each quarter (household surveys oversample the poor the same way;
    # the share is an assumption). Entitled families that did not apply are rare (~0.5% of families):
    # a 1% simple random sample of a small registry holds too few of them to train or calibrate the
    # scan's model. The stratum is a function of the records alone, so a model of P(entitled | records)
    # trained on the whole sample is unbiased; population figures use the random part or the weights.
    verification_oversample_share: float = 0.05

    @classmethod
    def high_informality(cls, **changes) -> SyntheticParams:
        """The high-informality sensitivity: 33% of employment informal (ILO-based and survey estimates of
        ~30–36% for Kazakhstan), everything else unchanged."""
        return cls(**{"informal_employment_share": 0.33, **changes})
