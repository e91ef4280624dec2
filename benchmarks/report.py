"""The benchmark report: ``results.json`` (every figure), ``report.md`` (tables, method) and PNG plots.

The markdown and the plots are rendered from the same dictionary that is written to ``results.json``, so a report
can be re-rendered from saved results (:func:`write_report`) and always shows exactly what the run printed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PLOTS = {
    "latency": "latency_vs_store_size.png",
    "tokens": "tokens_per_query.png",
    "f1": "f1_per_method.png",
}
RULE_METHODS = ("uno", "cipher")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i == 0 else "--:" for i in range(len(head))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _headline(results: dict[str, Any]) -> list[str]:
    """A few sentences of the run's main figures, computed from them."""
    methods = {m["key"]: m for m in results["methods"]}
    uno = methods.get("uno")
    others = [m for m in results["methods"] if m["key"] not in ("uno", "no-memory")]
    if uno is None or not others:
        return []
    best = max(others, key=lambda m: m["f1"])
    lines = [
        "## Headline",
        "",
        f"- Preferences injected (F1): uno {uno['f1']:.3f} (precision {uno['precision']:.3f}, recall "
        f"{uno['recall']:.3f}); best baseline {best['name']} {best['f1']:.3f}; no memory 0.",
        f"- Context size: uno adds {uno['tokens_mean']:.0f} tokens per query on average, {best['name']} "
        f"{best['tokens_mean']:.0f}; uno put a preference into {_pct(uno['unrelated_injection_rate'])} of the "
        f"unrelated queries, {best['name']} into {_pct(best['unrelated_injection_rate'])}.",
        f"- Noise: {_pct(uno['noise_acceptance_rate'])} of the planted noise logs reached uno's contexts, "
        f"{_pct(best['noise_acceptance_rate'])} reached {best['name']}'s; queries kept free of preferences the "
        f"base model already follows (higher is better): uno {_pct(uno['known_skip_rate'])}, {best['name']} "
        f"{_pct(best['known_skip_rate'])}.",
    ]
    points = results.get("scale") or []
    if points:
        top = max(points, key=lambda p: p["rules"])
        lines.append(
            f"- Read latency beyond query embedding at {top['rules']:,} rules: uno `augment` p50 "
            f"{_ms(top['uno']['rest_p50_ms'])} ms / p95 {_ms(top['uno']['rest_p95_ms'])} ms, embedding-RAG search "
            f"over the same index p50 {_ms(top['rag']['rest_p50_ms'])} ms ({top['rest_ratio']:.1f}x); the query "
            f"embedding itself p50 {results['query_embedding_ms']['p50']:.1f} ms. No LLM call on any read path."
        )
    return lines


def _machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in sorted(m["packages"].items()))
    return [
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores; memory {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}; {packages}",
        f"- Commit `{m['commit'] or 'unknown'}` (plus uncommitted changes, if any); run started {m['date']}",
        f"- Command: `{m['command']}`; total run time {results['runtime_seconds']:.0f} s",
        f"- Load average (1/5/15 min) at start {m['load_average_at_start']}, at end {results['load_average_at_end']}: "
        "other processes shared the machine when it is above zero, so timings are noisy; quality figures are not "
        "affected (they are deterministic for a seed).",
    ]


def _setup(results: dict[str, Any]) -> list[str]:
    c = results["config"]
    noise = ", ".join(f"{k} {v}" for k, v in sorted(results["noise_counts"].items()))
    return [
        "## Setup",
        "",
        f"- Logs: {c['logs']:,} from `benchmarks.simulator` (seed {c['seed']}, {c['simulator']['users']} users, "
        f"topics: {', '.join(c['simulator']['topics'])}). Kinds: {noise}.",
        f"- Held-out queries: {c['held_out']} (the simulator's held-out phrasings; about 20% are unrelated questions "
        "that should get nothing).",
        f"- Embedder: `{c['embedder']}` for every method that embeds (uno, Emb-M/S, CIPHER-style, mem0), one shared "
        "in-memory cache (`uno.embed.CachedEmbedder`). Query vectors are cached before timing; the model's own "
        f"per-query embedding is timed separately: p50 {results['query_embedding_ms']['p50']:.1f} ms, "
        f"p95 {results['query_embedding_ms']['p95']:.1f} ms (batch of one).",
        f"- Methods: {', '.join(m['name'] for m in results['methods'])}. Retrieval baselines use k = 5 "
        "(MemoryBench's `retrieve_k`), as does CIPHER-style.",
    ]


def _quality(results: dict[str, Any]) -> list[str]:
    rows = []
    for m in results["methods"]:
        declared = f"{m['f1_declared']:.3f}" if m["key"] in RULE_METHODS else "—"
        rows.append(
            [
                m["name"],
                f"{m['precision']:.3f}",
                f"{m['recall']:.3f}",
                f"**{m['f1']:.3f}**",
                declared,
                _pct(m["unrelated_injection_rate"]),
                _pct(m["noise_acceptance_rate"]),
                _pct(m["noisy_context_rate"]),
                _pct(m["known_skip_rate"]),
                f"{m['tokens_mean']:.0f} / {m['tokens_p95']:.0f}",
                f"{m['llm_calls_per_log']:g} / {m['llm_tokens_per_log']:g}",
            ]
        )
    head = [
        "method",
        "precision",
        "recall",
        "F1",
        "F1 (declared aspects)",
        "unrelated queries given a preference",
        "noise accepted",
        "contexts with noise",
        "known preference skipped",
        "tokens / query (mean / p95)",
        "LLM calls / tokens per log",
    ]
    noise = results["methods"][0]["noise_planted"]
    planted = ", ".join(f"{k} {v}" for k, v in noise.items())
    lines = ["## Learning quality", "", *_table(head, rows), ""]
    lines.append(f"Planted noise logs: {planted}. Noise accepted per kind (logs whose content reached any context):")
    lines.append("")
    kinds = list(noise)
    lines += _table(
        ["method", *kinds],
        [[m["name"], *(f"{m['noise_accepted'][k]} / {noise[k]}" for k in kinds)] for m in results["methods"]],
    )
    topics = sorted({t for m in results["methods"] for t in m["by_topic_f1"]})
    lines += ["", "F1 per topic:", ""]
    lines += _table(
        ["method", *topics],
        [[m["name"], *(f"{m['by_topic_f1'].get(t, 0.0):.2f}" for t in topics)] for m in results["methods"]],
    )
    for key, reason in sorted(results["unavailable"].items()):
        lines += ["", f"**{key} was not run:** {reason}"]
    return lines


def _costs(results: dict[str, Any]) -> list[str]:
    rows = []
    for m in results["methods"]:
        f = m["fit"]
        lat = m["latency"]
        ingest = f"{m['ingest_logs_per_s']:,.0f}" if m["ingest_logs_per_s"] else "—"
        rss = f"{m['peak_rss_increase_mb']:.0f}" if m["peak_rss_increase_mb"] is not None else "n/a"
        rows.append(
            [
                m["name"],
                f"{f['seconds']:.1f}",
                f"{f['embed_seconds']:.1f} ({f['embedded_texts']:,})",
                ingest,
                f"{m['items_mean']:.1f}",
                f"{_ms(lat['rest_p50'])} / {_ms(lat['rest_p95'])}",
                f"{_ms(lat['embed_p50'])}",
                rss,
            ]
        )
    head = [
        "method",
        "fit s",
        "of which model embedding s (texts)",
        "ingest logs/s",
        "items injected (mean)",
        "context p50 / p95 ms, beyond query embedding",
        "cached query-vector lookup p50 ms",
        "peak RSS increase MB",
    ]
    lines = ["## Cost and speed at the quality run's size", "", *_table(head, rows), ""]
    lines.append(
        "Add the model's query embedding (Setup) to the context latency for a cold query. The embedding cache is "
        "shared and methods run in the order listed, so a text embedded by an earlier method is free for a later "
        "one: compare fit times net of model embedding. Peak RSS increase: resident-set peak while the method "
        "fits and answers, minus the resident size when it started (sampled every 5 ms from /proc/self/statm)."
    )
    for m in results["methods"]:
        for note in m["fit"]["notes"]:
            lines.append(f"- {m['name']}: {note}.")
    costs = results.get("uno_costs")
    if costs:
        report = costs["build_report"]
        lines += [
            "",
            "uno's write path:",
            "",
            f"- `add_many`: {costs['add_many_logs_per_s']:,.0f} logs/s; `ingest_file` (plain JSONL, separate store): "
            f"{costs['ingest_file_logs_per_s']:,.0f} logs/s ({costs['ingest_file_summary'].split(': ', 1)[-1]}).",
            f"- First `build`: {costs['build_seconds']:.1f} s ({report.get('distilled_logs', 0):,} logs distilled, "
            f"rules {report.get('rules_by_status', {})}, {report.get('clusters', 0)} clusters "
            f"{report.get('clusters_by_route', {})}).",
        ]
        if costs.get("incremental_build_seconds") is not None:
            lines.append(
                f"- Incremental `build` after adding {costs['incremental_logs']:,} logs: "
                f"{costs['incremental_build_seconds']:.1f} s; full rebuild (`build(full=True)`, every log "
                f"re-distilled, re-clustered; embeddings cached): {costs['full_rebuild_seconds']:.1f} s."
            )
    return lines


def _log_vectors(point: dict[str, Any]) -> str:
    if point["log_vectors"] >= point["log_vectors_uncapped"]:
        return f"{point['log_vectors']:,}"
    return f"{point['log_vectors']:,} (capped; {point['log_vectors_uncapped']:,} at real proportions)"


def _scale(results: dict[str, Any]) -> list[str]:
    points = results.get("scale") or []
    if not points:
        return ["## Latency against store size", "", "Not measured in this run."]
    rows = []
    for p in points:
        rows.append(
            [
                f"{p['rules']:,}",
                f"{p['clusters']:,}",
                _log_vectors(p),
                f"{_ms(p['uno']['rest_p50_ms'])} / {_ms(p['uno']['rest_p95_ms'])}",
                f"{_ms(p['rag']['rest_p50_ms'])} / {_ms(p['rag']['rest_p95_ms'])}",
                f"{p['rest_ratio']:.2f}",
                f"{p['uno_mean_rules']:.1f}",
                f"{p['assemble_seconds']:.1f} + {p['index_build_seconds']:.1f}",
                f"{p['rss_increase_mb']:.0f}" if p["rss_increase_mb"] is not None else "n/a",
            ]
        )
    head = [
        "active rules",
        "clusters",
        "learnt-log vectors",
        "uno augment p50 / p95 ms",
        "Emb-RAG search p50 / p95 ms",
        "uno / RAG (p50)",
        "rules injected (mean)",
        "assemble + FAISS build s",
        "RSS increase MB",
    ]
    embedding = results["query_embedding_ms"]
    c = results["config"]
    uno = next((m for m in results["methods"] if m["key"] == "uno"), None)
    real = f" (the real store injects {uno['items_mean']:.1f} rules per query)" if uno else ""
    return [
        "## Latency against store size",
        "",
        *_table(head, rows),
        "",
        f"Latencies exclude query embedding (add p50 {embedding['p50']:.1f} ms / p95 {embedding['p95']:.1f} ms for "
        f"the model); {c['scale_queries']} held-out queries per size. uno's FAISS indexes are exact up to 20,000 "
        "vectors and HNSW above (`uno.index.FaissIndex`'s default), so latency need not grow monotonically with "
        "size: compare the cluster and log-vector counts. A query's nearest clusters in a replicated store are "
        f"often copies of one cluster, so fewer distinct rules are injected than in the real store{real}. "
        "How the stores are built: see Method.",
    ]


def _memorybench(results: dict[str, Any]) -> list[str]:
    from benchmarks.memorybench import BenchRun, MethodScores, markdown

    data = results.get("memorybench")
    if not data:
        return []
    run = BenchRun(**{**data, "methods": [MethodScores(**m) for m in data["methods"]]})
    return [
        "## MemoryBench harness (fixture, stand-in generator)",
        "",
        "**Not a quality result.** This section proves the MemoryBench harness end to end on "
        "`benchmarks/data/memorybench_fixture.jsonl` (30 simulator rows in MemoryBench's format, 2 datasets) with "
        "`echo_injected_context`, a deterministic stand-in for an LLM that answers with the injected memory. "
        "With a real model: `python -m benchmarks.memorybench --data PATH --generate module:function`.",
        "",
        markdown(run).rstrip(),
    ]


METHOD_TEXT = """## Method

**Scoring preferences injected.** For each held-out query the expected aspects are the hidden preferences of its
topic (`held_out_queries(...).expected_aspects`); unrelated queries expect none, so anything injected there is a
false positive. What a method injects is credited the same way for every method, from the simulator's ground
truth (methods never see it):

- *Rules* (uno, CIPHER-style) count as the aspect they declare. A rule that declares none counts as the most
  common ground-truth `feedback_aspect` of the logs it was learnt from (the aspect those users' feedback
  expressed), or as "(no aspect)" - a false positive - when none expressed one. "F1 (declared aspects)" credits
  declared aspects only.
- *Raw text* (RAG, mem0) counts as the `feedback_aspect` of the log it comes from, when the chunk contains that
  log's feedback: a whole session always does; of a log's messages, only the follow-up or edit does (its query or
  answer alone carries no preference).

Aspects are compared as sets per query and summed over all queries (micro precision, recall, F1).

**Noise.** The planted noise logs are the simulator's adversarial, off-topic, small-talk and contradicting logs.
One is *accepted* when its content reaches any query's context: it is among the sources of an injected rule, or a
retrieved chunk contains its feedback turn (e.g. a prompt injection pasted into the prompt as a retrieved
message). "Noise accepted" is the share of planted noise logs accepted over all queries; "contexts with noise" the
share of queries whose context carried any. **Known preferences** (answer in English, be polite, fence code) are
ones the base model already follows; "known preference skipped" is the share of queries whose context carried
none of them. **Tokens** are `uno.inject.count_tokens` (words and punctuation) of the exact text each method adds
to the prompt, for every method.

**Methods.** *uno*: `UnoMemory.add_many` + `build` (default pipeline, offline `HeuristicDistiller`), then
`augment(query)`; its injected block is what is counted. *BM25-M/S*: our Okapi BM25 (k1 1.5, b 0.75) over messages
/ whole sessions. *Emb-M/S*: cosine top-k over message / session embeddings (FAISS). *CIPHER-style*: each log's
preferences inferred by uno's `HeuristicDistiller` (a stand-in for CIPHER's LLM inference), stored under the log's
query embedding; a query gets the preferences of its 5 nearest logs (exact duplicates merged, no LLM aggregation).
*mem0*: mem0ai's open-source `Memory` with the local FAISS store (cosine), `add(messages, infer=False)` per log
(each message a memory, no LLM), `search(query, top_k=5)`; its embedder is swapped after start-up for the run's
shared one (same model and vectors; shared cache and timing). mem0's FAISS store rewrites its index and JSON
docstore after every insert (quadratic in the number of memories): the first logs are ingested that way and give
the ingest throughput; the rest are ingested with the save deferred to one final save. With `infer=False` and a
single scope, mem0's search is cosine retrieval over message-level memories with the same vectors and k as Emb-M
(its BM25 and entity boosts need a keyword-capable store and spaCy), so its figures are expected to match Emb-M's.
LLM calls and tokens per ingested log are 0 for every method here: uno distils offline, CIPHER's inference is
heuristic, mem0 runs with `infer=False`. The column counts calls through the LLM given to uno when there is one.

**Stores of 1k-1M rules.** Distilling a million logs is too slow here, so large stores are replicated from the
store uno built in the quality run: copy 0 is that read model; each further copy adds all its clusters, active
rules and learnt logs again under new ids with every vector (centroid, learnt-log query, rule) perturbed by
Gaussian noise (sigma 0.3 of the unit norm, cosine ~0.96) and re-normalised; the last copy is trimmed to the exact
rule count. The real store's proportions are kept - uno's log index holds one vector per learnt log, so a big store
means a big log index - until the log index would pass {max_log_vectors:,} vectors (memory); beyond that every copy
keeps the same fixed subset of its learnt logs (all its clusters and rules), and the table shows both counts. The
synthetic read model is assembled directly and installed as the memory's view; `augment` then runs unchanged,
through FAISS indexes built the way uno builds them (exact below 20,000 vectors, HNSW above). The same-size
baseline is embedding RAG over the very same learnt-log index (top-5, sessions assembled). {million}

**Limits.** The simulator's preferences are code-checkable stand-ins for real users; MemoryBench's own data needs
a real LLM and the hub. uno's heuristic distiller is being improved in parallel: its figures move when it does.
No LLM answers were generated or judged in the simulator run: the quality figures measure what reaches the prompt,
not the answers a model would write with it.
"""


def _million_note(results: dict[str, Any]) -> str:
    points = results.get("scale") or []
    if any(p["rules"] >= 1_000_000 for p in points):
        return "The 1M-rule store was measured in this run."
    if not points:
        return "Store sizes were not measured in this run."
    largest = max(points, key=lambda p: p["rules"])
    per_rule = largest["log_vectors_uncapped"] / largest["rules"]
    vectors = 1_000_000 * per_rule
    gib = vectors * results["config"]["dimension"] * 4 / 2**30
    return (
        f"At the real store's proportions (about {per_rule:.0f} learnt logs per active rule) a 1M-rule store would "
        f"index about {vectors / 1e6:.0f}M learnt-log vectors ({gib:.0f} GiB of float32, before FAISS's own copy), "
        f"more than this machine's {results['machine']['memory_gib']} GiB; with the cap, the clusters and rules "
        "alone of 1M rules still need more memory than the run can take on a shared machine. 1M is therefore a "
        "script option (`--sizes ...,1000000`) for a larger machine, not part of this report."
    )


def _share(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("rate") is None:
        return "n/a"
    return f"{entry['rate']:.0%} ({entry['k']}/{entry['n']})"


def _real(real: dict[str, Any] | None) -> list[str]:
    """The real-data benchmark beside the simulator: the figures of ``real.json`` when it is in the same folder."""
    lines = ["## On real, human-written logs", ""]
    if real is None:
        return [*lines, "Not measured here: run `python -m benchmarks.real` (writes real.md and real.json)."]
    head = [
        "source",
        "preference P / R",
        "active rules / 1k logs",
        "active-rule precision",
        "active from harm/promotion",
        "no-complaint injected",
        "unrelated injected",
    ]
    rows = []
    for name, data in real["sources"].items():
        c, u, m = data["classification"], data["uno"], data["methods"].get("uno", {})
        rows.append(
            [
                name,
                f"{_share(c['precision'])} / {_share(c['recall'])}",
                f"{u['active_rules_per_1000_logs']:.1f}",
                _share(u["active_rule_precision"]),
                str(u["active_rules_from_harm_or_promotion"] + u["plans_from_harm_or_promotion"]),
                _share(m.get("no_complaint_injection")),
                _share(m.get("unrelated_prompt_injection")),
            ]
        )
    note = (
        f"The {real['split']} split of a hand-labelled gold set (HH-RLHF red-team and oasst logs); the "
        "simulator above shares its vocabulary with the offline distiller, these logs do not. Every figure, the "
        "baselines and the rules themselves: [real.md](real.md)."
    )
    return [*lines, note, "", *_table(head, rows)]


def _reactions_online(reward: dict[str, Any] | None, online: dict[str, Any] | None) -> list[str]:
    """The reaction model (reward.json) and the online edit-cost simulation (online.json), when in the folder."""
    from benchmarks.reward import reward_table

    lines = ["## Reactions as a reward, and learning online from edits", ""]
    if reward is None:
        lines += ["Reaction model not measured here: run `python -m benchmarks.reward`.", ""]
    else:
        lines += [
            "Held-out reactions, cross-validated by user ([reward.md](reward.md)); a constant predictor has AUC 0.5:",
            "",
            *reward_table(reward),
            "",
        ]
    if online is None:
        return [*lines, "Online simulation not measured here: run `python -m benchmarks.online`."]
    methods = online["methods"]
    rows = [[m["name"], str(m["edit_cost_total"]), _pct(m["positive_reaction_rate"])] for m in methods.values()]
    ratio = online.get("bandit_vs_hindsight")
    seeds = online.get("per_seed", [])
    per_seed = ", ".join(
        f"{s['seed']}: {s['bandit_vs_hindsight']:.0%}" for s in seeds if s.get("bandit_vs_hindsight") is not None
    )
    note = (
        f"{online['config']['rounds']} rounds"
        + (f", {len(seeds)} seeds added up" if seeds else "")
        + " ([online.md](online.md)); the bandit's edit cost is "
        + (f"{ratio:.0%}" if ratio is not None else "n/a")
        + " of the best fixed uno strategy per topic in hindsight"
        + (f" (per seed {per_seed})." if per_seed else ".")
    )
    return [
        *lines,
        note,
        "",
        *_table(["method", "cumulative edit cost", "positive reactions"], rows),
        "",
        "![Cumulative edit cost per round](online_edit_cost.png)",
    ]


def _redteam(redteam: dict[str, Any] | None) -> list[str]:
    """The red-team benchmark: the figures of ``redteam.json`` when it is in the same folder."""
    lines = ["## Under attack: poisoning and injection", ""]
    if redteam is None:
        return [*lines, "Not measured here: run `python -m benchmarks.redteam` (writes redteam.md and redteam.json)."]
    summary = redteam["summary"]
    rows = [
        [name, str(entry["variants"]), str(entry["blocked"]), _pct(entry["fraction_blocked"])]
        for name, entry in summary["per_category"].items()
    ]
    rows.append(["all", str(summary["variants"]), str(summary["blocked"]), _pct(summary["fraction_blocked"])])
    note = (
        f"{summary['variants']} attack variants played end to end ({redteam['embedder']} embedder), each in a fresh "
        f"store; blocked = nothing carrying the payload reaches a user who did not send it. Variants named in issue "
        f"12 blocked: {summary['known_blocked']} of {summary['known_variants']}; ordinary preferences reaching other "
        f"users (controls): {summary['controls_reaching_users']} of {summary['controls']}. Details: "
        "[redteam.md](redteam.md)."
    )
    out = [*lines, note, "", *_table(["category", "variants", "blocked", "share"], rows)]
    long = redteam.get("long_followups")
    if long:
        out += [
            "",
            f"A {long['long_chars']:,}-character follow-up distils in {long['long_seconds']:.3f} s "
            f"({long['long_over_short']:.0f}x a short one); a {long['huge_chars']:,}-character one is not read "
            f"({long['huge_seconds']:.3f} s), with its reason recorded.",
        ]
    return out


def _one_machine(results: dict[str, Any] | None) -> list[str]:
    """The section written by ``python -m benchmarks.scale_machine`` (scale_machine.json), when it was run."""
    if results is None:
        return []
    from benchmarks.scale_machine import render

    return render(results).rstrip().splitlines()


def _on_ray(results: dict[str, Any] | None) -> list[str]:
    """The section written by ``python -m benchmarks.ray_build`` (ray_build.json), when it was run."""
    if results is None:
        return []
    from benchmarks.ray_build import render

    return render(results).rstrip().splitlines()


def _on_postgres(results: dict[str, Any] | None) -> list[str]:
    """The section written by ``python -m benchmarks.scale_out`` (scale_out.json): PostgreSQL next to SQLite."""
    if results is None:
        return []
    from benchmarks.scale_out import render

    lines = render(results).rstrip().splitlines()
    # scale_out.md is a page of its own (a level-1 title); here it is one section among others.
    return [f"#{line}" if line.startswith("# ") else line for line in lines]


def render_markdown(
    results: dict[str, Any],
    real: dict[str, Any] | None = None,
    reward: dict[str, Any] | None = None,
    online: dict[str, Any] | None = None,
    redteam: dict[str, Any] | None = None,
    one_machine: dict[str, Any] | None = None,
    on_ray: dict[str, Any] | None = None,
    on_postgres: dict[str, Any] | None = None,
) -> str:
    title = "# uno benchmarks: learning quality, cost and speed against RAG and memory baselines"
    intro = (
        "Generated by `python -m benchmarks.run` (see the command below); every figure here is what that run printed. "
        "Raw figures: [results.json](results.json)."
    )
    plots = [
        "## Plots",
        "",
        f"![F1 per method]({PLOTS['f1']})",
        "",
        f"![Tokens per query]({PLOTS['tokens']})",
        "",
        f"![Latency against store size]({PLOTS['latency']})",
    ]
    sections = [
        [title, "", intro],
        _headline(results),
        _machine(results),
        _setup(results),
        _quality(results),
        _costs(results),
        _scale(results),
        _memorybench(results),
        _real(real),
        _reactions_online(reward, online),
        _redteam(redteam),
        _one_machine(one_machine),
        _on_ray(on_ray),
        _on_postgres(on_postgres),
        plots,
        [
            METHOD_TEXT.format(
                million=_million_note(results), max_log_vectors=results["config"].get("max_log_vectors", 0)
            ).rstrip()
        ],
    ]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def render_plots(results: dict[str, Any], out: Path) -> list[Path]:
    """The three PNG plots (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    methods = results["methods"]
    names = [m["name"] for m in methods]

    figure, axis = plt.subplots(figsize=(9, 4.5))
    positions = range(len(methods))
    width = 0.27
    for offset, (label, key) in enumerate((("precision", "precision"), ("recall", "recall"), ("F1", "f1"))):
        axis.bar([p + (offset - 1) * width for p in positions], [m[key] for m in methods], width, label=label)
    axis.set_xticks(list(positions), names, rotation=20)
    axis.set_ylim(0, 1)
    axis.set_ylabel("score (micro average)")
    axis.set_title(f"Preferences injected for {results['config']['held_out']} held-out queries")
    axis.legend()
    figure.tight_layout()
    written.append(_save(figure, out / PLOTS["f1"]))

    figure, axis = plt.subplots(figsize=(9, 4.5))
    axis.bar(names, [m["tokens_mean"] for m in methods], label="mean")
    axis.scatter(names, [m["tokens_p95"] for m in methods], color="black", marker="_", s=400, label="p95", zorder=3)
    axis.set_ylabel("injected tokens per query")
    axis.set_title("Context added to the prompt (uno.inject.count_tokens)")
    axis.tick_params(axis="x", rotation=20)
    axis.legend()
    figure.tight_layout()
    written.append(_save(figure, out / PLOTS["tokens"]))

    points = results.get("scale") or []
    figure, axis = plt.subplots(figsize=(8, 4.5))
    if points:
        sizes = [p["rules"] for p in points]
        for label, key, color in (("uno augment", "uno", "tab:blue"), ("embedding RAG search", "rag", "tab:orange")):
            axis.plot(sizes, [p[key]["rest_p50_ms"] for p in points], marker="o", color=color, label=f"{label} p50")
            axis.plot(
                sizes,
                [p[key]["rest_p95_ms"] for p in points],
                marker="s",
                linestyle="--",
                color=color,
                label=f"{label} p95",
            )
        axis.axhline(results["query_embedding_ms"]["p50"], color="gray", linestyle=":", label="query embedding p50")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("active rules in the store")
        axis.set_ylabel("ms per query, beyond query embedding")
        axis.legend(fontsize=8)
    axis.set_title("Read latency against store size")
    figure.tight_layout()
    written.append(_save(figure, out / PLOTS["latency"]))
    return written


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_report(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write results.json, report.md and the plots into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    real_path = out / "real.json"
    real = json.loads(real_path.read_text(encoding="utf-8")) if real_path.exists() else None
    extra = {
        name: json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        for name, path in (
            ("reward", out / "reward.json"),
            ("online", out / "online.json"),
            ("redteam", out / "redteam.json"),
            ("one_machine", out / "scale_machine.json"),
            ("on_ray", out / "ray_build.json"),
            ("on_postgres", out / "scale_out.json"),
        )
    }
    paths["markdown"].write_text(render_markdown(results, real, **extra), encoding="utf-8")
    for name, path in zip(PLOTS, render_plots(results, out), strict=True):
        paths[name] = path
    return paths
