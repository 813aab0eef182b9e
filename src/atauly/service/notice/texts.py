"""What the notice says in fixed words: the labels of codes as the family reads them, the law's grounds for
refusal in plain words, and the texts on appeal, correction and the sources of the data.

The appeal text is deliberately general: the project's sources do not give the appeal procedure for ASP
(articles, deadlines, the body to address). **To be confirmed by the Ministry's lawyers** (see
``APPEAL_TEXT`` and docs/service.md)."""

from __future__ import annotations

from atauly.i18n import N_

ROLE_LABELS = {
    "applicant": N_("applicant"),
    "spouse": N_("spouse"),
    "child": N_("child"),
    "other": N_("other family member"),
}
SEX_LABELS = {"M": N_("male"), "F": N_("female")}
EMPLOYMENT_LABELS = {
    "employee": N_("employee"),
    "self_employed": N_("self-employed or entrepreneur"),
    "registered_unemployed": N_("registered as unemployed"),
    "not_working": N_("not working"),
    "student_full_time": N_("full-time student"),
    "pensioner": N_("pensioner"),
    "caring_child_under_3": N_("caring for a child under 3"),
    "caring_disabled": N_("caring for a person with a disability"),
    "caring_elderly": N_("caring for an elderly person"),
    "maternity_leave": N_("maternity leave"),
}
CORRECTABLE_LABELS = {
    "family": N_("family details"),
    "persons": N_("members of the family"),
    "incomes": N_("incomes"),
    "assets": N_("property"),
    "disability": N_("disability"),
    "employment": N_("employment"),
    "other": N_("other"),
}
#: The law's grounds for refusal (atauly.law, refusal_reason), said to the family in plain words.
REFUSAL_PLAIN = {
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

# Appeal: the sources in this project (docs/shared domain notes, the law parameters' references) do not
# state the appeal procedure for ASP decisions. The text names the general routes only — a complaint to the
# higher administrative body or official, or the court, under the Administrative Procedural Code — with no
# article numbers or deadlines. TO BE CONFIRMED BY THE MINISTRY'S LAWYERS before the notice is used.
APPEAL_TEXT = N_(
    "If you disagree with a decision on your application, you may appeal against it: file a complaint with "
    "the higher administrative body (the higher official), or go to court, in the manner set by the "
    "Administrative Procedural Code of the Republic of Kazakhstan."
)
APPEAL_HOW = N_(
    "Ask the akimat where you applied where to send the complaint and the time limit for it. Quote application "
    "No. {id} and attach this notice."
)
# Corrections: the district akimat (the authorised body for ASP, Social Code) through its department of
# employment and social programmes, or the employment centre where the application was made (egov.kz
# pass166_mtszn). Recording the request reopens the case (casework.request_correction). Online correction
# through eGov is not sourced, so it is not offered here.
CORRECTION_TEXT = N_(
    "If any information about your family in this notice is wrong, incomplete or out of date, you may ask "
    "for it to be corrected. Apply to the akimat of the district (its department of employment and social "
    "programmes) or to the employment centre where you applied, quote application No. {id}, and bring "
    "documents that show the correct information."
)
CORRECTION_EFFECT = N_(
    "Your request is recorded against this application and the application is reopened: it is considered "
    "again on the corrected data and decided anew."
)
SOURCES_TEXT = N_(
    "Where the data comes from: what you stated in the application, and records of state databases received "
    "through the e-government gateway (identity documents, registration, births, marriages, disability and "
    "others) and the Digital Family Map. Incomes are determined from the application, the Digital Family Map "
    "and organisations (Social Code Art. 127)."
)
