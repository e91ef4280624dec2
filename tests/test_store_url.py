"""Choosing the store from ``--store``/``$UNO_STORE``/``UnoMemory(path)``: a PostgreSQL URL or a SQLite directory;
the build lease as the CLI and ``UnoMemory.build`` use it."""

from __future__ import annotations

from pathlib import Path

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

        def distil_and_try_the_lease(logs: list) -> list:  # type: ignore[type-arg]
            with pytest.raises(LeaseHeld) as refused, memory.store.build_lease("build:default"):
                pass
            seen.append(str(refused.value))
            return distil(logs)

        memory._distill = distil_and_try_the_lease  # type: ignore[method-assign]
        assert memory.build().rules_by_status == {"active": 3}
        assert seen and seen[0].startswith("another build holds the lease 'build:default'")
        with memory.store.build_lease("build:default"):
            pass
