"""What the notice says in fixed words: the texts on appeal, correction and the sources of the data (the
labels of codes, and the law's grounds for refusal in plain words, are in :mod:`atauly.registry.labels`).

The appeal text is deliberately general: the project's sources do not give the appeal procedure for ASP
(articles, deadlines, the body to address). **To be confirmed by the Ministry's lawyers** (see
``APPEAL_TEXT`` and docs/service.md)."""

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
