"""The asset codes photos.html translates with ``t(f.asset)`` (catalog vision.po; see __init__)."""

from atauly.i18n import N_

ASSETS = (
    N_("vehicle"),
    N_("tractor"),
    N_("livestock"),
    N_("appliances"),
    N_("electronics"),
    N_("furniture"),
    N_("dwelling_barn"),
    N_("dwelling_mobile_home"),
    N_("dwelling_stone_wall"),
    N_("dwelling_thatched_roof"),
    N_("dwelling_tile_roof"),
    N_("dwelling_yurt"),
)
