"""New Mexico's LEAs as generation inputs for the synthetic sample data (`sample.py`).

The 89 school districts carry their public names as PED writes them. Everything else here is
approximate or synthetic, and only ever feeds the synthetic sample:
- sizes are rough student counts from memory of public figures (a few years), used only as
  relative weights;
- demographic profiles are coarse regional patterns, not any district's real figures;
- LEA codes are synthetic: districts "001".."089" in alphabetical order, state-chartered
  schools "501".. in alphabetical order. They are not PED's codes;
- the state-chartered schools are invented names, and so are all school names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aip_forms.domain import LeaType

RACES = ("I", "A", "B", "H", "P", "W", "M")  # order of the share tuples below


@dataclass(frozen=True)
class Profile:
    """A regional pattern: race/ethnicity shares (RACES order) and program shares."""

    races: tuple[float, float, float, float, float, float, float]
    econ_disadv: float
    english_learner: float
    military: float
    migrant: float
    absence: float  # shift of the logit of every student's absence propensity


PROFILES: dict[str, Profile] = {
    "metro": Profile((0.05, 0.025, 0.03, 0.62, 0.002, 0.23, 0.043), 0.62, 0.15, 0.02, 0.002, 0.0),
    "border": Profile((0.01, 0.005, 0.01, 0.86, 0.001, 0.10, 0.014), 0.82, 0.30, 0.01, 0.03, 0.1),
    "north": Profile((0.07, 0.005, 0.005, 0.77, 0.001, 0.13, 0.019), 0.76, 0.10, 0.0, 0.005, 0.2),
    "native": Profile((0.78, 0.004, 0.005, 0.12, 0.001, 0.07, 0.02), 0.90, 0.30, 0.0, 0.0, 0.3),
    "east": Profile((0.01, 0.01, 0.03, 0.55, 0.002, 0.38, 0.018), 0.62, 0.08, 0.01, 0.01, -0.15),
    "central": Profile((0.05, 0.008, 0.01, 0.55, 0.001, 0.36, 0.021), 0.66, 0.07, 0.0, 0.003, 0.0),
    "los_alamos": Profile((0.01, 0.07, 0.01, 0.30, 0.002, 0.56, 0.048), 0.12, 0.04, 0.0, 0.0, -0.6),
}


@dataclass(frozen=True)
class LeaInput:
    """One LEA as the generator sees it."""

    code: str
    name: str
    type: LeaType
    town: str  # used in school names: "Belen High"
    students: int  # approximate size, a relative weight
    profile: str
    amind: float | None = None  # American Indian share where it differs from the profile
    military: float | None = None
    grade_span: tuple[str, str] = ("PK", "12")  # state charters serve part of PK-12


# (public name, town, approximate students, profile, American Indian share or None)
_DISTRICTS: tuple[tuple[str, str, int, str, float | None], ...] = (
    ("ALAMOGORDO PUBLIC SCHOOLS", "Alamogordo", 5600, "east", 0.02),
    ("ALBUQUERQUE PUBLIC SCHOOLS", "Albuquerque", 70000, "metro", None),
    ("ANIMAS PUBLIC SCHOOLS", "Animas", 170, "border", None),
    ("ARTESIA PUBLIC SCHOOLS", "Artesia", 3700, "east", None),
    ("AZTEC MUNICIPAL SCHOOLS", "Aztec", 2700, "central", 0.15),
    ("BELEN CONSOLIDATED SCHOOLS", "Belen", 3700, "central", None),
    ("BERNALILLO PUBLIC SCHOOLS", "Bernalillo", 2700, "central", 0.40),
    ("BLOOMFIELD SCHOOLS", "Bloomfield", 2500, "central", 0.35),
    ("CAPITAN MUNICIPAL SCHOOLS", "Capitan", 450, "central", None),
    ("CARLSBAD MUNICIPAL SCHOOLS", "Carlsbad", 6800, "east", None),
    ("CARRIZOZO MUNICIPAL SCHOOLS", "Carrizozo", 150, "central", None),
    ("CENTRAL CONSOLIDATED SCHOOLS", "Shiprock", 5500, "native", 0.88),
    ("CHAMA VALLEY INDEPENDENT SCHOOLS", "Chama", 350, "north", None),
    ("CIMARRON MUNICIPAL SCHOOLS", "Cimarron", 350, "east", None),
    ("CLAYTON MUNICIPAL SCHOOLS", "Clayton", 400, "east", None),
    ("CLOUDCROFT MUNICIPAL SCHOOLS", "Cloudcroft", 400, "central", None),
    ("CLOVIS MUNICIPAL SCHOOLS", "Clovis", 7500, "east", None),
    ("COBRE CONSOLIDATED SCHOOLS", "Bayard", 1100, "border", None),
    ("CORONA MUNICIPAL SCHOOLS", "Corona", 60, "east", None),
    ("CUBA INDEPENDENT SCHOOLS", "Cuba", 500, "native", 0.60),
    ("DEMING PUBLIC SCHOOLS", "Deming", 4800, "border", None),
    ("DES MOINES MUNICIPAL SCHOOLS", "Des Moines", 90, "east", None),
    ("DEXTER CONSOLIDATED SCHOOLS", "Dexter", 900, "east", None),
    ("DORA CONSOLIDATED SCHOOLS", "Dora", 230, "east", None),
    ("DULCE INDEPENDENT SCHOOLS", "Dulce", 600, "native", 0.90),
    ("ELIDA MUNICIPAL SCHOOLS", "Elida", 150, "east", None),
    ("ESPANOLA PUBLIC SCHOOLS", "Espanola", 3000, "north", 0.08),
    ("ESTANCIA MUNICIPAL SCHOOLS", "Estancia", 600, "central", None),
    ("EUNICE MUNICIPAL SCHOOLS", "Eunice", 800, "east", None),
    ("FARMINGTON MUNICIPAL SCHOOLS", "Farmington", 10500, "central", 0.33),
    ("FLOYD MUNICIPAL SCHOOLS", "Floyd", 220, "east", None),
    ("FORT SUMNER MUNICIPAL SCHOOLS", "Fort Sumner", 250, "east", None),
    ("GADSDEN INDEPENDENT SCHOOLS", "Gadsden", 12500, "border", None),
    ("GALLUP-MCKINLEY COUNTY SCHOOLS", "Gallup", 11500, "native", 0.76),
    ("GRADY MUNICIPAL SCHOOLS", "Grady", 120, "east", None),
    ("GRANTS-CIBOLA COUNTY SCHOOLS", "Grants", 3400, "native", 0.40),
    ("HAGERMAN MUNICIPAL SCHOOLS", "Hagerman", 400, "east", None),
    ("HATCH VALLEY PUBLIC SCHOOLS", "Hatch", 1200, "border", None),
    ("HOBBS MUNICIPAL SCHOOLS", "Hobbs", 10000, "east", None),
    ("HONDO VALLEY PUBLIC SCHOOLS", "Hondo", 130, "central", None),
    ("HOUSE MUNICIPAL SCHOOLS", "House", 60, "east", None),
    ("JAL PUBLIC SCHOOLS", "Jal", 450, "east", None),
    ("JEMEZ MOUNTAIN PUBLIC SCHOOLS", "Gallina", 200, "north", None),
    ("JEMEZ VALLEY PUBLIC SCHOOLS", "Jemez Valley", 300, "native", 0.50),
    ("LAKE ARTHUR MUNICIPAL SCHOOLS", "Lake Arthur", 100, "east", None),
    ("LAS CRUCES PUBLIC SCHOOLS", "Las Cruces", 24000, "border", None),
    ("LAS VEGAS CITY PUBLIC SCHOOLS", "Las Vegas", 1300, "north", None),
    ("LOGAN MUNICIPAL SCHOOLS", "Logan", 280, "east", None),
    ("LORDSBURG MUNICIPAL SCHOOLS", "Lordsburg", 450, "border", None),
    ("LOS ALAMOS PUBLIC SCHOOLS", "Los Alamos", 3700, "los_alamos", None),
    ("LOS LUNAS PUBLIC SCHOOLS", "Los Lunas", 7900, "central", None),
    ("LOVING MUNICIPAL SCHOOLS", "Loving", 600, "east", None),
    ("LOVINGTON MUNICIPAL SCHOOLS", "Lovington", 3500, "east", None),
    ("MAGDALENA MUNICIPAL SCHOOLS", "Magdalena", 300, "native", 0.40),
    ("MAXWELL MUNICIPAL SCHOOLS", "Maxwell", 100, "east", None),
    ("MELROSE PUBLIC SCHOOLS", "Melrose", 240, "east", None),
    ("MESA VISTA CONSOLIDATED SCHOOLS", "Ojo Caliente", 250, "north", None),
    ("MORA INDEPENDENT SCHOOLS", "Mora", 400, "north", None),
    ("MORIARTY-EDGEWOOD SCHOOL DISTRICT", "Moriarty", 2200, "central", None),
    ("MOSQUERO MUNICIPAL SCHOOLS", "Mosquero", 50, "east", None),
    ("MOUNTAINAIR PUBLIC SCHOOLS", "Mountainair", 200, "central", None),
    ("PECOS INDEPENDENT SCHOOLS", "Pecos", 500, "north", None),
    ("PENASCO INDEPENDENT SCHOOLS", "Penasco", 300, "north", None),
    ("POJOAQUE VALLEY PUBLIC SCHOOLS", "Pojoaque", 1800, "north", 0.10),
    ("PORTALES MUNICIPAL SCHOOLS", "Portales", 2600, "east", None),
    ("QUEMADO INDEPENDENT SCHOOLS", "Quemado", 150, "central", None),
    ("QUESTA INDEPENDENT SCHOOLS", "Questa", 300, "north", None),
    ("RATON PUBLIC SCHOOLS", "Raton", 800, "east", None),
    ("RESERVE INDEPENDENT SCHOOLS", "Reserve", 130, "central", None),
    ("RIO RANCHO PUBLIC SCHOOLS", "Rio Rancho", 16500, "metro", None),
    ("ROSWELL INDEPENDENT SCHOOLS", "Roswell", 9500, "east", None),
    ("ROY MUNICIPAL SCHOOLS", "Roy", 60, "east", None),
    ("RUIDOSO MUNICIPAL SCHOOLS", "Ruidoso", 1800, "central", 0.10),
    ("SAN JON MUNICIPAL SCHOOLS", "San Jon", 130, "east", None),
    ("SANTA FE PUBLIC SCHOOLS", "Santa Fe", 11500, "north", 0.03),
    ("SANTA ROSA CONSOLIDATED SCHOOLS", "Santa Rosa", 550, "east", None),
    ("SILVER CONSOLIDATED SCHOOLS", "Silver City", 2300, "border", None),
    ("SOCORRO CONSOLIDATED SCHOOLS", "Socorro", 1400, "central", None),
    ("SPRINGER MUNICIPAL SCHOOLS", "Springer", 150, "east", None),
    ("TAOS MUNICIPAL SCHOOLS", "Taos", 2000, "north", 0.05),
    ("TATUM MUNICIPAL SCHOOLS", "Tatum", 320, "east", None),
    ("TEXICO MUNICIPAL SCHOOLS", "Texico", 550, "east", None),
    ("TRUTH OR CONSEQUENCES MUNICIPAL SCHOOLS", "Truth or Consequences", 1100, "central", None),
    ("TUCUMCARI PUBLIC SCHOOLS", "Tucumcari", 850, "east", None),
    ("TULAROSA MUNICIPAL SCHOOLS", "Tularosa", 800, "central", 0.25),
    ("VAUGHN MUNICIPAL SCHOOLS", "Vaughn", 60, "east", None),
    ("WAGON MOUND PUBLIC SCHOOLS", "Wagon Mound", 70, "north", None),
    ("WEST LAS VEGAS PUBLIC SCHOOLS", "West Las Vegas", 1300, "north", None),
    ("ZUNI PUBLIC SCHOOLS", "Zuni", 1200, "native", 0.96),
)

# Military-connected shares where an installation is near (Cannon, Holloman, Kirtland, WSMR).
_MILITARY = {"Clovis": 0.12, "Alamogordo": 0.15, "Albuquerque": 0.03, "Las Cruces": 0.03}

# Invented state-chartered schools: (name stem, town, grade span). Not real schools.
_CHARTER_PLACES = (
    ("Albuquerque", "metro"),
    ("Albuquerque", "metro"),
    ("Albuquerque", "metro"),
    ("Santa Fe", "north"),
    ("Las Cruces", "border"),
    ("Rio Rancho", "metro"),
    ("Albuquerque", "metro"),
    ("Taos", "north"),
    ("Farmington", "central"),
    ("Gallup", "native"),
    ("Roswell", "east"),
    ("Los Lunas", "central"),
)
_CHARTER_STEMS = (
    "ABIQUIU LEARNING",
    "ACEQUIA MADRE",
    "ALTA VISTA CLASSICAL",
    "ARROYO SECO MONTESSORI",
    "BOSQUE FARMS AGRICULTURE",
    "CABEZON SCIENCE",
    "CANDELARIA ARTS",
    "CERRO PEDERNAL STEM",
    "CHAMISA COMMUNITY",
    "CHIHUAHUAN DESERT ECOLOGY",
    "CIELO AZUL DUAL LANGUAGE",
    "COTTONWOOD TRAIL",
    "DESERT WILLOW TECHNICAL",
    "EL MALPAIS EXPEDITIONARY",
    "ENCINO PREPARATORY",
    "ESTRELLA DEL NORTE",
    "GALISTEO BASIN",
    "GILA WILDERNESS",
    "GLORIETA PASS",
    "HERMOSA HEIGHTS",
    "HIGH DESERT HEALTH CAREERS",
    "JORNADA DEL MUERTO",
    "JUNIPER RIDGE",
    "LA BAJADA",
    "LA LUZ DEL VALLE",
    "LLANO ESTACADO",
    "LOS CERRILLOS",
    "LUNA CREATIVE",
    "MALAGA AEROSPACE",
    "MANZANITA CLASSICAL",
    "MESA DEL SOL INNOVATION",
    "MIMBRES VALLEY",
    "MONTE VERDE",
    "NAMBE CREEK",
    "ORGAN MOUNTAIN ENGINEERING",
    "OSO GRANDE",
    "PAJARITO MESA",
    "PALO DURO",
    "PECOS RIVER",
    "PETROGLYPH",
    "PINON HILLS",
    "PUERTA DEL SOL",
    "PUEBLO VIEW",
    "RIO ABAJO",
    "RIO CHAMA",
    "RIO PUERCO",
    "ROADRUNNER",
    "SALINAS MISSIONS",
    "SANDIA CREST",
    "SANGRE DE CRISTO",
    "SIERRA BLANCA",
    "SILVER HORIZON",
    "SUNPORT AVIATION",
    "TIERRA DEL SOL",
    "TURQUOISE MESA",
    "VALLE GRANDE",
    "VALLE DE ORO",
    "VOLCANO CLIFFS",
    "YUCCA FLATS",
    "ZIA SUN",
)
_CHARTER_KINDS = ("ACADEMY", "CHARTER SCHOOL", "COMMUNITY SCHOOL", "PREPARATORY ACADEMY")
_CHARTER_SPANS = (("K", "8"), ("6", "12"), ("9", "12"), ("K", "12"), ("K", "5"))
_CHARTER_SIZES = (180, 320, 450, 240, 600, 150, 380, 260, 520, 210, 700, 300, 420)


def districts() -> tuple[LeaInput, ...]:
    """The 89 school districts, coded "001".."089" in alphabetical order of their names."""
    rows = sorted(_DISTRICTS)
    return tuple(
        LeaInput(
            code=f"{i:03d}",
            name=name,
            type=LeaType.DISTRICT,
            town=town,
            students=students,
            profile=profile,
            amind=amind,
            military=_MILITARY.get(town),
        )
        for i, (name, town, students, profile, amind) in enumerate(rows, start=1)
    )


def state_charters() -> tuple[LeaInput, ...]:
    """Sixty invented state-chartered schools, coded "501".. in alphabetical order."""
    named = []
    for i, stem in enumerate(_CHARTER_STEMS):
        town, profile = _CHARTER_PLACES[(i * 5) % len(_CHARTER_PLACES)]
        kind = _CHARTER_KINDS[(i * 7) % len(_CHARTER_KINDS)]
        span = _CHARTER_SPANS[(i * 3) % len(_CHARTER_SPANS)]
        size = _CHARTER_SIZES[(i * 11) % len(_CHARTER_SIZES)]
        named.append((f"{stem} {kind}", town, profile, span, size))
    named.sort()
    return tuple(
        LeaInput(
            code=f"{500 + i}",
            name=name,
            type=LeaType.STATE_CHARTER,
            town=town,
            students=size,
            profile=profile,
            grade_span=span,
        )
        for i, (name, town, profile, span, size) in enumerate(named, start=1)
    )


def all_leas() -> tuple[LeaInput, ...]:
    return districts() + state_charters()


# ---- schools ----------------------------------------------------------------------------

GRADE_CODES = ("PK", "K", *(str(g) for g in range(1, 13)))
# Relative size of a grade cohort: pre-K is partly served, some seniors have left.
GRADE_WEIGHTS = np.array([0.45, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.98, 0.95, 0.9])

_NAME_FIRST = (
    "Acoma",
    "Alameda",
    "Arroyo",
    "Aspen",
    "Atrisco",
    "Bandelier",
    "Bosque",
    "Canyon",
    "Cedar",
    "Chamisa",
    "Chaparral",
    "Cibola",
    "Cielo",
    "Cimarron",
    "Colinas",
    "Corrales",
    "Cottonwood",
    "Coyote",
    "Desert",
    "Dos Rios",
    "El Camino",
    "Encanto",
    "Estrella",
    "Galisteo",
    "Jemez",
    "Juniper",
    "La Cueva",
    "La Joya",
    "La Mesa",
    "Llano",
    "Lobo",
    "Los Padillas",
    "Los Ranchos",
    "Manzano",
    "Mesquite",
    "Mimbres",
    "Montezuma",
    "Ojo",
    "Onate",
    "Organ",
    "Paloma",
    "Petroglyph",
    "Pinon",
    "Puesta",
    "Rio Bravo",
    "Rio Grande",
    "Roadrunner",
    "Sage",
    "Sandia",
    "Sangre",
    "Sierra",
    "Solano",
    "Sunset",
    "Tierra",
    "Valle",
    "Ventana",
    "Yucca",
    "Zia",
)
_NAME_SECOND = (
    "Mesa",
    "Vista",
    "Heights",
    "del Norte",
    "del Sol",
    "Valley",
    "Ridge",
    "Canyon",
    "Park",
    "Trail",
    "Hills",
    "Springs",
    "Crossing",
    "Meadows",
    "Bluffs",
    "Plaza",
    "",
    "",
)


@dataclass(frozen=True)
class SchoolInput:
    """A synthetic school: its grade span and its expected students per grade (full size)."""

    code: str
    lea_code: str
    name: str
    grade_low: str
    grade_high: str
    level: str  # elementary, middle, high, alternative, combined
    per_grade: tuple[float, ...]  # expected students in each of GRADE_CODES


NameParts = tuple[tuple[str, ...], tuple[str, ...]]  # (first words, second words)
NM_NAME_PARTS: NameParts = (_NAME_FIRST, _NAME_SECOND)


def plan_schools(
    leas: tuple[LeaInput, ...],
    rng: np.random.Generator,
    total_students: int,
    name_parts: NameParts = NM_NAME_PARTS,
) -> tuple[SchoolInput, ...]:
    """Schools of every LEA with grade spans and sizes that add up to about total_students;
    names drawn from `name_parts` (made-up place words of the program's region)."""
    scale = total_students / sum(lea.students for lea in leas)
    schools: list[SchoolInput] = []
    for lea in leas:
        spans = _spans(lea)
        names = _names(lea, spans, rng, name_parts)
        capacity = rng.lognormal(0.0, 0.3, size=len(spans))
        capacity[[level == "alternative" for level, _, _ in spans]] *= 0.25
        served = np.array([_serves(low, high) for _, low, high in spans])  # schools x grades
        weight = served * capacity[:, None]
        share = np.divide(weight, weight.sum(axis=0), out=np.zeros_like(weight), where=served)
        cohort = lea.students * scale / (GRADE_WEIGHTS * served.any(axis=0)).sum()
        per_grade = share * GRADE_WEIGHTS * cohort
        for i, ((level, low, high), name) in enumerate(zip(spans, names, strict=True)):
            schools.append(
                SchoolInput(
                    code=f"{lea.code}{i + 1:03d}",
                    lea_code=lea.code,
                    name=name,
                    grade_low=low,
                    grade_high=high,
                    level=level,
                    per_grade=tuple(float(x) for x in per_grade[i]),
                )
            )
    return tuple(schools)


def _serves(low: str, high: str) -> list[bool]:
    a, b = GRADE_CODES.index(low), GRADE_CODES.index(high)
    return [a <= g <= b for g in range(len(GRADE_CODES))]


def _spans(lea: LeaInput) -> list[tuple[str, str, str]]:
    """(level, lowest grade, highest grade) of each school, by the LEA's size."""
    if lea.type is LeaType.STATE_CHARTER:
        return [("combined", *lea.grade_span)]
    size = lea.students
    if size < 250:
        return [("combined", "PK", "12")]
    if size < 700:
        return [("elementary", "PK", "6"), ("high", "7", "12")]
    elementary = max(1, round(size * 0.48 / 275))
    middle = max(1, round(size * 0.23 / 490))
    high = max(1, round(size * 0.29 / 950))
    k8 = elementary // 10
    # Larger districts also run a small alternative or early-college high school.
    alternative = 1 if size >= 5000 else 0
    return (
        [("elementary", "PK", "5")] * (elementary - k8)
        + [("combined", "K", "8")] * k8
        + [("middle", "6", "8")] * middle
        + [("high", "9", "12")] * high
        + [("alternative", "9", "12")] * alternative
    )


def _names(
    lea: LeaInput, spans: list[tuple[str, str, str]], rng: np.random.Generator, parts: NameParts
) -> list[str]:
    if lea.type is LeaType.STATE_CHARTER:
        return [lea.name.title().replace("Stem", "STEM")]
    counts = {level: sum(1 for s in spans if s[0] == level) for level, _, _ in spans}
    firsts, seconds = parts
    stems = [f"{a} {b}".strip() for a in firsts for b in seconds if a != b]
    order = rng.permutation(len(stems))
    pool = iter(stems[i] for i in order)
    names: list[str] = []
    first_of: set[str] = set()
    for level, low, high in spans:
        only = counts[level] == 1
        if level == "combined" and low == "PK":
            names.append(f"{lea.town} Schools")
        elif level == "high" and high == "12" and low == "7":
            names.append(f"{lea.town} Junior/Senior High School")
        elif level == "elementary" and only:
            names.append(f"{lea.town} Elementary")
        elif level in ("middle", "high") and level not in first_of:
            names.append(f"{lea.town} {level.title()} School")
        else:
            suffix = {
                "elementary": "Elementary",
                "combined": "K-8 School",
                "alternative": "Early College High School",
            }.get(level, f"{level.title()} School")
            names.append(f"{next(pool)} {suffix}")
        first_of.add(level)
    return names
