"""Messages that pages translate from codes or data at run time (``t(asset)``, ``t(m.role)``), which no
extractor can find in the code: listed here, one module per catalog, so that `make i18n` keeps them
(babel-vision.cfg and babel-plans.cfg read these modules). Nothing imports them."""
