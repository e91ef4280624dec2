from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rule_store.sqlite import SQLiteRuleStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteRuleStore]:
    with SQLiteRuleStore(tmp_path / "store" / "uno.sqlite") as opened:
        yield opened
