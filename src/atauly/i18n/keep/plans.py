"""Codes and words the plans' pages translate at run time (catalog plans.po; see __init__): the members'
roles and occupations (``t(m.role)`` in plans_family.html) and the MRP unit written inside an f-string in
plans/documents.py."""

from atauly.i18n import N_

ROLES = (N_("applicant"), N_("spouse"), N_("child"))
OCCUPATIONS = (N_("not working"), N_("pensioner"))
UNITS = (N_("MRP"),)
