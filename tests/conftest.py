"""Fixtures shared by every test directory: the PostgreSQL test server (``postgres_url``) and a schema of
its own per test (``postgres_schema``); see :mod:`rule_store.testing_postgres`."""

from rule_store.testing_postgres import postgres_schema_fixture, postgres_url_fixture

__all__ = ["postgres_schema_fixture", "postgres_url_fixture"]
