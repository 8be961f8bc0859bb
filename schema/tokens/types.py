from __future__ import annotations

from datetime import datetime

import strawberry

import models
from models.enums import TokenScope
from services.identity import api_tokens

strawberry.enum(
    TokenScope,
    description=(
        "What an API token may do. EXPORT: read statistics from GET /export/statistics.csv and "
        ".json (BI tools); INGEST: post energy records to /ingest/energy (meter gateways). API "
        "tokens never authenticate /graphql."
    ),
)


@strawberry.type(
    description="A long-lived token for a machine, acting with its user's scope on its scope's routes. "
    "The secret itself is shown once, by createApiToken."
)
class ApiToken:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    name: str = strawberry.field(description="What the token is for, e.g. 'Power BI, energy office'.")
    scope: TokenScope = strawberry.field(description="The routes the token may call.")
    prefix: str = strawberry.field(
        description="The first characters of the secret (ccms_…), to tell tokens apart."
    )
    created_at: datetime = strawberry.field(description="When the token was created.")
    expires_at: datetime | None = strawberry.field(description="When it stops working; null: never.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last accepted, to the minute; null: never used."
    )
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null: not revoked.")

    @strawberry.field(description="Neither revoked nor expired: the token is accepted.")
    def active(self, root: strawberry.Parent[models.ApiToken]) -> bool:
        return api_tokens.is_active(root)
