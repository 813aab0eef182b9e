"""What the notice says in fixed words: the texts on appeal, correction and the sources of the data (the
labels of codes, and the law's grounds for refusal in plain words, are in :mod:`atauly.registry.labels`).

The appeal period and venue follow the general rule of the Administrative Procedural Code (APPK, Code of
29 June 2020 No. 350-VI) for an administrative act: a complaint filed with the body whose act is appealed
(Art. 91 p.4), which passes it to the body that considers it (Art. 91 p.3), within three months of the day
the person learnt of the act; a term missed for a good reason (illness, force majeure) may be restored
(Art. 92 p.1–2); then the administrative court. Read here from the Code's unofficial English translation
(adilet.zan.kz/eng/docs/K2000000350, quoted at rimap.unhcr.org/node/75501) and zakonpravo.kz (Art. 91).
The project's domain notes (shared/domain/asp-kazakhstan.md) hold no appeal rule for ASP, and neither says
whether a special rule of the Social Code applies to ASP decisions: **TO VERIFY by the Ministry's lawyers**
(``APPEAL_MONTHS`` and docs/service.md, "The decision notice"). Until then the notice also tells the family
where to ask (``APPEAL_HELP``)."""

from __future__ import annotations

from atauly.i18n import N_

# Appeal: the sources in this project (docs/shared domain notes, the law parameters' references) do not
# state the appeal procedure for ASP decisions. The text names the general routes only — a complaint to the
# higher administrative body or official, or the court, under the Administrative Procedural Code — with no
# article numbers or deadlines. TO BE CONFIRMED BY THE MINISTRY'S LAWYERS before the notice is used.
APPEAL_TEXT = N_(
    "If you disagree with a decision on your application, you may appeal against it: file a complaint with "
    "the higher administrative body (the higher official), or go to court, in the manner set by the "
    "Administrative Procedural Code of the Republic of Kazakhstan."
)
#: Months to file a complaint: APPK (Administrative Procedural Code of the RK, 2020) Art. 92 p.1 — the general
#: rule for administrative acts (Art. 91 was cited here before: it sets the procedure, not the term). TO BE
#: VERIFIED for ASP decisions (not in the project's domain notes).
APPEAL_MONTHS = 3
APPEAL_DEADLINE = N_(
    "Within {months} months of the day you learnt of the decision, for example the day you received this "
    "notice (Administrative Procedural Code, Art. 92). If you miss it for a good reason, such as illness, ask "
    "for the time limit to be restored."
)
APPEAL_VENUE = N_(
    "Hand or send the complaint to the akimat that took the decision ({authority}); it passes the complaint "
    "to the body that considers it. Quote application No. {id} and attach this notice. If you disagree with "
    "the answer to the complaint, you may go to the administrative court."
)
#: Where the family asks about appealing: the akimat's department (its contacts are on the notice) or the
#: national line for public services (notice/contacts.py) — the same places whatever the rule turns out to be.
APPEAL_HELP = N_(
    "Ask the department of employment and social programmes of the akimat (see Contacts below) or the contact "
    "centre for public services 1414 how to file a complaint and by when."
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

# What happens next, for each state of the application (the notice's "What happens next" section).
NEXT_STEPS = {
    "approved": [
        N_("The assistance is paid monthly for the period stated above, into the account you gave."),
        N_(
            "Tell the akimat of any change in your family's members, incomes or property: the assistance may "
            "be reconsidered."
        ),
        N_("To receive assistance for a later quarter, apply again when this period ends."),
    ],
    "rejected": [
        N_("You may apply again at any time, for example when your family's incomes or members change."),
        N_(
            "If you think the decision is wrong, appeal against it (see below) or ask for the data to be corrected."
        ),
    ],
    "pending": [
        N_("The akimat considers the application and decides by the date stated above."),
        N_(
            "You will receive a notice of the decision, with the amount and period or the reason for a refusal."
        ),
    ],
    "home_visit": [
        N_("Members of the district commission will visit your home to survey its living conditions."),
        N_("After the survey the akimat decides; you will receive a notice of the decision."),
    ],
    "reopened": [
        N_("The application is considered again on the corrected data."),
        N_("You will receive a new notice of the decision."),
    ],
}
