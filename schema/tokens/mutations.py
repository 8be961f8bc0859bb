from __future__ import annotations

import strawberry


@strawberry.type
class TokenMutations:
    pass
