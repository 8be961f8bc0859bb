"""balancePreview: the server's balance for figures not yet submitted (the form's live preview)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.context import actor_of
from schema.errors import CodedErrors, parse_id
from schema.permissions import AUTHENTICATED
from schema.scalars import Tonnes
from services.compliance import balance
from services.values import Raw


@strawberry.type(description="What an application with the given figures would be judged to have.")
class BalancePreview:
    allowance: int = strawberry.field(graphql_type=Tonnes, description="The notice's allowance.")
    offset_cap: int = strawberry.field(
        graphql_type=Tonnes,
        description="The most offsets that count: the notice's cap ratio of the verified emissions, rounded down.",
    )
    usable_offsets: int = strawberry.field(
        graphql_type=Tonnes, description="Offsets counted: at most offsetCap."
    )
    balance: int = strawberry.field(
        graphql_type=Tonnes,
        description="allowance + purchased + usable offsets - verified emissions; negative is a shortfall.",
    )
    offsets_over_cap: bool = strawberry.field(description="Whether the offsets exceed the cap.")


@strawberry.type
class BalancePreviewQueries:
    @strawberry.field(
        extensions=[CodedErrors(with_field=True)],
        permission_classes=AUTHENTICATED,
        description="The balance submitApplication would compute for these figures, with the notice's "
        "allowance and offset cap; nothing is written. A notice outside your scope is a top-level "
        "NOT_FOUND, a bad figure INVALID_QUANTITY or NEGATIVE_QUANTITY (with the field).",
    )
    async def balance_preview(
        self,
        info: Info,
        notice_id: Annotated[strawberry.ID, strawberry.argument(description="The notice applied to.")],
        verified_emissions: Annotated[
            Raw, strawberry.argument(graphql_type=Tonnes, description="Verified emissions.")
        ],
        offsets: Annotated[Raw, strawberry.argument(graphql_type=Tonnes, description="Offsets offered.")] = 0,
        purchased_allowances: Annotated[
            Raw, strawberry.argument(graphql_type=Tonnes, description="Allowances bought on the market.")
        ] = 0,
    ) -> BalancePreview:
        preview = await balance.preview_balance(
            actor_of(info),
            parse_id(notice_id, "noticeId", "Notice"),
            verified_emissions=verified_emissions,
            offsets=offsets,
            purchased_allowances=purchased_allowances,
        )
        b = preview.balance
        return BalancePreview(
            allowance=preview.allowance,
            offset_cap=b.offset_cap,
            usable_offsets=b.usable_offsets,
            balance=b.balance,
            offsets_over_cap=b.offsets_over_cap,
        )
