"""Code labels: every code people read — of the data contract, the law's grounds for refusal, and the
casework — declared once, as the English text that is its message id in the catalogs (translated in
``src/atauly/i18n/locale/*/LC_MESSAGES/atauly.po``).

The codes themselves are declared where they belong (:mod:`atauly.registry.codes` for the data contract,
the law's ``refusal_reason`` variable, the service's records); this module only says how each one reads.
A page, the notice, the API and the reports show a code with :func:`label` (or by looking it up in the
kind's mapping and translating it where shown), never with a list of their own.

>>> label("employment", "pensioner", "en")
'Pensioner'
>>> label("refusal_plain", "refused_employment_measures", "en", months=6)[:40]
'A member of the family who is able to wo'
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from atauly.i18n import N_, Translator

# --- the data contract (atauly.registry.codes) ---------------------------------------------------------

#: A person's role in the family (``codes.ROLES``).
MEMBER_ROLES = {
    "applicant": N_("Applicant"),
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "other": N_("Other relative"),
}
#: ``codes.SEXES``.
SEXES = {"M": N_("Male"), "F": N_("Female")}
#: ``codes.SETTLEMENT_TYPES``.
SETTLEMENT_TYPES = {"urban": N_("Town or city"), "rural": N_("Rural area")}
#: A person's main occupation (``codes.EMPLOYMENT_STATUSES``).
EMPLOYMENT_STATUSES = {
    "employee": N_("Employee"),
    "self_employed": N_("Self-employed"),
    "registered_unemployed": N_("Registered unemployed"),
    "not_working": N_("Not working"),
    "student_full_time": N_("Full-time student"),
    "pensioner": N_("Pensioner"),
    "caring_child_under_3": N_("Caring for a child under 3"),
    "caring_disabled": N_("Caring for a disabled person"),
    "caring_elderly": N_("Caring for an elderly person"),
    "maternity_leave": N_("Maternity leave"),
}
#: ``codes.EDUCATION_LEVELS``.
EDUCATION_LEVELS = {
    "none": N_("No education"),
    "primary": N_("Primary"),
    "basic_secondary": N_("Basic secondary"),
    "general_secondary": N_("General secondary"),
    "technical_vocational": N_("Technical and vocational"),
    "higher": N_("Higher"),
}
#: Disability group (``persons.disability_group``; 0 is none and has no label).
DISABILITY_GROUPS = {1: N_("Group I"), 2: N_("Group II"), 3: N_("Group III")}
#: Income sources (``codes.INCOME_SOURCES``), as they read inside a sentence or a table.
INCOME_SOURCES = {
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

#: A family's wellbeing level (``registry.wellbeing.LEVELS``, order 267's five levels).
WELLBEING_LEVELS = {
    "A": N_("Well-off"),
    "B": N_("Satisfactory"),
    "C": N_("Unsatisfactory"),
    "D": N_("Crisis"),
    "E": N_("Emergency"),
}

# --- the law's grounds for refusal (the ``refusal_reason`` variable of atauly.law) ---------------------

#: Each ground as the law's explanation names it, with its article.
REFUSAL_REASONS = {
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
#: Each ground said to the family in plain words (the decision notice); ``{months}`` is the ban's length,
#: ``{n}`` the dwellings allowed.
REFUSAL_REASONS_PLAIN = {
    "income_above_poverty_line": N_(
        "The family's income per person is above the poverty line (Social Code Art. 128 p.1)."
    ),
    "refused_commission_survey": N_(
        "The survey of the family's living conditions by the district commission was refused "
        "(Social Code Art. 128 p.2)."
    ),
    "commission_found_no_need": N_(
        "After its survey the district commission concluded that the family is not in need "
        "(Social Code Art. 128 p.3)."
    ),
    "refused_employment_measures": N_(
        "A member of the family who is able to work refused employment measures less than {months} months "
        "ago (Social Code Art. 128 p.4)."
    ),
    "social_contract_breach": N_(
        "A social contract was terminated, or not fulfilled, through the recipient's fault less than "
        "{months} months ago (Social Code Art. 128 p.5)."
    ),
    "false_information": N_(
        "Knowingly false information or unreliable documents were submitted (Social Code Art. 128 p.6)."
    ),
    "too_many_dwellings": N_("The family owns more than {n} dwelling(s) (property rule)."),
    "owns_vehicle": N_("The family owns a motor vehicle and has no child with a disability (property rule)."),
}

#: Each ground in a few words, lower case, as it reads inside a sentence (the model's reasons, where the
#: ban's length and the dwellings allowed are not at hand).
REFUSAL_REASONS_SHORT = {
    "income_above_poverty_line": N_("per-capita income above the poverty line"),
    "owns_vehicle": N_("a motor vehicle on record"),
    "too_many_dwellings": N_("more dwellings than the rule allows"),
    "commission_found_no_need": N_("the commission found no need"),
    "refused_commission_survey": N_("the commission's survey was refused"),
    "refused_employment_measures": N_("employment measures were refused"),
    "social_contract_breach": N_("a social contract was breached"),
    "false_information": N_("false information"),
}

# --- the casework (atauly.service) -----------------------------------------------------------------------

#: A user's role in the casework service.
USER_ROLES = {
    "officer": N_("Officer"),
    "supervisor": N_("Supervisor"),
    "analyst": N_("Analyst"),
    "admin": N_("Administrator"),
}
#: The status of an application.
APPLICATION_STATUSES = {
    "new": N_("New"),
    "home_visit": N_("Home visit"),
    "reopened": N_("Reopened"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
#: A recorded decision or assessment.
OUTCOMES = {
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "home_visit": N_("Home visit"),
}
#: Why an officer departs from the recommendation (a fixed list, so that overrides can be counted).
OVERRIDE_REASONS = {
    "income_differs": N_("Verified income differs from the records"),
    "household_differs": N_("Household composition differs from the records"),
    "assets_found": N_("Assets found that the records do not show"),
    "home_visit_findings": N_("Findings of the home visit"),
    "commission_finding": N_("Conclusion of the district commission"),
    "documents_incomplete": N_("Documents incomplete or inconsistent"),
    "hardship_not_captured": N_("Hardship the data does not capture"),
    "records_outdated": N_("Records outdated or wrong"),
    "law_criteria": N_("Statutory criteria (the law's result)"),
    "other": N_("Other (explained in the comment)"),
}
#: What of a family's data a correction request can name.
CORRECTABLE_FIELDS = {
    "family": N_("Family details"),
    "persons": N_("Members of the family"),
    "incomes": N_("Incomes"),
    "assets": N_("Assets"),
    "disability": N_("Disability"),
    "employment": N_("Employment"),
    "other": N_("Other"),
}

#: The dwelling as the home-inspection act records it (the data contract's optional family columns,
#: ``codes.DWELLING_CODES``): column → (its question, {code: answer in words}). The act's page and the
#: model's reasons say them the same way.
DWELLING_ITEMS: dict[str, tuple[str, dict[str, str]]] = {
    "dwelling_type": (
        N_("Dwelling"),
        {
            "house": N_("house"),
            "apartment": N_("apartment"),
            "yurt": N_("yurt"),
            "dormitory": N_("dormitory"),
            "rented_room": N_("rented room"),
            "other": N_("other"),
        },
    ),
    "wall_material": (
        N_("Walls"),
        {
            "brick": N_("brick"),
            "concrete": N_("concrete"),
            "wood": N_("wood"),
            "adobe": N_("adobe"),
            "felt": N_("felt"),
            "other": N_("other"),
        },
    ),
    "floor_material": (
        N_("Floor"),
        {"finished": N_("finished"), "wood": N_("wood"), "earth": N_("earth"), "other": N_("other")},
    ),
    "heating": (
        N_("Heating"),
        {
            "central": N_("central"),
            "gas": N_("gas"),
            "electric": N_("electric"),
            "stove_coal": N_("stove, coal"),
            "stove_wood_or_dung": N_("stove, wood or dung"),
            "none": N_("none"),
        },
    ),
    "water": (
        N_("Water"),
        {
            "piped_inside": N_("piped, indoors"),
            "piped_yard": N_("piped, in the yard"),
            "well": N_("well"),
            "delivered": N_("delivered"),
            "none": N_("none"),
        },
    ),
    "sanitation": (
        N_("Toilet"),
        {"indoor": N_("indoors"), "outdoor": N_("outdoors"), "none": N_("none")},
    ),
}

#: Every kind of code, by name (for :func:`label`).
KINDS: dict[str, Mapping] = {
    "member_role": MEMBER_ROLES,
    "sex": SEXES,
    "settlement": SETTLEMENT_TYPES,
    "employment": EMPLOYMENT_STATUSES,
    "education": EDUCATION_LEVELS,
    "disability": DISABILITY_GROUPS,
    "income_source": INCOME_SOURCES,
    "wellbeing_level": WELLBEING_LEVELS,
    "refusal": REFUSAL_REASONS,
    "refusal_plain": REFUSAL_REASONS_PLAIN,
    "refusal_short": REFUSAL_REASONS_SHORT,
    "user_role": USER_ROLES,
    "status": APPLICATION_STATUSES,
    "outcome": OUTCOMES,
    "override_reason": OVERRIDE_REASONS,
    "correctable": CORRECTABLE_FIELDS,
}


def label(kind: str, code, lang: str = "ru", **fields) -> str:
    """The label of ``code`` in ``lang`` (``{fields}`` filled in); a code without a label reads as itself,
    so an unexpected value is shown, never hidden. An unknown ``kind`` is a programming error (KeyError)."""
    message = KINDS[kind].get(code)
    if message is None:
        return "" if code is None else str(code)
    return _translator(lang)(message, **fields)


def label_in_sentence(kind: str, code, lang: str = "ru", **fields) -> str:
    """:func:`label` as it reads inside a sentence or a list: its first letter in lower case
    ("34 years, pensioner, able-bodied"). Every label of ru, kk and en starts with a common word, so this
    changes case only, never the wording.

    >>> label_in_sentence("member_role", "spouse", "en")
    'spouse'
    """
    text = label(kind, code, lang, **fields)
    return text[:1].lower() + text[1:]


@cache
def _translator(lang: str) -> Translator:
    return Translator(lang)
