"""The Adapter record: derived ids and serving names, and the input it refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rule_store.records import DEFAULT_NAMESPACE, Adapter, AdapterKind, AdapterStatus


def adapter(**fields: object) -> Adapter:
    values: dict[str, object] = {"cluster_id": "cluster-0123456789abcdef", "base_model": "models/tiny"}
    return Adapter.model_validate(values | fields)


def test_defaults() -> None:
    made = adapter()
    assert (made.namespace, made.kind, made.version, made.status) == (
        DEFAULT_NAMESPACE,
        AdapterKind.EXPERT,
        1,
        AdapterStatus.CANDIDATE,
    )
    assert made.path is None
    assert made.source_log_ids == []


def test_id_is_derived_from_what_identifies_the_adapter() -> None:
    made = adapter()
    assert made.id.startswith("adp-")
    assert adapter().id == made.id
    # Status, sources, path and metrics change over an adapter's life; its id must not.
    assert adapter(status="accepted", source_log_ids=["log-1"], path="/tmp/a", metrics={"loss": 1.0}).id == made.id
    variants = [
        adapter(namespace="tenant-b"),
        adapter(cluster_id="cluster-other"),
        adapter(kind="critic"),
        adapter(base_model="models/other"),
        adapter(version=2),
    ]
    assert len({made.id, *(v.id for v in variants)}) == 1 + len(variants)


def test_explicit_id_and_name_are_kept() -> None:
    made = adapter(id="adp-custom", name="my-adapter.v1")
    assert (made.id, made.name) == ("adp-custom", "my-adapter.v1")


def test_name_is_derived_from_kind_cluster_and_version() -> None:
    assert adapter(kind="critic", version=12).name == "uno-critic-89abcdef-v12"
    assert adapter(cluster_id="c1").name == "uno-expert-c1-v1"


def test_derived_name_is_sanitised_for_serving() -> None:
    made = adapter(cluster_id="cluster/a b:dé")  # its last 8 characters are "r/a b:dé"
    assert made.name == "uno-expert-r-a-b-d--v1"
    assert made.cluster_id == "cluster/a b:dé"


@pytest.mark.parametrize("name", ["has space", "slash/in", "ünicode", "colon:in"])
def test_unsafe_explicit_name_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="may only contain"):
        adapter(name=name)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"version": 0}, "greater than or equal to 1"),
        ({"cluster_id": ""}, "at least 1 character"),
        ({"base_model": ""}, "at least 1 character"),
        ({"namespace": ""}, "at least 1 character"),
        ({"status": "served"}, "status"),
        ({"kind": "teacher"}, "kind"),
        ({"metrics": {"loss": "low"}}, "metrics"),
        ({"weights": "/tmp/a"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_fields_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        adapter(**fields)


def test_json_round_trip_keeps_non_finite_metrics() -> None:
    made = adapter(metrics={"loss": float("nan"), "ratio": float("-inf"), "acc": 0.1}, config={"lora": {"r": 8}})
    text = made.model_dump_json()
    assert "NaN" in text and "-Infinity" in text
    back = Adapter.model_validate_json(text)
    assert back.model_dump_json() == text
    assert back.metrics["ratio"] == float("-inf")
