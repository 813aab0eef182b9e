"""Atauly: targeted social assistance (ASP) for Kazakhstan.

Rooms (see docs and DESIGN.md): ``registry`` (data contract), ``law`` (ASP law on OpenFisca),
``cli`` (the ``atauly`` command). ``settings`` and ``i18n`` are leaves any room may import.
"""

__version__ = "0.1.0"
