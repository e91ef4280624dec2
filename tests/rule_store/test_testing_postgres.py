"""The PostgreSQL test fixtures skip when the server is unreachable, and fail instead when CI requires it."""

from __future__ import annotations

import pytest

from rule_store import testing_postgres

# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/test"


def test_an_unreachable_server_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(testing_postgres.POSTGRES_URL_ENV, UNREACHABLE)
    monkeypatch.delenv(testing_postgres.REQUIRE_POSTGRES_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        testing_postgres.require_postgres()
    message = str(skipped.value)
    assert "UNO_REQUIRE_POSTGRES=1" in message
    assert "s3cret" not in message
    assert "127.0.0.1:1" in message or "not installed" in message


def test_an_unreachable_server_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(testing_postgres.POSTGRES_URL_ENV, UNREACHABLE)
    monkeypatch.setenv(testing_postgres.REQUIRE_POSTGRES_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="may not be skipped"):
        testing_postgres.require_postgres()


def test_the_default_url_is_the_local_test_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(testing_postgres.POSTGRES_URL_ENV, raising=False)
    assert testing_postgres.postgres_url() == "postgresql://postgres@127.0.0.1:5432/test"
    names = {testing_postgres.unique_schema_name() for _ in range(100)}
    assert len(names) == 100
    assert all(len(name) <= 63 and name == name.lower() for name in names)
