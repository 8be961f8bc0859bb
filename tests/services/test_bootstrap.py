from models import EnergyMonthly, EnergyRecord, EnergyYearly, Enterprise, Role, StaleMonth, User
from services.bootstrap import DEMO_ENERGY, DEMO_ENTERPRISES, DEMO_PASSWORD, DEMO_YEARS, bootstrap
from services.codes import validate_credit_code
from services.identity.users import SignIn, login


async def test_an_empty_database_gets_an_admin_with_the_given_password(db: str) -> None:
    lines = await bootstrap("root", "root-password", demo=False)
    session = await login("root", "root-password", SignIn("s" * 32, 60))
    assert session.user.role == Role.ADMIN
    assert not any("Generated" in line for line in lines)
    assert await User.all().count() == 1


async def test_without_a_password_one_is_generated_and_printed_once(db: str) -> None:
    lines = await bootstrap("admin", None, demo=False)
    printed = next(line for line in lines if line.startswith("Generated admin password"))
    password = printed.rsplit(" ", 1)[1]
    assert (await login("admin", password, SignIn("s" * 32, 60))).user.username == "admin"
    assert await bootstrap("admin", None, demo=False) == []  # a second start changes and prints nothing


async def test_the_demo_dataset_lets_every_listed_account_sign_in(db: str) -> None:
    await bootstrap("admin", "admin-password", demo=True)
    assert await Enterprise.all().count() == len(DEMO_ENTERPRISES)
    for enterprise in await Enterprise.all():
        assert validate_credit_code(enterprise.credit_code) == enterprise.credit_code
    for username in ("gd_regulator", "national_regulator"):
        assert (
            await login(username, DEMO_PASSWORD["regulator"], SignIn("s" * 32, 60))
        ).user.role == Role.REGULATOR
    for username, *_ in DEMO_ENTERPRISES:
        session = await login(username, DEMO_PASSWORD["enterprise"], SignIn("s" * 32, 60))
        assert session.user.enterprise_id is not None


async def test_the_demo_dataset_has_three_years_of_energy_records_with_their_aggregates(db: str) -> None:
    await bootstrap("admin", "admin-password", demo=True)
    types = sum(len(DEMO_ENERGY[sector]) for *_, sector in DEMO_ENTERPRISES)
    # Three years of monthly figures from a platform, and a meter's 31 days of March 2025
    assert await EnergyRecord.all().count() == types * 36 + 31
    assert await EnergyMonthly.all().count() == types * 36  # one value a month all the same
    assert await EnergyYearly.all().count() == types * 3
    assert not await StaleMonth.exists()
    # Guangzhou power, January 2024: 9,000 MWh x 1.2 (winter) x 1.025 x 1.02 (that January's
    # wobble, (7 + 2024) mod 9 - 4 = 2 %) = 11,291.4 MWh, at the South grid's 0.4042
    power = await Enterprise.get(region_code="440113")
    january = await EnergyRecord.get(
        enterprise_id=power.id, year=2024, month=1, day=0, energy_type_id="ELECTRICITY"
    )
    assert (january.amount, january.emissions) == (11_291_400_000, 4_563_983_880)


async def test_the_demo_years_differ_and_march_2025_counts_the_platforms_figure_not_the_meters(
    db: str,
) -> None:
    await bootstrap("admin", "admin-password", demo=True)
    power = await Enterprise.get(region_code="440113")
    yearly = {
        y.year: y.amount
        for y in await EnergyYearly.filter(enterprise_id=power.id, energy_type_id="ELECTRICITY")
    }
    assert len(set(yearly.values())) == 3
    # Power burns less each year (the levels of DEMO_YEARS), give or take the monthly wobble.
    levels = DEMO_YEARS[power.sector]
    assert sorted(yearly, key=yearly.__getitem__) == sorted(levels, key=levels.__getitem__)
    march = await EnergyMonthly.get(enterprise_id=power.id, year=2025, month=3, energy_type_id="ELECTRICITY")
    platform = await EnergyRecord.get(
        enterprise_id=power.id, year=2025, month=3, day=0, energy_type_id="ELECTRICITY"
    )
    days = await EnergyRecord.filter(enterprise_id=power.id, year=2025, month=3, source="IOT")
    assert march.amount == platform.amount and march.records == 1
    assert len(days) == 31 and 0.93 < sum(d.amount for d in days) / platform.amount < 0.95


async def test_a_database_with_users_is_left_alone(db: str) -> None:
    await bootstrap("admin", "admin-password", demo=False)
    assert await bootstrap("other", "other-password", demo=True) == []
    assert await User.filter(username="other").count() == 0
    assert await Enterprise.all().count() == 0
