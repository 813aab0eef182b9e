"""Variables of the ASP law, one module per topic, each variable with a label and a legal reference.

The tax-benefit system loads every module of this package (:meth:`AspTaxBenefitSystem.add_variables_from_package`),
so a new topic is a new module here and nothing else.

Convention on periods: every formula runs for the **month of application** (for a proactive scan of
families that have not applied, the first month of the quarter). Income is counted for the calendar
quarter before the quarter of that month (Social Code Art. 127 p.2); the poverty line uses the
subsistence minimum and median income of that preceding quarter (Order MLSP No. 160 as amended by
No. 473).

    inputs           facts from the registry (data contract)
    dates            reference date, ages
    region           the region whose poverty-line values apply (regions created on 8 Jun 2022)
    household        members, disabled child
    work_ability     retirement age, disability, able-bodied members, carers
    income           counted income of the preceding quarter, per-capita income
    poverty_line     subsistence minimum, median income, the line
    eligibility      grounds for refusal, sanctions, entitlement
    assistance_type  unconditional or conditional
    amounts          monthly ASP, child guarantee (2019), child supplement, assignment
"""
