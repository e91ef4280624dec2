import numpy as np
import pytest

from uno.cluster import ClusteringConfig, dual_vectors, fit_clusters, normalize, similarity_cutoff


def blobs(seed: int, centers: int, per: int, dim: int = 32, spread: float = 0.15) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = normalize(rng.normal(size=(centers, dim)))
    points = np.concatenate([middle[c] + spread * rng.normal(size=(per, dim)) / np.sqrt(dim) for c in range(centers)])
    return normalize(points)


@pytest.mark.parametrize("method", ["hdbscan", "ward"])
def test_recovers_query_and_feedback_groups(method: str) -> None:
    queries = blobs(1, 2, 20)
    # within each query group, two feedback groups: four clusters in all
    feedback = np.concatenate([blobs(2, 2, 10), blobs(2, 2, 10)])
    ids = [f"log{i}" for i in range(40)]
    fit = fit_clusters("ns", ids, queries, feedback, ClusteringConfig(method=method, ward_distance_threshold=1.0))  # type: ignore[arg-type]
    assert len(fit.clusters) == 4
    sizes = sorted(len(c.member_log_ids) for c in fit.clusters)
    assert sizes == [10, 10, 10, 10]
    for cluster in fit.clusters:
        assert np.isclose(np.linalg.norm(cluster.centroid), 1.0, atol=1e-5)
        assert 0.0 < cluster.min_similarity <= 0.95


def test_outlier_is_not_forced_into_a_cluster() -> None:
    queries = np.concatenate([blobs(3, 1, 15), normalize(np.random.default_rng(9).normal(size=(1, 32)))])
    feedback = np.concatenate([blobs(4, 1, 15), normalize(np.random.default_rng(10).normal(size=(1, 32)))])
    ids = [f"l{i}" for i in range(16)]
    fit = fit_clusters("ns", ids, queries, feedback, ClusteringConfig())
    assert "l15" not in fit.assignment
    assert {f"l{i}" for i in range(15)} <= set(fit.assignment)


def test_cutoff_has_a_floor_a_cap_and_tracks_members() -> None:
    config = ClusteringConfig(similarity_floor=0.4, similarity_cap=0.6)
    assert similarity_cutoff([0.9, 0.92, 0.95, 0.97], config) == 0.6
    assert similarity_cutoff([0.50, 0.52, 0.55, 0.58, 0.6, 0.62], config) == pytest.approx(0.46, abs=0.01)
    assert similarity_cutoff([0.1, 0.2, 0.3], config) == 0.4
    assert similarity_cutoff([], config) == 1.0


def test_other_topics_raise_the_cutoff() -> None:
    config = ClusteringConfig(similarity_floor=0.1, similarity_cap=0.3, same_topic_similarity=0.75)
    queries = blobs(11, 2, 12, spread=0.6)
    feedback = blobs(12, 2, 12)
    fit = fit_clusters("ns", [f"l{i}" for i in range(24)], queries, feedback, config)
    assert len(fit.clusters) == 2
    for cluster in fit.clusters:
        others = [i for i in range(24) if f"l{i}" not in cluster.member_log_ids]
        sims = queries[others] @ np.asarray(cluster.centroid, dtype=np.float32)
        assert cluster.min_similarity > float(np.percentile(sims, 95))


def test_dual_vectors_are_unit_length() -> None:
    out = dual_vectors(blobs(5, 1, 4), blobs(6, 1, 4))
    assert out.shape == (4, 64)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_label_names_what_sets_a_cluster_apart() -> None:
    from uno.cluster import cluster_label

    inside = ["How long to roast chicken?", "Roast chicken temperature?", "Is roast chicken done at 70C?"]
    outside = ["How do I file taxes?", "Tax deadline for freelancers?", *inside]
    label = cluster_label(inside, outside)
    assert label.split(", ")[:2] == ["chicken", "roast"]
    assert "how" not in label


def _blobs(count: int, per_blob: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((count, width))
    points = np.repeat(centers, per_blob, axis=0) + 0.15 * rng.standard_normal((count * per_blob, width))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_the_neighbour_graph_path_finds_the_clusters_exact_hdbscan_finds() -> None:
    from sklearn.metrics import adjusted_rand_score

    from uno.cluster import ClusteringConfig, cluster_labels

    vectors = _blobs(12, 40, 96, seed=3)
    exact = cluster_labels(vectors, ClusteringConfig(graph_above=10**9))
    graph = cluster_labels(vectors, ClusteringConfig(graph_above=0, graph_dimensions=32, graph_neighbours=12))
    inverted = cluster_labels(vectors, ClusteringConfig(graph_above=0, graph_ivf_above=0, graph_neighbours=12))
    assert exact.max() + 1 == 12
    assert adjusted_rand_score(exact, graph) >= 0.95
    assert adjusted_rand_score(exact, inverted) >= 0.95


def test_the_neighbour_graph_path_separates_parts_it_cannot_connect() -> None:
    from uno.cluster import ClusteringConfig, graph_hdbscan_labels, reduce_dimensions

    vectors = _blobs(3, 30, 16, seed=4)
    # Fewer neighbours than a blob has members: the k-NN graph falls apart into the three blobs.
    labels = graph_hdbscan_labels(vectors, 5, 3, ClusteringConfig(graph_neighbours=4))
    assert len(set(labels[labels >= 0])) == 3
    assert all(len(set(labels[blob * 30 : (blob + 1) * 30])) == 1 for blob in range(3))
    assert reduce_dimensions(vectors, 8).shape == (90, 8) and reduce_dimensions(vectors, 64).shape == (90, 16)


def test_label_keeps_topic_words_that_sklearns_stop_list_drops() -> None:
    from uno.cluster import cluster_label

    inside = ["fire alarm keeps beeping", "fire extinguisher for the kitchen", "Is a fire blanket enough?"]
    outside = ["How do I file taxes?", "Whenever I cook rice it sticks", *inside]
    label = cluster_label(inside, outside)
    assert label.split(", ")[0] == "fire"
    assert not {"enough", "whenever", "the"} & set(label.split(", "))
