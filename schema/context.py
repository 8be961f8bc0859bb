"""The per-request context: who is calling, their loaders, and the file store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info

import models
from core.hub import MemoryHub
from core.settings import Settings
from schema.loaders import Loaders
from services.access import Actor
from services.compliance.documents import FileStore
from services.i18n.languages import Language
from services.identity.tokens import Claims


@dataclass
class Context:
    settings: Settings
    files: FileStore
    actor: Actor | None
    # The signed-in user's row as the token check read it (HTTP only), so that `me` does not
    # read it again; a WebSocket's context outlives it, so there it stays None.
    user: models.User | None = None
    request: Request | WebSocket | None = None
    response: object | None = field(default=None)
    # Set by `login` so its payload (`user { enterprise }`) reads as the new session would;
    # it authenticates nothing: root fields still check `actor`.
    signed_in: Actor | None = None
    hub: MemoryHub | None = None
    # The graphql-transport-ws connection_init payload (where browsers put the token).
    connection_params: dict[str, Any] | None = None
    # The token a WebSocket signed in with, re-checked while the connection stays open.
    claims: Claims | None = None
    # The reader's language for messages and error texts: Accept-Language on HTTP, the
    # `language` connection parameter on a WebSocket, else CCMS_LANGUAGE.
    language: Language = "zh-CN"
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        viewer = self.actor or self.signed_in
        if viewer is None:  # guarded by IsAuthenticated before any loader is used
            raise RuntimeError("loaders need an authenticated actor")
        if isinstance(self.request, WebSocket):
            # A WebSocket context lives as long as the connection: cached rows would go
            # stale between events, so each use gets fresh loaders.
            return Loaders(viewer)
        if self._loaders is None:
            self._loaders = Loaders(viewer)
        return self._loaders


def language_of(info: Info) -> Language:
    language: Language = info.context.language
    return language


def actor_of(info: Info) -> Actor:
    """The caller; root fields that reach here are guarded by IsAuthenticated."""
    actor = info.context.actor
    assert actor is not None
    return actor
