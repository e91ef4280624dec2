"""What the app's routes share: the memory, the keys, the conversation recorder and the upstream model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

if TYPE_CHECKING:
    from uno.integrations.conversation import ConversationRecorder
    from uno.memory import UnoMemory
    from uno.server.auth import ApiKeys
    from uno.server.upstream import Upstream


@dataclass(frozen=True)
class ServerState:
    memory: UnoMemory
    recorder: ConversationRecorder
    api_keys: ApiKeys | None
    # Set only when the server runs without keys (local use): every request is served in this namespace.
    anonymous_namespace: str | None
    upstream: Upstream | None
    # The proxy lets the namespace's strategy bandit (uno.bandit) choose how learnt material is used, exploring
    # (Thompson sampling) or not; None: no bandit. The user's feedback on an answer rewards the arm behind it.
    bandit_explore: bool | None = None


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.uno
    return state
