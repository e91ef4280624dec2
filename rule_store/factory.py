"""``open_store(spec)``: a PostgreSQL URL opens the shared PostgreSQL store, anything else a SQLite file.

A URL may carry the PostgreSQL schema to use as a ``schema`` query parameter
(``postgresql://uno@db/uno?schema=tenant_tests``): libpq refuses parameters it does not know, so it is taken off
the URL here and handed to the store as ``schema=``. Passwords never leave this module in a message: use
:func:`redact_url` for anything shown or logged.
"""

from __future__ import annotations

import importlib
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rule_store.protocol import RuleStore

POSTGRES_SCHEMES = ("postgresql", "postgres")
SCHEMA_PARAM = "schema"
_REDACTED = "***"


def is_store_url(spec: object) -> bool:
    """Whether ``spec`` names a PostgreSQL store (``postgresql://...`` or ``postgres://...``)."""
    if not isinstance(spec, str):
        return False
    scheme, sep, _ = spec.partition("://")
    return bool(sep) and scheme.lower() in POSTGRES_SCHEMES


def redact_url(url: str) -> str:
    """``url`` with its password (in the authority or a ``password`` query parameter) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        user = user_info.split(":", 1)[0]
        netloc = f"{user}:{_REDACTED}@{host}"
    query = [
        (key, _REDACTED if key.lower() == "password" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), parts.fragment))


def split_schema(url: str) -> tuple[str, str | None]:
    """``url`` without its ``schema`` query parameter, and that parameter (``None`` when absent)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == SCHEMA_PARAM]
    if len(schemas) > 1:
        raise ValueError(f"{redact_url(url)}: give the {SCHEMA_PARAM!r} parameter once, not {len(schemas)} times")
    if schemas and not schemas[0]:
        raise ValueError(f"{redact_url(url)}: the {SCHEMA_PARAM!r} parameter is empty")
    rest = urlencode([(key, value) for key, value in query if key != SCHEMA_PARAM])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), (schemas[0] if schemas else None)


def open_store(spec: str | os.PathLike[str], **options: Any) -> RuleStore:
    """The store ``spec`` names: a PostgreSQL URL, or the path of a SQLite database file (or ``":memory:"``).

    ``options`` go to the store's constructor (e.g. ``busy_timeout_s`` for SQLite, which becomes the pool's
    ``pool_timeout_s`` for PostgreSQL). The PostgreSQL backend is imported only here, so a SQLite user needs no
    PostgreSQL driver.
    """
    if is_store_url(spec):
        assert isinstance(spec, str)
        url, schema = split_schema(spec)
        if schema is not None:
            options.setdefault("schema", schema)
        # How long to wait for the store: for SQLite a writer's lock, here a pooled connection.
        waited = options.pop("busy_timeout_s", None)
        if waited is not None:
            options.setdefault("pool_timeout_s", waited)
        # By name: the backend (and its driver) loads only for a PostgreSQL URL.
        postgres = importlib.import_module("rule_store.postgres")
        store: RuleStore = postgres.PostgresRuleStore(url, **options)
        return store
    from rule_store.sqlite import SQLiteRuleStore

    return SQLiteRuleStore(spec, **options)
