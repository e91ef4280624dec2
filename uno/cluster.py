"""Query-and-feedback clustering (UNO §3), with the flaws of the reference fixed.

* Logs are clustered on ``[q ; r]`` where ``q`` is the L2-normalised query embedding and ``r`` the L2-normalised mean
  of the log's rule embeddings, so two logs land together when they ask alike *and* were corrected alike.
* HDBSCAN is the default: it needs no absolute distance threshold (UNO's Ward threshold of 4 depends on data size)
  and it leaves outliers out instead of forcing them into a cluster. Ward with a distance threshold is kept as an
  option for parity with the paper.
* New queries are matched in query space only (the caller has no feedback yet), so each cluster's out-of-distribution
  cutoff is calibrated in that same space, from its own members' similarities to its centroid. A query below every
  cutoff belongs to no cluster, and nothing is injected for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from rule_store.records import Cluster, stable_hash

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ClusteringConfig:
    method: Literal["hdbscan", "ward"] = "hdbscan"
    # None: chosen from the data size (3 for small stores, up to 15).
    min_cluster_size: int | None = None
    # "leaf" keeps the fine, feedback-specific clusters; "eom" tends to merge whole topics into a few blobs.
    selection: Literal["leaf", "eom"] = "leaf"
    # Share of the dual vector given to the query (the rest to the feedback): above 0.5 clusters follow what
    # users asked first and how they corrected it second.
    query_weight: float = 0.5
    # Ward only: merge cost threshold on the unit-norm dual vectors.
    ward_distance_threshold: float = 1.5
    # No query below this cosine similarity to a centroid is ever in distribution, whatever the members say.
    similarity_floor: float = 0.26
    # Tight clusters (template-like queries) would otherwise demand near-copies of their members.
    similarity_cap: float = 0.34
    # A cutoff sits above this percentile of how close other topics' queries come to the centroid.
    negative_percentile: float = 80.0
    # Clusters whose centroids are at least this similar ask about the same thing (split by feedback only):
    # their members are not negatives for each other.
    same_topic_similarity: float = 0.75
    # Margin under the 10th percentile of the members' own similarities to their centroid.
    cutoff_margin: float = 0.05
    # HDBSCAN outliers join their nearest cluster when their query is at least this close to its centroid.
    attach_outliers: bool = True
    # From this many logs on, HDBSCAN runs on a FAISS k-nearest-neighbour graph (see :func:`graph_hdbscan_labels`)
    # instead of sklearn's exact minimum spanning tree over all n^2 pairs.
    graph_above: int = 5000
    # Neighbours per log in that graph (at least min_samples).
    graph_neighbours: int = 24
    # From this many logs on, the neighbours are found by an inverted-file index (IVF, ``graph_probes`` of
    # 2 sqrt(n) lists searched) instead of exactly: sub-quadratic, at a small loss of recall.
    graph_ivf_above: int = 20_000
    graph_probes: int = 16
    # PCA width before the neighbour search; None keeps every dimension. Measured on 6,256 real MiniLM dual vectors:
    # full width agreed with exact HDBSCAN at ARI 0.99; 256 and 64 principal components only at ~0.86 and ~0.43.
    graph_dimensions: int | None = None


def normalize(vectors: npt.ArrayLike) -> Vectors:
    array: Vectors = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        norm = float(np.linalg.norm(array))
        return (array / norm).astype(np.float32) if norm > 0 else array
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (array / norms).astype(np.float32)
    return out


def dual_vectors(query_vectors: Vectors, feedback_vectors: Vectors, query_weight: float = 0.5) -> Vectors:
    """Concatenate normalised query and feedback embeddings, weighted, and re-normalise."""
    q = np.sqrt(query_weight) * normalize(query_vectors)
    f = np.sqrt(1.0 - query_weight) * normalize(feedback_vectors)
    return normalize(np.hstack([q, f]))


def auto_min_cluster_size(n: int) -> int:
    """3 for tiny stores; 5 and up (one per 40 logs, at most 15) once there is enough data to be choosy."""
    return 3 if n < 60 else int(min(15, max(5, n // 40)))


def cluster_labels(vectors: Vectors, config: ClusteringConfig) -> npt.NDArray[np.int64]:
    """One label per row; -1 marks an outlier (HDBSCAN) that belongs to no cluster."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    size = config.min_cluster_size or auto_min_cluster_size(n)
    if n < size:
        return np.full(n, -1, dtype=np.int64)
    if config.method == "ward":
        from sklearn.cluster import AgglomerativeClustering

        ward = AgglomerativeClustering(
            n_clusters=None, linkage="ward", distance_threshold=config.ward_distance_threshold
        )
        return np.asarray(ward.fit_predict(vectors), dtype=np.int64)
    if n >= config.graph_above:
        return graph_hdbscan_labels(vectors, size, max(2, size // 2), config)
    from sklearn.cluster import HDBSCAN

    model = HDBSCAN(
        min_cluster_size=size,
        min_samples=max(2, size // 2),
        metric="euclidean",
        cluster_selection_method=config.selection,
        copy=True,
    )
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def reduce_dimensions(vectors: Vectors, width: int) -> Vectors:
    """The vectors projected on their ``width`` principal components (unchanged when they are no wider)."""
    if vectors.shape[1] <= width:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    # The components from the (d, d) covariance: O(n d^2), cheaper than an SVD of the (n, d) data.
    values, components = np.linalg.eigh(centred.T.astype(np.float64) @ centred.astype(np.float64))
    top = components[:, np.argsort(values)[::-1][:width]].astype(np.float32)
    return np.ascontiguousarray(centred @ top, dtype=np.float32)


def graph_hdbscan_labels(
    vectors: Vectors, min_cluster_size: int, min_samples: int, config: ClusteringConfig
) -> npt.NDArray[np.int64]:
    """HDBSCAN over a k-nearest-neighbour graph instead of all n^2 pairs.

    The mutual-reachability minimum spanning tree is taken over each log's ``graph_neighbours`` nearest neighbours
    (found by FAISS: exactly, or by an IVF index from ``graph_ivf_above`` logs), which holds the exact tree's edges
    whenever no cluster needs a link to a point outside its members' neighbourhoods. Parts of the graph that are
    not connected are joined by edges heavier than any other, so they separate at the top of the hierarchy. The
    tree is then condensed and clusters selected by sklearn's own routines, as :class:`sklearn.cluster.HDBSCAN`.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
    from sklearn.cluster._hdbscan._linkage import MST_edge_dtype, make_single_linkage
    from sklearn.cluster._hdbscan._tree import tree_to_labels

    n = len(vectors)
    reduced = np.ascontiguousarray(vectors, dtype=np.float32)
    if config.graph_dimensions is not None:
        reduced = reduce_dimensions(reduced, config.graph_dimensions)
    k = min(n, max(config.graph_neighbours, min_samples) + 1)
    squared, neighbours = _nearest(reduced, k, config)
    distances = np.sqrt(np.maximum(squared, 0.0)).astype(np.float64)
    # As sklearn: the distance to the min_samples-th neighbour, the point itself counting as the first.
    core = distances[:, min_samples - 1]
    rows = np.repeat(np.arange(n), k)
    cols = neighbours.reshape(-1)
    valid = (cols >= 0) & (cols != rows)
    rows, cols = rows[valid], cols[valid]
    weights = np.maximum(np.maximum(core[rows], core[cols]), distances.reshape(-1)[valid])
    # scipy drops zero-weight edges: shift every weight by the same tiny amount (the tree does not change).
    graph = coo_matrix((weights + 1e-9, (rows, cols)), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph.maximum(graph.T)).tocoo()
    edges = [(tree.row, tree.col, tree.data - 1e-9)]
    parts, part_of = connected_components(tree, directed=False)
    if parts > 1:
        firsts = np.unique(part_of, return_index=True)[1]
        heavy = float(tree.data.max(initial=0.0)) * 2 + 1.0
        edges.append((np.full(parts - 1, firsts[0]), firsts[1:], np.full(parts - 1, heavy)))
    mst = np.zeros(n - 1, dtype=MST_edge_dtype)
    mst["current_node"] = np.concatenate([e[0] for e in edges])
    mst["next_node"] = np.concatenate([e[1] for e in edges])
    mst["distance"] = np.concatenate([e[2] for e in edges])
    mst = mst[np.argsort(mst["distance"], kind="stable")]
    labels, _ = tree_to_labels(make_single_linkage(mst), min_cluster_size, config.selection, False, 0.0, None)
    return np.asarray(labels, dtype=np.int64)


def _nearest(vectors: Vectors, k: int, config: ClusteringConfig) -> tuple[Vectors, npt.NDArray[np.int64]]:
    """Each row's ``k`` nearest rows (itself first) by squared Euclidean distance: exact, or IVF when large."""
    import faiss

    width = vectors.shape[1]
    n = len(vectors)
    if n < config.graph_ivf_above:
        index: faiss.Index = faiss.IndexFlatL2(width)
    else:
        lists = int(2 * np.sqrt(n))
        quantiser = faiss.IndexFlatL2(width)
        index = faiss.IndexIVFFlat(quantiser, width, lists)
        index.cp.niter = 10
        # A fixed, spread sample of ~20 rows per list trains them: deterministic for the same vectors.
        index.train(vectors[:: max(1, n // (lists * 20))])
        index.nprobe = config.graph_probes
    index.add(vectors)
    squared, neighbours = index.search(vectors, k)
    return squared, neighbours.astype(np.int64, copy=False)


def centroid(query_vectors: Vectors) -> Vectors:
    return normalize(np.asarray(query_vectors, dtype=np.float32).mean(axis=0))


def similarity_cutoff(member_similarities: npt.ArrayLike, config: ClusteringConfig) -> float:
    """The lowest similarity to the centroid that still counts as "like the members" for this cluster."""
    sims = np.asarray(member_similarities, dtype=np.float32)
    if len(sims) == 0:
        return 1.0
    low = float(sims.min() if len(sims) < 3 else np.percentile(sims, 10)) - config.cutoff_margin
    return float(max(config.similarity_floor, min(config.similarity_cap, low)))


def calibrate_cutoffs(
    clusters: Sequence[Cluster], member_vectors: Sequence[Vectors], config: ClusteringConfig
) -> list[Cluster]:
    """Raise each cutoff above how close *other* topics' queries come to the centroid (``negative_percentile``).

    The members say how far a like query may stray; the other clusters' members say how close an unlike one comes.
    Clusters about the same thing (centroids closer than ``same_topic_similarity``) are not each other's negatives.
    """
    if len(clusters) < 2:
        return list(clusters)
    centers = np.stack([np.asarray(c.centroid, dtype=np.float32) for c in clusters])
    between = centers @ centers.T
    out = []
    for i, cluster in enumerate(clusters):
        others = [member_vectors[j] for j in range(len(clusters)) if between[i, j] < config.same_topic_similarity]
        if not others:
            out.append(cluster)
            continue
        negatives = np.concatenate(others) @ centers[i]
        guard = float(np.percentile(negatives, config.negative_percentile)) + 0.02
        cutoff = min(0.95, max(cluster.min_similarity, guard))
        out.append(cluster.model_copy(update={"min_similarity": cutoff}))
    return out


# Question words that say nothing about a cluster's topic ("best way to ...", "what's good for ..."); the rest of
# the stop list is sklearn's English one less the words that name topics (uno.distill.text.SKLEARN_TOPIC_WORDS).
_LABEL_STOP_WORDS = frozenset({"best", "good", "use", "using", "whats", "does", "way"})


def _label_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from uno.distill.text import SKLEARN_TOPIC_WORDS  # lazily: sklearn, already loaded by clustering

    return frozenset(ENGLISH_STOP_WORDS - SKLEARN_TOPIC_WORDS | _LABEL_STOP_WORDS)


def cluster_label(member_queries: Sequence[str], all_queries: Sequence[str], size: int = 4) -> str:
    """A few words that set a cluster's queries apart from the rest (frequency in the cluster over overall)."""
    import re
    from collections import Counter

    stop = _label_stop_words()

    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-zà-ÿ]{3,}", text.lower()) if w not in stop}

    inside = Counter(w for q in member_queries for w in words(q))
    overall = Counter(w for q in all_queries for w in words(q))
    ranked = sorted(inside, key=lambda w: (-(inside[w] ** 2) / overall[w], w))
    return ", ".join(w for w in ranked[:size] if inside[w] >= 2)


_PRIVATE = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s().-]{5,}\d")
_REQUEST_CHARS = 70


def _clip_request(text: str) -> str:
    """A request shortened at a word boundary, without addresses, links or long numbers."""
    flat = " ".join(_PRIVATE.sub("…", text).split())
    first = re.split(r"(?<=[?.!])\s", flat, maxsplit=1)[0]
    if len(first) <= _REQUEST_CHARS:
        return first
    cut = first.rfind(" ", 0, _REQUEST_CHARS)
    return first[: cut if cut > 20 else _REQUEST_CHARS].rstrip(",;:") + "…"


def describe_requests(queries: Sequence[str], vectors: Vectors, owners: Sequence[str | None], size: int = 2) -> str:
    """What a cluster's requests are like, in their own words: the most typical requests, from different users.

    The requests nearest the members' mean are quoted ("requests like “How do I sort a list in Python?” or
    “Sort a dict by value”"), shortened and stripped of links, addresses and long numbers: a model reads it as a
    description of when a rule applies, which a bag of keywords is not.
    """
    if not queries:
        return ""
    center = centroid(vectors)
    order = np.argsort(-(normalize(np.asarray(vectors, dtype=np.float32)) @ center), kind="stable")
    chosen: list[str] = []
    seen_owners: set[str | None] = set()
    for index in order:
        text = _clip_request(queries[int(index)])
        owner = owners[int(index)]
        if not text or text in chosen or (owner is not None and owner in seen_owners):
            continue
        chosen.append(text)
        seen_owners.add(owner)
        if len(chosen) == size:
            break
    return "requests like " + " or ".join(f"“{text}”" for text in chosen)


@dataclass
class ClusterFit:
    clusters: list[Cluster]
    # log id -> cluster id, for every log placed in a cluster
    assignment: dict[str, str]


def make_cluster(
    namespace: str, member_ids: Sequence[str], query_vectors: Vectors, config: ClusteringConfig
) -> Cluster:
    center = centroid(query_vectors)
    sims = normalize(query_vectors) @ center
    return Cluster(
        id="clu-" + stable_hash(namespace, sorted(member_ids)),
        namespace=namespace,
        centroid=[float(x) for x in center],
        min_similarity=similarity_cutoff(sims, config),
        member_log_ids=sorted(member_ids),
    )


def fit_clusters(
    namespace: str,
    log_ids: Sequence[str],
    query_vectors: Vectors,
    feedback_vectors: Vectors,
    config: ClusteringConfig,
) -> ClusterFit:
    """Cluster logs on query and feedback; attach outliers that sit inside a cluster's query-space cutoff."""
    if len(log_ids) == 0:
        return ClusterFit([], {})
    labels = cluster_labels(dual_vectors(query_vectors, feedback_vectors, config.query_weight), config)
    queries = normalize(query_vectors)
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        if label >= 0:
            groups.setdefault(int(label), []).append(row)
    if config.attach_outliers and groups:
        groups = _attach_outliers(labels, queries, groups, config)
    clusters: list[Cluster] = []
    assignment: dict[str, str] = {}
    for rows in groups.values():
        members = [log_ids[r] for r in rows]
        cluster = make_cluster(namespace, members, queries[rows], config)
        clusters.append(cluster)
        assignment.update(dict.fromkeys(members, cluster.id))
    clusters = calibrate_cutoffs(clusters, [queries[rows] for rows in groups.values()], config)
    return ClusterFit(clusters, assignment)


def _attach_outliers(
    labels: npt.NDArray[np.int64], queries: Vectors, groups: dict[int, list[int]], config: ClusteringConfig
) -> dict[int, list[int]]:
    keys = list(groups)
    centers = np.stack([centroid(queries[groups[k]]) for k in keys])
    cutoffs = [similarity_cutoff(queries[groups[k]] @ centers[i], config) for i, k in enumerate(keys)]
    attached = {k: list(rows) for k, rows in groups.items()}
    for row in np.flatnonzero(labels < 0):
        sims = centers @ queries[row]
        best = int(np.argmax(sims))
        if sims[best] >= cutoffs[best]:
            attached[keys[best]].append(int(row))
    return attached


def nearest_clusters(
    query_vector: Vectors,
    clusters: Sequence[Cluster],
    centroids: Vectors,
    *,
    top: int = 3,
    tolerance: float = 0.08,
) -> list[tuple[Cluster, float]]:
    """Clusters whose cutoff the query passes, best first, within ``tolerance`` of the best similarity."""
    if len(clusters) == 0:
        return []
    sims = centroids @ normalize(query_vector)
    order = np.argsort(-sims)[:top]
    passing = [(clusters[i], float(sims[i])) for i in order if sims[i] >= clusters[i].min_similarity]
    if not passing:
        return []
    best = passing[0][1]
    return [(c, s) for c, s in passing if s >= best - tolerance]
