"""The explanation's messages (extracted into the atauly catalog; translated to ru, kk and en). The labels of
codes (grounds for refusal, roles, employment, income sources) are :mod:`atauly.registry.labels`."""

from atauly.i18n import N_

#: What the asset rules rest on: no legal act was found, only an official's public statement.
ASSET_BASIS = N_(
    "No legal act setting this asset rule was found: it rests on an official statement (Astana city "
    "administration, January 2020) and is kept as a parameter a lawyer can change"
)
#: Plain-language notes on the parameters used, citing the legal act (the research trail is in "sources").
LEGAL_NOTES = {
    "poverty_line.share_of_subsistence_minimum": N_(
        "The poverty line is a share of the subsistence minimum: {value} (Social Code Art. 120; Order of the "
        "Minister of Labour No. 160 of 19 May 2023, amended by No. 473 of 20 Dec 2024; before July 2023, "
        "Law No. 246 of 17 Jul 2001 and the orders of the time)"
    ),
    "poverty_line.share_of_median_income": N_(
        "Since 1 January 2025 the line is at least {value} of the median income (Order No. 473 of 20 Dec 2024)"
    ),
    "subsistence_minimum": N_(
        "The subsistence minimum is the one computed by the Bureau of National Statistics for the quarter "
        "before the application; where it is not published, the value of the law on the republican budget "
        "(Order No. 160 p.1)"
    ),
    "income.excluded": N_(
        "Income not counted: {source} (rules for calculating total income, Order No. 181 of 26 May 2023)"
    ),
    "sanctions.months": N_("The ban lasts {value} months (Social Code Art. 128 p.4–5)"),
    "assets.max_dwellings": N_("Dwellings allowed: {value}"),
    "assets.vehicle_disqualifies": N_("A motor vehicle bars ASP unless the family has a disabled child"),
    "child_guarantee.share_of_subsistence_minimum": N_(
        "In 2019 every child was guaranteed {value} of the subsistence minimum (the 2019 reform)"
    ),
    "child_supplement.mrp_per_child": N_(
        "Supplement for each child aged 1–6: {value} MRP a month (monetised social package, from 2023)"
    ),
    "general.mrp": N_("The monthly calculation index (MRP) is {value} (law on the republican budget)"),
}
LEGAL_HEADING = N_("Legal basis:")
SOURCES_HEADING = N_("Sources, for checking (parameters and research notes):")
SM_SOURCE_TEXT = {
    "regional_bns": N_("regional BNS value for {quarter}"),
    "national_bns": N_("national BNS value for {quarter}: the regional value is not published"),
    "budget": N_("budget-law value: no BNS value is published for {quarter}"),
}
TYPE_TEXT = {
    "unconditional": N_(
        "Unconditional assistance: no able-bodied member, or the only one cares for a child, a disabled or an elderly person (Art. 122)"
    ),
    "conditional": N_(
        "Conditional assistance: {n} able-bodied member(s) take part in employment measures under a social contract (Art. 122)"
    ),
}
CONDITIONAL_WITH_CARER = N_(
    "Conditional assistance: {n} able-bodied member(s) take part in employment measures under a social "
    "contract; {carers} carer(s) exempt (Art. 122)"
)
