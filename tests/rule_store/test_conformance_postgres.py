"""The RuleStore conformance suite, unchanged, on PostgresRuleStore (a schema of its own per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rule_store.protocol import RuleStore
from rule_store.testing import RuleStoreConformance


class TestPostgresStore(RuleStoreConformance):
    @pytest.fixture
    def store(self, postgres_schema: tuple[str, str]) -> Iterator[RuleStore]:
        from rule_store.postgres import PostgresRuleStore

        url, schema = postgres_schema
        with PostgresRuleStore(url, schema=schema, pool_size=4) as store:
            yield store

    @pytest.fixture
    def second_handle(self, store: RuleStore, postgres_schema: tuple[str, str]) -> Iterator[RuleStore | None]:
        from rule_store.postgres import PostgresRuleStore

        url, schema = postgres_schema
        with PostgresRuleStore(url, schema=schema, pool_size=2) as handle:
            yield handle
