"""API keys: each key maps to one tenant (namespace), and every request is served inside its key's tenant only.

Keys are kept as SHA-256 digests and looked up by digest, so the lookup time does not depend on how much of a
guessed key is right, and the server's memory holds no key in the clear.

Every log a key sends is stamped with the key's identity (``LogRecord.verified_id``, ``key:`` and a short digest of
the key), replacing anything the client sent: support for a shared rule is counted by it, so one key's clients count
as one source however many user ids they invent. A key listed in ``vouch_users`` is trusted to send its users' real
ids (a backend that logs its users in): its logs are stamped ``key:<digest>/user:<user_id>``, one source per user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Caller:
    """Who sent a request: its tenant and, when the server has keys, the identity of its key."""

    namespace: str
    # ``key:`` and the first 16 hex digits of the key's SHA-256 (None when serving without keys).
    key_id: str | None = None
    # Whether the key is trusted to send its users' real ids.
    vouches_users: bool = False

    def verified_id(self, user_id: str | None) -> str | None:
        """The identity a log this caller sends is stamped with (whatever the log itself claims)."""
        if self.key_id is None:
            return None
        if self.vouches_users and user_id:
            return f"{self.key_id}/user:{user_id}"
        return self.key_id


class ApiKeys:
    """The server's keys, each bound to one namespace; ``vouch_users``: keys trusted to send real user ids."""

    def __init__(self, keys: Mapping[str, str], *, vouch_users: Iterable[str] = ()) -> None:
        self._by_digest: dict[bytes, str] = {}
        for key, namespace in keys.items():
            if not key or not key.strip() or key != key.strip():
                raise ValueError("an API key is empty or has surrounding whitespace")
            if not namespace or len(namespace) > _MAX_NAMESPACE:
                raise ValueError(f"the namespace of an API key must have 1 to {_MAX_NAMESPACE} characters")
            self._by_digest[_digest(key)] = namespace
        self._vouching = {_digest(key) for key in vouch_users}
        if not self._vouching <= set(self._by_digest):
            raise ValueError("vouch_users names a key that is not one of the API keys")

    def __len__(self) -> int:
        return len(self._by_digest)

    def namespace_for(self, key: str) -> str | None:
        return self._by_digest.get(_digest(key))

    def caller_for(self, key: str) -> Caller | None:
        """The caller a key identifies (None for an unknown key)."""
        digest = _digest(key)
        namespace = self._by_digest.get(digest)
        if namespace is None:
            return None
        return Caller(namespace, "key:" + digest.hex()[:16], digest in self._vouching)


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


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The request's tenant and key identity (401 without a valid key), for stamping the logs it sends."""
    namespace = tenant(request, credentials)
    state = server_state(request)
    if state.anonymous_namespace is not None or credentials is None or state.api_keys is None:
        return Caller(namespace)
    return state.api_keys.caller_for(credentials.credentials) or Caller(namespace)


Tenant = Annotated[str, Depends(tenant)]
Identity = Annotated[Caller, Depends(caller)]
State = Annotated[ServerState, Depends(server_state)]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()
