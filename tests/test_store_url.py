"""Choosing the store from ``--store``/``$UNO_STORE``/``UnoMemory(path)``: a PostgreSQL URL or a SQLite directory;
the build lease as the CLI and ``UnoMemory.build`` use it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rule_store import LeaseHeld, SQLiteRuleStore, is_store_url, open_store, redact_url
from rule_store.factory import split_schema
from tests.integrations.data import fast_memory, training_logs
from uno.cli import EXIT_BUSY, main
from uno.paths import CACHE_DIR_ENV, StorePaths, local_cache_dir


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("postgresql://uno@db.internal/uno", True),
        ("postgres://uno:pw@db:5432/uno?sslmode=require", True),
        ("POSTGRESQL://uno@db/uno", True),
        ("./.uno", False),
        ("postgresql:/folded/by/a/path", False),
        ("sqlite:///x.db", False),
        (Path("postgresql://x"), False),
    ],
)
def test_only_a_postgresql_url_names_the_shared_store(spec: object, expected: bool) -> None:
    assert is_store_url(spec) is expected


def test_passwords_are_redacted_wherever_the_url_holds_them() -> None:
    shown = redact_url("postgresql://uno:s3cr%40t@db:5432/uno?password=other&sslmode=require")
    assert "s3cr" not in shown and "other" not in shown
    assert shown == "postgresql://uno:***@db:5432/uno?password=***&sslmode=require"
    assert redact_url("postgresql://uno@db/uno") == "postgresql://uno@db/uno"


def test_the_schema_parameter_is_taken_off_the_url() -> None:
    assert split_schema("postgresql://uno@db/uno?schema=tenant_a&sslmode=require") == (
        "postgresql://uno@db/uno?sslmode=require",
        "tenant_a",
    )
    assert split_schema("postgresql://uno@db/uno") == ("postgresql://uno@db/uno", None)
    with pytest.raises(ValueError, match="'schema' parameter once"):
        split_schema("postgresql://uno:pw@db/uno?schema=a&schema=b")
    with pytest.raises(ValueError, match=r"^postgresql://uno:\*\*\*@db/uno\?schema=: the 'schema' parameter is empty"):
        split_schema("postgresql://uno:pw@db/uno?schema=")


def test_a_url_keeps_its_local_files_in_a_cache_dir_named_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    paths = StorePaths.resolve("postgresql://uno:first@db/uno")
    assert paths.url == "postgresql://uno:first@db/uno"
    assert paths.root.parent == tmp_path / "cache"
    assert paths.spec == paths.location == paths.url
    assert paths.display == "postgresql://uno:***@db/uno"
    assert "first" not in repr(paths)
    assert paths.exists()
    # A rotated password keeps the cache; another database or schema has its own.
    assert local_cache_dir("postgresql://uno:second@db/uno") == paths.root
    assert local_cache_dir("postgresql://uno@db/other") != paths.root
    assert local_cache_dir("postgresql://uno@db/uno?schema=b") != paths.root


def test_url_from_the_environment_and_a_directory_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNO_STORE", "postgresql://uno@db/uno")
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert StorePaths.resolve().root.parent == tmp_path / "xdg" / "uno"
    local = StorePaths.resolve(tmp_path / "store")
    assert local.url is None and local.spec == tmp_path / "store" / "uno.sqlite"
    assert local.location == local.root and local.display == str(tmp_path / "store")
    assert not local.exists()


def test_open_store_opens_sqlite_for_a_path(tmp_path: Path) -> None:
    with open_store(tmp_path / "uno.sqlite", busy_timeout_s=1.0) as store:
        assert isinstance(store, SQLiteRuleStore)


def test_uno_build_refuses_while_another_build_holds_the_lease(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    with fast_memory(store_dir) as memory:
        memory.add_many(training_logs())
    with SQLiteRuleStore(StorePaths.resolve(store_dir).database) as other, other.build_lease("build:default"):
        result = CliRunner().invoke(main, ["--store", str(store_dir), "build", "--quiet"])
        assert result.exit_code == EXIT_BUSY
        assert "another build holds the lease 'build:default' (pid " in result.output
        assert "retry when it is done" in result.output
        # Another namespace's build is not in the way.
        with fast_memory(store_dir, namespace="other") as memory:
            assert memory.build().namespace == "other"


def test_memory_build_holds_the_lease_while_it_runs(tmp_path: Path) -> None:
    with fast_memory(tmp_path / "store") as memory:
        memory.add_many(training_logs())
        seen: list[str] = []
        distil = memory._distill

        def distil_and_try_the_lease(logs: list, *args: Any) -> list:  # type: ignore[type-arg]
            with pytest.raises(LeaseHeld) as refused, memory.store.build_lease("build:default"):
                pass
            seen.append(str(refused.value))
            return distil(logs, *args)

        memory._distill = distil_and_try_the_lease  # type: ignore[method-assign]
        assert memory.build().rules_by_status == {"active": 3}
        assert seen and seen[0].startswith("another build holds the lease 'build:default'")
        with memory.store.build_lease("build:default"):
            pass


# ----------------------------------------------------------------------------------------------- PostgreSQL


def _url(postgres_schema: tuple[str, str]) -> str:
    url, schema = postgres_schema
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def test_a_replica_on_an_empty_cache_rebuilds_its_read_model_from_the_database(
    postgres_schema: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(postgres_schema)
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "builder"))
    with fast_memory(url) as builder:  # type: ignore[arg-type]
        assert builder.store.schema_version >= 1 and type(builder.store).__name__ == "PostgresRuleStore"
        builder.add_many(training_logs())
        assert builder.build().rules_by_status == {"active": 3}
        learnt = {rule.aspect for rule in builder.augment("Can I cancel my subscription plan today?").rules}
        built_cache = builder.paths.root
    assert learnt == {"answer:yes_no"}
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "replica"))
    with fast_memory(url) as replica:  # type: ignore[arg-type]
        assert replica.paths.root != built_cache and not list(replica.paths.index_dir.iterdir())
        served = {rule.aspect for rule in replica.augment("Can I cancel my subscription plan today?").rules}
        assert served == learnt
        # It saved the read model it rebuilt: the next process on this cache loads it instead of re-embedding.
        assert list(replica.paths.index_dir.glob("*.generation"))


def test_the_cli_works_on_a_postgresql_store_and_refuses_a_second_build(
    postgres_schema: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(postgres_schema)
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    runner = CliRunner()
    fixtures = Path(__file__).parent / "fixtures" / "plain.jsonl"
    ingested = runner.invoke(main, ["--store", url, "ingest", str(fixtures)])
    assert ingested.exit_code == 0, ingested.output
    stats = runner.invoke(main, ["--store", url, "stats", "--json"])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.output)["logs"] > 0
    with open_store(url) as other, other.build_lease("build:default"):
        refused = runner.invoke(main, ["--store", url, "build", "--quiet"])
    assert refused.exit_code == EXIT_BUSY
    assert "another build holds the lease 'build:default' (" in refused.output


def test_an_unreachable_postgresql_store_is_one_line_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNO_BUSY_TIMEOUT_S", "0.5")
    result = CliRunner().invoke(main, ["--store", "postgresql://uno:hunter2@127.0.0.1:1/uno", "stats"])
    assert result.exit_code == 2
    assert "the store postgresql://uno:***@127.0.0.1:1/uno cannot be used: " in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    ("command", "message"), [(["demo"], "give --store DIR"), (["restore", "x.sqlite", "--yes"], "PostgreSQL's tools")]
)
def test_commands_for_a_store_directory_refuse_a_url(command: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["--store", "postgresql://uno:hunter2@db.invalid/uno", *command])
    assert result.exit_code == 2
    assert message in result.output and "hunter2" not in result.output
