"""First start: the admin account, and on the embedded default a demo dataset."""

from __future__ import annotations

import secrets

from models import Enterprise, Role, Sector, User
from services.codes import make_credit_code
from services.errors import ErrorCode, ServiceError
from services.identity import create_user

DEMO_PASSWORD = {"regulator": "regulator-demo", "enterprise": "enterprise-demo"}

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
