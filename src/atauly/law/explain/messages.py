"""The explanation's messages (extracted into the atauly catalog; translated to ru, kk and en)."""

from atauly.i18n import N_

REFUSAL_TEXT = {
    "income_above_poverty_line": N_("Per-capita income above the poverty line (Social Code Art. 128 p.1)"),
    "refused_commission_survey": N_("The applicant refused the commission's survey (Art. 128 p.2)"),
    "commission_found_no_need": N_("The commission found no need (Art. 128 p.3)"),
    "refused_employment_measures": N_(
        "An able-bodied member refused employment measures less than {months} months ago (Art. 128 p.4)"
    ),
    "social_contract_breach": N_(
        "A social contract was terminated through the recipient's fault less than {months} months ago (Art. 128 p.5)"
    ),
    "false_information": N_("Knowingly false information or documents (Art. 128 p.6)"),
    "too_many_dwellings": N_("The family owns more than {n} dwelling(s) (asset rule)"),
    "owns_vehicle": N_("The family owns a motor vehicle and has no disabled child (asset rule)"),
}
#: What the asset rules rest on: no legal act was found, only an official's public statement.
ASSET_BASIS = N_(
    "No legal act setting this asset rule was found: it rests on an official statement (Astana city "
    "administration, January 2020) and is kept as a parameter a lawyer can change"
)
ROLE_TEXT = {
    "applicant": N_("applicant"),
    "spouse": N_("spouse"),
    "child": N_("child"),
    "other": N_("other relative"),
}
STATUS_TEXT = {
    "employee": N_("employee"),
    "self_employed": N_("self-employed"),
    "registered_unemployed": N_("registered unemployed"),
    "not_working": N_("not working"),
    "student_full_time": N_("full-time student"),
    "pensioner": N_("pensioner"),
    "caring_child_under_3": N_("caring for a child under 3"),
    "caring_disabled": N_("caring for a disabled person"),
    "caring_elderly": N_("caring for an elderly person"),
    "maternity_leave": N_("maternity leave"),
}
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
SOURCE_LABELS = {
    "wages": N_("wages"),
    "self_employment": N_("self-employment"),
    "informal": N_("informal earnings"),
    "pension": N_("pension"),
    "large_family_benefit": N_("large-family benefit"),
    "awarded_mother_benefit": N_("benefit to awarded mothers"),
    "disability_benefit": N_("disability benefit"),
    "child_disability_benefit": N_("child disability benefit"),
    "survivor_benefit": N_("survivor benefit"),
    "childcare_benefit": N_("childcare benefit"),
    "birth_benefit": N_("birth benefit"),
    "other_benefit": N_("other benefit"),
    "alimony": N_("alimony"),
    "scholarship": N_("scholarship"),
    "livestock_land": N_("livestock and land"),
    "loans": N_("non-mortgage loans"),
    "other": N_("other income"),
}
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
