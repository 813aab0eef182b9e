"""Codes of the data contract: regions (KATO), sexes, roles, employment, education, income sources.

KATO (Классификатор административно-территориальных объектов) codes are 9 digits; a region's code is
its two-digit prefix followed by seven zeros, and a district's code starts with its region's prefix.
The 20 regions are the 17 oblasts and 3 cities of republican significance in force since 8 Jun 2022
(fact sheet §5.5). The district catalogue is below (its codes are generated, see ``District``); the
validator checks a district code structurally (9 digits, the region's prefix, not the region code itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Region:
    kato: str  # 9-digit KATO code of the region
    key: str  # stable identifier used by the law's parameters
    name_kk: str
    name_ru: str
    name_en: str
    is_city: bool = False

    @property
    def prefix(self) -> str:
        return self.kato[:2]


REGIONS: tuple[Region, ...] = (
    Region("100000000", "abai", "Абай облысы", "Абайская область", "Abai Region"),
    Region("110000000", "akmola", "Ақмола облысы", "Акмолинская область", "Akmola Region"),
    Region("150000000", "aktobe", "Ақтөбе облысы", "Актюбинская область", "Aktobe Region"),
    Region("190000000", "almaty_region", "Алматы облысы", "Алматинская область", "Almaty Region"),
    Region("230000000", "atyrau", "Атырау облысы", "Атырауская область", "Atyrau Region"),
    Region(
        "270000000",
        "west_kazakhstan",
        "Батыс Қазақстан облысы",
        "Западно-Казахстанская область",
        "West Kazakhstan Region",
    ),
    Region("310000000", "zhambyl", "Жамбыл облысы", "Жамбылская область", "Zhambyl Region"),
    Region("330000000", "zhetisu", "Жетісу облысы", "Жетысуская область", "Zhetisu Region"),
    Region("350000000", "karaganda", "Қарағанды облысы", "Карагандинская область", "Karaganda Region"),
    Region("390000000", "kostanay", "Қостанай облысы", "Костанайская область", "Kostanay Region"),
    Region("430000000", "kyzylorda", "Қызылорда облысы", "Кызылординская область", "Kyzylorda Region"),
    Region("470000000", "mangystau", "Маңғыстау облысы", "Мангистауская область", "Mangystau Region"),
    Region("550000000", "pavlodar", "Павлодар облысы", "Павлодарская область", "Pavlodar Region"),
    Region(
        "590000000",
        "north_kazakhstan",
        "Солтүстік Қазақстан облысы",
        "Северо-Казахстанская область",
        "North Kazakhstan Region",
    ),
    Region("610000000", "turkestan", "Түркістан облысы", "Туркестанская область", "Turkestan Region"),
    Region("620000000", "ulytau", "Ұлытау облысы", "Улытауская область", "Ulytau Region"),
    Region(
        "630000000",
        "east_kazakhstan",
        "Шығыс Қазақстан облысы",
        "Восточно-Казахстанская область",
        "East Kazakhstan Region",
    ),
    Region("710000000", "astana", "Астана қаласы", "г. Астана", "Astana city", True),
    Region("750000000", "almaty", "Алматы қаласы", "г. Алматы", "Almaty city", True),
    Region("790000000", "shymkent", "Шымкент қаласы", "г. Шымкент", "Shymkent city", True),
)
REGION_BY_KATO: dict[str, Region] = {r.kato: r for r in REGIONS}
REGION_BY_KEY: dict[str, Region] = {r.key: r for r in REGIONS}


def region_name(kato: str, lang: str = "ru") -> str:
    region = REGION_BY_KATO.get(kato)
    if region is None:
        return kato
    return {"kk": region.name_kk, "en": region.name_en}.get(lang, region.name_ru)


SEXES = ("M", "F")
ROLES = ("applicant", "spouse", "child", "other")
SETTLEMENT_TYPES = ("urban", "rural")

#: The dwelling as a home-inspection act (акт обследования материально-бытовых условий) records it: the
#: families table's optional columns of the same names (missing = not inspected, unknown). The act's page
#: words each code (``atauly.service.inspection.ITEMS``).
DWELLING_CODES: dict[str, tuple[str, ...]] = {
    "dwelling_type": ("house", "apartment", "yurt", "dormitory", "rented_room", "other"),
    "wall_material": ("brick", "concrete", "wood", "adobe", "felt", "other"),
    "floor_material": ("finished", "wood", "earth", "other"),
    "heating": ("central", "gas", "electric", "stove_coal", "stove_wood_or_dung", "none"),
    "water": ("piped_inside", "piped_yard", "well", "delivered", "none"),
    "sanitation": ("indoor", "outdoor", "none"),
}

#: Employment status of a person (one value per person, the main one).
EMPLOYMENT_STATUSES = (
    "employee",  # formal employee
    "self_employed",  # self-employed, individual entrepreneur or ЕСП (single aggregate payment) payer
    "registered_unemployed",
    "not_working",
    "student_full_time",
    "pensioner",
    "caring_child_under_3",
    "caring_disabled",
    "caring_elderly",
    "maternity_leave",
)
EDUCATION_LEVELS = (
    "none",
    "primary",
    "basic_secondary",
    "general_secondary",
    "technical_vocational",
    "higher",
)

#: Income sources, each a separate column of money per month in the law. KZT per month.
INCOME_SOURCES = (
    "wages",  # formal wages
    "self_employment",  # declared self-employment / entrepreneur income
    "informal",  # informal earnings (in the truth; state databases do not see them)
    "pension",
    "large_family_benefit",
    "awarded_mother_benefit",  # Күміс алқа / Алтын алқа
    "disability_benefit",
    "child_disability_benefit",
    "survivor_benefit",
    "childcare_benefit",  # benefit for caring for a child under 1.5
    "birth_benefit",
    "other_benefit",
    "alimony",
    "scholarship",
    "livestock_land",  # income from personal subsidiary farming: livestock, poultry, land
    "loans",  # non-mortgage loans and microcredits received in the month
    "other",
)


# --- districts ------------------------------------------------------------------------------------------
# The district catalogue: ≈200 districts. Real district KATO codes were not retrieved, so every code is
# generated (the region's two-digit prefix, then the district's number) and marked synthetic; names are
# real where the fact sheet's sources give them (docs/synthetic-data.md).

#: Number of districts of each region, incl. cities of oblast significance (an estimate unless known).
DISTRICT_COUNTS: dict[str, int] = {
    "abai": 10,
    "akmola": 10,
    "aktobe": 10,
    "almaty_region": 11,
    "atyrau": 10,
    "west_kazakhstan": 10,
    "zhambyl": 10,
    "zhetisu": 10,
    "karaganda": 10,
    "kostanay": 10,
    "kyzylorda": 10,
    "mangystau": 10,
    "pavlodar": 10,
    "north_kazakhstan": 10,
    "turkestan": 17,
    "ulytau": 5,
    "east_kazakhstan": 10,
    "astana": 5,
    "almaty": 8,
    "shymkent": 5,
}
#: Real district names (kk, ru, en) where the fact sheet's sources give them, in code order.
DISTRICT_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "abai": (),
    "akmola": (),
    "aktobe": (),
    "almaty_region": (),
    "atyrau": (),
    "west_kazakhstan": (),
    "zhambyl": (),
    "zhetisu": (),
    "karaganda": (),
    "kostanay": (),
    "kyzylorda": (),
    "mangystau": (),
    "pavlodar": (),
    "north_kazakhstan": (),
    "turkestan": (),
    "ulytau": (),
    "east_kazakhstan": (),
    "astana": (
        ("Алматы ауданы", "район Алматы", "Almaty district"),
        ("Байқоңыр ауданы", "район Байконыр", "Baikonyr district"),
        ("Есіл ауданы", "район Есиль", "Yesil district"),
        ("Сарыарқа ауданы", "район Сарыарка", "Saryarka district"),
        ("Нұра ауданы", "район Нура", "Nura district"),
    ),
    "almaty": (
        ("Алатау ауданы", "Алатауский район", "Alatau district"),
        ("Алмалы ауданы", "Алмалинский район", "Almaly district"),
        ("Әуезов ауданы", "Ауэзовский район", "Auezov district"),
        ("Бостандық ауданы", "Бостандыкский район", "Bostandyk district"),
        ("Жетісу ауданы", "Жетысуский район", "Zhetysu district"),
        ("Медеу ауданы", "Медеуский район", "Medeu district"),
        ("Наурызбай ауданы", "Наурызбайский район", "Nauryzbay district"),
        ("Түрксіб ауданы", "Турксибский район", "Turksib district"),
    ),
    "shymkent": (
        ("Абай ауданы", "Абайский район", "Abay district"),
        ("Әл-Фараби ауданы", "Аль-Фарабийский район", "Al-Farabi district"),
        ("Еңбекші ауданы", "Енбекшинский район", "Enbekshi district"),
        ("Қаратау ауданы", "Каратауский район", "Karatau district"),
        ("Тұран ауданы", "Туранский район", "Turan district"),
    ),
}


@dataclass(frozen=True)
class District:
    kato: str
    region_kato: str
    name_kk: str
    name_ru: str
    name_en: str
    synthetic: (
        bool  # True when the code is generated (all codes: real district KATO codes were not retrieved)
    )
    name_is_real: bool = False


@cache
def _districts() -> tuple[District, ...]:
    out: list[District] = []
    for region in REGIONS:
        names = DISTRICT_NAMES[region.key]
        for k in range(DISTRICT_COUNTS[region.key]):
            code = f"{region.prefix}{k + 1:02d}00000"
            if k < len(names):
                kk, ru, en = names[k]
                out.append(District(code, region.kato, kk, ru, en, True, True))
            else:
                out.append(
                    District(
                        code,
                        region.kato,
                        f"{region.name_kk}, {k + 1}-аудан (синтетикалық)",
                        f"{region.name_ru}, район {k + 1} (синтетический)",
                        f"{region.name_en}, district {k + 1} (synthetic)",
                        True,
                    )
                )
    return tuple(out)


@cache
def _district_by_kato() -> dict[str, District]:
    return {d.kato: d for d in _districts()}


def districts() -> list[District]:
    """Every district, region by region in KATO order: real names where known, else generated and marked."""
    return list(_districts())


def district_catalogue() -> dict[str, str]:
    """District KATO code → its region's KATO code."""
    return {d.kato: d.region_kato for d in _districts()}


def district_name(kato: str, lang: str = "ru") -> str:
    """A district's name in ``lang`` (ru, kk or en); an unknown code is returned as it is."""
    d = _district_by_kato().get(kato)
    if d is None:
        return kato
    return {"kk": d.name_kk, "en": d.name_en}.get(lang, d.name_ru)
