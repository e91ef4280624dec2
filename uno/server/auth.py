"""API keys: each key maps to one tenant (namespace), and every request is served inside its key's tenant only.

Keys are kept as SHA-256 digests and looked up by digest, so the lookup time does not depend on how much of a
guessed key is right, and the server's memory holds no key in the clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from uno.server.errors import ApiError
from uno.server.state import ServerState, server_state

# Read by ``uno serve``: ``KEY=NAMESPACE`` pairs separated by commas.
API_KEYS_ENV = "UNO_API_KEYS"
_MAX_NAMESPACE = 200

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="`Authorization: Bearer KEY`. Each key belongs to one tenant and only ever sees that tenant's data.",
)


class ApiKeys:
    """The server's keys, each bound to one namespace."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._by_digest: dict[bytes, str] = {}
        for key, namespace in keys.items():
            if not key or not key.strip() or key != key.strip():
                raise ValueError("an API key is empty or has surrounding whitespace")
            if not namespace or len(namespace) > _MAX_NAMESPACE:
                raise ValueError(f"the namespace of an API key must have 1 to {_MAX_NAMESPACE} characters")
            self._by_digest[_digest(key)] = namespace

    def __len__(self) -> int:
        return len(self._by_digest)

    def namespace_for(self, key: str) -> str | None:
        return self._by_digest.get(_digest(key))


def parse_api_keys(specs: str | Iterable[str]) -> dict[str, str]:
    """``"k1=acme,k2=globex"`` (or an iterable of ``"KEY=NAMESPACE"``) as ``{key: namespace}``."""
    items = specs.split(",") if isinstance(specs, str) else list(specs)
    keys: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        key, sep, namespace = item.partition("=")
        if not sep or not key.strip() or not namespace.strip():
            raise ValueError(f"API key spec {item!r} is not KEY=NAMESPACE")
        if key.strip() in keys and keys[key.strip()] != namespace.strip():
            raise ValueError("the same API key is given for two namespaces")
        keys[key.strip()] = namespace.strip()
    return keys


def tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The namespace of the request's API key (401 without a valid key)."""
    state = server_state(request)
    if state.anonymous_namespace is not None:
        return state.anonymous_namespace
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(401, "missing API key: send `Authorization: Bearer KEY`", headers=challenge)
    namespace = state.api_keys.namespace_for(credentials.credentials) if state.api_keys else None
    if namespace is None:
        raise ApiError(401, "unknown API key", headers=challenge)
    return namespace


Tenant = Annotated[str, Depends(tenant)]
State = Annotated[ServerState, Depends(server_state)]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()
