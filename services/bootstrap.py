"""First start: the admin account, and on the embedded default a demo dataset."""

from __future__ import annotations

import calendar
import secrets

from models import EnergySource, Enterprise, Role, Sector, User
from services.access import Actor
from services.codes import make_credit_code
from services.energy import aggregates
from services.energy.ingest import EnergyImporter
from services.errors import ErrorCode, ServiceError
from services.identity.users import create_user

DEMO_PASSWORD = {"regulator": "regulator-demo", "enterprise": "enterprise-demo"}

# Monthly energy use of the demo enterprises in 2024: (energy type, unit, base quantity)
DEMO_ENERGY = {
    Sector.POWER: (
        ("ELECTRICITY", "MWh", 9_000),
        ("BITUMINOUS_COAL", "t", 41_000),
        ("NATURAL_GAS", "1e4Nm3", 120),
    ),
    Sector.CEMENT: (("ELECTRICITY", "MWh", 6_500), ("BITUMINOUS_COAL", "t", 12_000), ("DIESEL", "t", 35)),
    Sector.STEEL: (
        ("ELECTRICITY", "MWh", 15_000),
        ("ANTHRACITE", "t", 30_000),
        ("NATURAL_GAS", "1e4Nm3", 300),
    ),
    Sector.PAPER: (
        ("ELECTRICITY", "MWh", 3_200),
        ("NATURAL_GAS", "1e4Nm3", 90),
        ("PURCHASED_HEAT", "GJ", 25_000),
    ),
}

# Each sector's use in a year against 2024, as such sectors moved: power burning less coal as
# renewables grow, cement falling with construction, steel slowly down, paper growing.
DEMO_YEARS = {
    Sector.POWER: {2023: 1.06, 2024: 1.0, 2025: 0.95},
    Sector.CEMENT: {2023: 1.09, 2024: 1.0, 2025: 0.93},
    Sector.STEEL: {2023: 1.03, 2024: 1.0, 2025: 0.98},
    Sector.PAPER: {2023: 0.96, 2024: 1.0, 2025: 1.05},
}
# The first enterprise's meter also sends its electricity by the day for this month, 6 % below
# the platform's monthly figure: the data-source screen has a discrepancy to show.
DEMO_METERED = (2025, 3)
DEMO_METER_SHARE = 0.94

# (username, name, region, org code body, industry, sector)
DEMO_ENTERPRISES = (
    ("gz_power", "广州华润热电有限公司", "440113", "MA59X1K2", "4411", Sector.POWER),
    ("sz_cement", "深圳海螺水泥有限公司", "440307", "MA5F2G3H", "3011", Sector.CEMENT),
    ("fs_steel", "佛山顺德钢铁有限公司", "440606", "MA4W7Q8R", "3120", Sector.STEEL),
    ("bj_paper", "北京京华纸业有限公司", "110115", "MA01B2C3", "2221", Sector.PAPER),
)


async def bootstrap(admin_username: str, admin_password: str | None, *, demo: bool) -> list[str]:
    """Seed an empty database; returns lines to print (the generated password is shown once)."""
    if await User.exists():
        return []
    lines = []
    password = admin_password or secrets.token_urlsafe(12)
    try:
        await create_user(None, username=admin_username, password=password, role=Role.ADMIN)
    except ServiceError as error:
        if error.code != ErrorCode.DUPLICATE_USERNAME:
            raise
        return []  # another replica starting at the same moment seeded the database
    lines.append(f"Created admin user {admin_username!r}")
    if admin_password is None:
        lines.append(f"Generated admin password (shown once): {password}")
    if demo:
        await _demo()
        lines.append(
            "Demo data: regulators gd_regulator (Guangdong, 44) and national_regulator, password "
            f"{DEMO_PASSWORD['regulator']!r}; enterprise users "
            + ", ".join(u for u, *_ in DEMO_ENTERPRISES)
            + f", password {DEMO_PASSWORD['enterprise']!r}. CCMS_DEMO=0 turns this off."
        )
    return lines


async def _demo() -> None:
    await create_user(
        None,
        username="gd_regulator",
        password=DEMO_PASSWORD["regulator"],
        role=Role.REGULATOR,
        region_prefix="44",
    )
    await create_user(
        None, username="national_regulator", password=DEMO_PASSWORD["regulator"], role=Role.REGULATOR
    )
    national = await User.get(username="national_regulator")
    energy: list[dict[str, str]] = []
    for username, name, region, org, industry, sector in DEMO_ENTERPRISES:
        enterprise = await Enterprise.create(
            name=name,
            credit_code=make_credit_code(region, org),
            region_code=region,
            industry_code=industry,
            sector=sector,
        )
        await create_user(
            None,
            username=username,
            password=DEMO_PASSWORD["enterprise"],
            role=Role.ENTERPRISE,
            enterprise_id=enterprise.id,
        )
        for year, level in DEMO_YEARS[sector].items():
            for month in range(1, 13):
                energy += [
                    {
                        "credit_code": enterprise.credit_code,
                        "period": f"{year}-{month:02d}",
                        "energy_type": code,
                        "quantity": str(round(demo_quantity(base, level, year, month), 3)),
                        "unit": unit,
                    }
                    for code, unit, base in DEMO_ENERGY[sector]
                ]
    # Energy records for the statistics, and their aggregates at once (no worker runs yet).
    importer = EnergyImporter(Actor.of(national), source=EnergySource.PLATFORM)
    await importer.run(enumerate(energy, start=1))
    await EnergyImporter(Actor.of(national), source=EnergySource.IOT).run(
        enumerate(_metered(energy[0]), start=1)
    )
    await aggregates.refresh()


def demo_quantity(base: float, level: float, year: int, month: int) -> float:
    """A month's use: the year's level, a fifth more in winter, and a wobble of a few per cent
    that differs from year to year, so no two years repeat the same figures."""
    winter = 1.2 if month in (1, 2, 12) else 1.0
    wobble = 1 + ((month * 7 + year) % 9 - 4) / 100
    return base * level * winter * (1 + (month % 5) / 40) * wobble


def _metered(first: dict[str, str]) -> list[dict[str, str]]:
    """A meter's day readings of the first enterprise's electricity in DEMO_METERED."""
    year, month = DEMO_METERED
    base = next(b for code, _, b in DEMO_ENERGY[Sector.POWER] if code == "ELECTRICITY")
    total = demo_quantity(base, DEMO_YEARS[Sector.POWER][year], year, month) * DEMO_METER_SHARE
    days = calendar.monthrange(year, month)[1]
    return [
        {
            **first,
            "period": f"{year}-{month:02d}-{day:02d}",
            "energy_type": "ELECTRICITY",
            "quantity": str(round(total / days, 3)),
            "unit": "MWh",
        }
        for day in range(1, days + 1)
    ]
