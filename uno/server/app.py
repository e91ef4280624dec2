"""``create_app``: the FastAPI application serving the REST API and, with an upstream model, the memory proxy."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from uno import __version__
from uno.integrations.conversation import ConversationRecorder
from uno.memory import UnoMemory
from uno.server.auth import ApiKeys
from uno.server.dashboard import mount_dashboard
from uno.server.errors import install_error_handlers
from uno.server.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit
from uno.server.proxy import proxy_router
from uno.server.rest import router as rest_router
from uno.server.schemas import Health
from uno.server.state import ServerState
from uno.server.upstream import Upstream

DESCRIPTION = """\
uno learns from your LLM app's user logs and injects what it learnt into new prompts.

* **REST**: send logs and feedback, build, read rules (with provenance), retire them, augment prompts, forget;
  read clusters, the quarantine, adapters and the LLM ledger.
* **Dashboard** at `/ui`: the same API in a browser page (it asks for the API key).
* **Memory proxy** (when started with an upstream model): `POST /v1/chat/completions`, OpenAI-compatible. Point
  your OpenAI client's `base_url` here: every conversation is augmented with uno's memory and logged, and the
  user's next turn becomes feedback on the answer before it.

Every `/v1` route needs `Authorization: Bearer KEY`; each key belongs to one tenant and sees only its data.
"""


def create_app(
    memory_or_path: UnoMemory | str | os.PathLike[str],
    *,
    api_keys: Mapping[str, str] | None = None,
    vouch_users: Iterable[str] = (),
    upstream: str | Upstream | None = None,
    anonymous_namespace: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    warm_up: bool = False,
    strategy_bandit: bool = False,
    explore: bool = True,
) -> FastAPI:
    """The uno server.

    Args:
        memory_or_path: the ``UnoMemory`` to serve, or a store directory to open one on (closed at shutdown).
        api_keys: ``{key: namespace}``. A request's key decides its tenant; a key never sees another's data.
        vouch_users: keys trusted to send their users' real ids (a backend that logs its users in). Logs are
            stamped with their key's identity; a key's logs count as one source of support for a shared rule,
            unless the key is listed here: then each of its users is one (see docs/threat-model.md).
        upstream: a litellm model name (``openai/gpt-4o-mini``) or an :class:`Upstream`; enables the
            OpenAI-compatible ``/v1/chat/completions`` proxy. Without one the route does not exist.
        anonymous_namespace: serve without API keys, every request in this namespace (local use only; not
            allowed together with ``api_keys``).
        max_body_bytes: larger request bodies are refused with 413.
        warm_up: load the embedding model (and litellm) at startup, so the first request is not the slow one.
        strategy_bandit: the proxy lets each namespace's per-cluster bandit (:mod:`uno.bandit`) choose how learnt
            material is used (none / rules / reflective plan / adapter). The arm that produced an answer is kept in
            its log, and the feedback on it (the user's next turn through the proxy, or a reaction, rating or edit
            sent to ``/v1/logs/{id}/feedback``) rewards that arm in the store.
        explore: with ``strategy_bandit``, Thompson sampling; False: always the best posterior mean.
    """
    keys = ApiKeys(api_keys or {}, vouch_users=vouch_users)
    if not keys and anonymous_namespace is None:
        raise ValueError("create_app needs api_keys ({key: namespace}) or anonymous_namespace= to serve without keys")
    if keys and anonymous_namespace is not None:
        raise ValueError("give api_keys or anonymous_namespace, not both")
    if isinstance(memory_or_path, UnoMemory):
        memory, owned = memory_or_path, False
    else:
        memory, owned = UnoMemory(Path(memory_or_path)), True
    model = Upstream(upstream) if isinstance(upstream, str) else upstream
    state = ServerState(
        memory=memory,
        recorder=ConversationRecorder(memory, source="proxy"),
        api_keys=keys or None,
        anonymous_namespace=anonymous_namespace,
        upstream=model,
        bandit_explore=explore if strategy_bandit else None,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            # Both are slow imports (the embedding model, litellm): side by side.
            loads = [asyncio.to_thread(_load_embedder, memory)]
            if model is not None:
                loads.append(asyncio.to_thread(model.warm_up))
            await asyncio.gather(*loads)
        try:
            yield
        finally:
            if owned:
                memory.close()

    app = FastAPI(title="uno", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.uno = state
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness (no API key needed)."""
        return Health(version=__version__, proxy_model=model.model if model else None)

    app.include_router(rest_router)
    mount_dashboard(app)
    if model is not None:
        app.include_router(proxy_router(model))
    return app


def _load_embedder(memory: UnoMemory) -> None:
    memory.embedder.embed(["warm up"])
