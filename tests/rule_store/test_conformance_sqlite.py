"""The RuleStore conformance suite, run on a file-backed SQLiteRuleStore and on an in-memory one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rule_store.protocol import RuleStore
from rule_store.sqlite import SQLiteRuleStore
from rule_store.testing import RuleStoreConformance


class TestSQLiteFileStore(RuleStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[RuleStore]:
        with SQLiteRuleStore(tmp_path / "uno.sqlite") as store:
            yield store

    @pytest.fixture
    def second_handle(self, store: RuleStore) -> Iterator[RuleStore | None]:
        assert isinstance(store, SQLiteRuleStore)
        with SQLiteRuleStore(store.path) as handle:
            yield handle


class TestSQLiteMemoryStore(RuleStoreConformance):
    @pytest.fixture
    def store(self) -> Iterator[RuleStore]:
        with SQLiteRuleStore(":memory:") as store:
            yield store
