"""balancePreview: the form's live balance is the one submitApplication then stores."""

from __future__ import annotations

from tests.conftest import GraphQLClient, World
from tests.services.cycle import Cycle

PREVIEW = """
query($id: ID!, $v: Tonnes!, $o: Tonnes!, $p: Tonnes!) {
  balancePreview(noticeId: $id, verifiedEmissions: $v, offsets: $o, purchasedAllowances: $p) {
    allowance offsetCap usableOffsets balance offsetsOverCap
  }
}
"""


async def preview(gql: GraphQLClient, cycle: Cycle, actor: object, v: object, o: object, p: object) -> dict:
    return await gql(PREVIEW, {"id": str(cycle.notice.id), "v": v, "o": o, "p": p}, actor=actor)  # type: ignore[arg-type]


async def test_the_preview_is_the_balance_the_submitted_application_gets(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    result = await preview(gql, cycle, cycle.member, 1100, 100, 50)
    application = await cycle.under_review(verified_emissions=1100, offsets=100, purchased_allowances=50)

    # 1000 allowance + 50 bought + min(100, ⌊1100 × 0.05⌋ = 55) - 1100 = 5
    assert result["data"]["balancePreview"] == {
        "allowance": 1000,
        "offsetCap": 55,
        "usableOffsets": 55,
        "balance": 5,
        "offsetsOverCap": True,
    }
    assert application.balance == 5 and application.usable_offsets == 55


async def test_a_shortfall_previews_as_a_negative_balance(gql: GraphQLClient, cycle: Cycle) -> None:
    result = await preview(gql, cycle, cycle.regulator, 2000, 0, 0)

    assert result["data"]["balancePreview"]["balance"] == -1000
    assert result["data"]["balancePreview"]["offsetsOverCap"] is False


async def test_a_bad_figure_is_a_coded_error_naming_its_field(gql: GraphQLClient, cycle: Cycle) -> None:
    result = await preview(gql, cycle, cycle.member, "12.5", 0, 0)

    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "INVALID_QUANTITY", "field": "verifiedEmissions"}


async def test_a_notice_outside_the_callers_scope_is_not_found(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    outsider = await world.member(await world.enterprise("440307"))

    result = await preview(gql, cycle, outsider, 1000, 0, 0)

    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_anonymous_callers_are_refused(gql: GraphQLClient, cycle: Cycle) -> None:
    result = await preview(gql, cycle, None, 1000, 0, 0)

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
