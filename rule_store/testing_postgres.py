"""Test helpers for the PostgreSQL store: where the test server is, whether it answers, a schema per test.

``tests/conftest.py`` exposes the two fixtures below to every test:

* ``postgres_url`` (session): the server's URL, from ``UNO_TEST_POSTGRES_URL`` (default
  ``postgresql://postgres@127.0.0.1:5432/test``). When it does not answer, or psycopg is not installed, the
  tests that use it are skipped with the reason, or fail when ``UNO_REQUIRE_POSTGRES=1`` (CI sets it, so a
  missing server is never a silent skip).
* ``postgres_schema`` (function): ``(url, schema)``, a fresh schema name unique to the test, dropped with
  everything in it afterwards. The store creates the schema when it opens it.

Like :mod:`rule_store.testing`, this module imports pytest: only test code imports it. psycopg is imported
inside the functions, so collecting tests works without the [postgres] extra.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL_ENV = "UNO_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "UNO_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_CONNECT_TIMEOUT_S = 5


def postgres_url() -> str:
    """The test server's URL (``UNO_TEST_POSTGRES_URL``, else the default)."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    """Whether a missing test server must fail the tests instead of skipping them (``UNO_REQUIRE_POSTGRES=1``)."""
    return os.environ.get(REQUIRE_POSTGRES_ENV, "").strip().lower() in ("1", "true", "yes")


def postgres_unreachable_reason(url: str) -> str | None:
    """Why the server at ``url`` cannot be used for tests, or None when a connection and a query succeed."""
    try:
        import psycopg
    except ModuleNotFoundError:
        return "psycopg is not installed (pip install 'uno-memory[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {_redacted(url)} is unreachable: {str(error).strip()}"
    return None


def require_postgres() -> str:
    """The test server's URL; skips the calling test when it is unreachable, or fails it when required."""
    url = postgres_url()
    reason = postgres_unreachable_reason(url)
    if reason is None:
        return url
    hint = f"(set {POSTGRES_URL_ENV} to a test server; {REQUIRE_POSTGRES_ENV}=1 turns this skip into a failure)"
    if postgres_required():
        pytest.fail(f"{reason}; {REQUIRE_POSTGRES_ENV} is set, so the PostgreSQL tests may not be skipped")
    pytest.skip(f"{reason} {hint}")


def unique_schema_name(prefix: str = "uno_test") -> str:
    """A schema name no other test uses (lowercase, well under PostgreSQL's 63-byte limit)."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it, if it exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def temporary_schema(url: str, prefix: str = "uno_test") -> Iterator[str]:
    """A fresh schema name for the block; the schema (if anything created it) is dropped afterwards."""
    schema = unique_schema_name(prefix)
    try:
        yield schema
    finally:
        drop_schema(url, schema)


@pytest.fixture(scope="session", name="postgres_url")
def postgres_url_fixture() -> str:
    return require_postgres()


@pytest.fixture(name="postgres_schema")
def postgres_schema_fixture(postgres_url: str) -> Iterator[tuple[str, str]]:
    with temporary_schema(postgres_url) as schema:
        yield postgres_url, schema


def _redacted(url: str) -> str:
    """``url`` without a password in its authority, for skip and failure messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    authority, slash, path = rest.partition("/")
    user_info, _, host = authority.rpartition("@")
    user = user_info.split(":", 1)[0]
    masked = f"{user}:***" if ":" in user_info else user
    return f"{scheme}://{masked}@{host}{slash}{path}"
