from api.bootstrap import DEMO_ENTERPRISES, DEMO_PASSWORD, bootstrap
from models import Enterprise, Role, User
from services.codes import validate_credit_code
from services.identity import login


async def test_an_empty_database_gets_an_admin_with_the_given_password(db: str) -> None:
    lines = await bootstrap("root", "root-password", demo=False)
    session = await login("root", "root-password", secret="s" * 32, ttl_seconds=60)
    assert session.user.role == Role.ADMIN
    assert not any("Generated" in line for line in lines)
    assert await User.all().count() == 1


async def test_without_a_password_one_is_generated_and_printed_once(db: str) -> None:
    lines = await bootstrap("admin", None, demo=False)
    printed = next(line for line in lines if line.startswith("Generated admin password"))
    password = printed.rsplit(" ", 1)[1]
    assert (await login("admin", password, secret="s" * 32, ttl_seconds=60)).user.username == "admin"
    assert await bootstrap("admin", None, demo=False) == []  # a second start changes and prints nothing


async def test_the_demo_dataset_lets_every_listed_account_sign_in(db: str) -> None:
    await bootstrap("admin", "admin-password", demo=True)
    assert await Enterprise.all().count() == len(DEMO_ENTERPRISES)
    for enterprise in await Enterprise.all():
        assert validate_credit_code(enterprise.credit_code) == enterprise.credit_code
    for username in ("gd_regulator", "national_regulator"):
        assert (
            await login(username, DEMO_PASSWORD["regulator"], secret="s" * 32, ttl_seconds=60)
        ).user.role == Role.REGULATOR
    for username, *_ in DEMO_ENTERPRISES:
        session = await login(username, DEMO_PASSWORD["enterprise"], secret="s" * 32, ttl_seconds=60)
        assert session.user.enterprise_id is not None


async def test_a_database_with_users_is_left_alone(db: str) -> None:
    await bootstrap("admin", "admin-password", demo=False)
    assert await bootstrap("other", "other-password", demo=True) == []
    assert await User.filter(username="other").count() == 0
    assert await Enterprise.all().count() == 0
