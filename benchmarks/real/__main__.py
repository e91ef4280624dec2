"""``python -m benchmarks.real``: the real-data benchmark; writes ``benchmarks/results/real.{json,md}``.

``--split dev`` is for tuning (its figures go to ``real-dev.*``); the test split is only measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.embedding import make_embedder
from benchmarks.machine import describe_machine
from benchmarks.real.run import METHODS, run
from benchmarks.real.sources import Source

RESULTS = Path(__file__).resolve().parent.parent / "results"


def _pct(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("rate") is None:
        return "n/a (0 items)"
    low, high = entry["ci95"]
    return f"{entry['rate']:.0%} ({entry['k']}/{entry['n']}; 95% CI {low:.0%}–{high:.0%})"


def _classification_table(result: dict[str, Any]) -> list[str]:
    rows = ["| source | items | gold preferences | precision | recall | kind accuracy |", "|---|---|---|---|---|---|"]
    for name, data in [*result["sources"].items(), ("both", {"classification": result["classification"]})]:
        c = data["classification"]
        rows.append(
            f"| {name} | {c['items']} | {c['gold_preferences']} | {_pct(c['precision'])} | {_pct(c['recall'])} "
            f"| {_pct(c['kind_accuracy'])} |"
        )
    return rows


def _agreement_lines(result: dict[str, Any]) -> list[str]:
    agree = result.get("agreement")
    if not agree:
        return ["A second annotator's labels were not available for this run.", ""]
    second = result["classification_second_annotator"]
    return [
        f"A second annotator labelled the same {agree['items']} items independently. Agreement beyond chance (Cohen's "
        f"kappa): kind {agree['kind_kappa']:.2f}, preference or not {agree['preference_kappa']:.2f}, harmful request "
        f"{agree['harmful_request_kappa']:.2f}. Read as a classifier of the first annotator's preferences, the "
        f"second has precision {_pct(agree['second_annotator_precision'])} and recall "
        f"{_pct(agree['second_annotator_recall'])}: the ceiling for any classifier on these labels. uno against the "
        f"second annotator: precision {_pct(second['precision'])}, recall {_pct(second['recall'])} "
        f"({second['gold_preferences']} preferences).",
        "",
    ]


def _learning_table(result: dict[str, Any]) -> list[str]:
    rows = [
        "| source | logs | rules / 1,000 logs | active / 1,000 logs | active (shared) | active-rule precision "
        "| unjudged | active from harm/promotion | plans from harm/promotion | blocked clusters |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data in result["sources"].items():
        u = data["uno"]
        rows.append(
            f"| {name} | {u['logs']:,} | {u['rules_per_1000_logs']:.1f} | {u['active_rules_per_1000_logs']:.1f} "
            f"| {u['active_rules']} ({u['shared_active_rules']}) | {_pct(u['active_rule_precision'])} "
            f"| {u['active_rules_unjudged']} | {u['active_rules_from_harm_or_promotion']} "
            f"| {u['plans_from_harm_or_promotion']} | {u['blocked_clusters']} of {u['clusters']} |"
        )
    return rows


def _injection_table(result: dict[str, Any]) -> list[str]:
    rows = [
        "| source | method | no-complaint items injected | harmful requests injected | unrelated prompts injected "
        "| complaint recall | shuffled control |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, data in result["sources"].items():
        for key, m in data["methods"].items():
            rows.append(
                f"| {name} | {key} | {_pct(m['no_complaint_injection'])} | {_pct(m['harmful_request_injection'])} "
                f"| {_pct(m['unrelated_prompt_injection'])} | {_pct(m['complaint_recall'])} "
                f"| {_pct(m['complaint_recall_shuffled_control'])} |"
            )
    return rows


def _rules_list(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, data in result["sources"].items():
        rules = data["uno"]["rules"]
        lines.append(f"**{name}**: {len(rules)} active rule(s)" + (":" if rules else "."))
        for rule in rules:
            gold = "; ".join(rule["gold"]) or "no gold label"
            lines.append(
                f"- [{rule['verdict']}] when {rule['when']}: **{rule['do']}** ({rule['status_reason']}; "
                f"evidence: {' | '.join(repr(q) for q in rule['evidence'])}; gold: {gold})"
            )
        lines.append("")
    return lines


def _personal_lines(result: dict[str, Any]) -> list[str]:
    lines = ["Personal rules, asked an unrelated lottery prompt:", ""]
    for name, data in result["sources"].items():
        u = data["uno"]
        lines.append(
            f"- {name}: injected for their own user {_pct(u['personal_rules_applied_to_their_user'])}; "
            f"for another user {_pct(u['personal_rules_shown_to_another_user'])}"
        )
    return lines


def _disagreements(result: dict[str, Any]) -> list[str]:
    lines = []
    for miss in result["classification"]["disagreements"]:
        learnt = f" -> {miss['learnt']}" if miss["learnt"] else ""
        gold_rule = f" (gold rule: {miss['gold_rule']})" if miss["gold_rule"] else ""
        lines.append(
            f"- {miss['error']}: {miss['followup']!r}: gold {miss['gold']}{gold_rule}, uno {miss['predicted']}{learnt}"
        )
    return lines or ["- none"]


def render(result: dict[str, Any]) -> str:
    split = result["split"]
    info = result["machine"]
    machine = f"{info['cpu']} ({info['cores']} cores), commit {str(info['commit'] or '?')[:10]}, {info['date']}"
    lines = [
        f"# uno on real, human-written logs ({split} split)",
        "",
        f"Generated by `python -m benchmarks.real --split {split}` on {machine} in {result['seconds']:.0f} s "
        f"(embedder: {result['embedder']}). The gold set (`benchmarks/real/gold/`) was labelled item by item per "
        "`GUIDE.md` by two independent annotators (AI agents of the development team, not the logs' users), split into "
        "dev and test by session before anything was tuned; this page reads only the "
        f"{split} split. Method: the docstring of `benchmarks/real/run.py`.",
        "",
        "## Which user turns are reusable preferences",
        "",
        *_classification_table(result),
        "",
        *_agreement_lines(result),
        "## What uno learns from all the split's logs",
        "",
        "Active rules include personal ones (shown only to the user who asked; *shared* = supported by at least two "
        "users). A rule is *good* when a follow-up it was learnt from is gold-labelled `preference` with a gold rule "
        f"within cosine {result['rule_match']} of it, *bad* when its evidence is labelled otherwise, *unjudged* when "
        "none of its evidence is in the gold sample (HH: 340 of 3,340 follow-ups are labelled).",
        "",
        *_learning_table(result),
        "",
        *_rules_list(result),
        *_personal_lines(result),
        "",
        "## What each method injects",
        "",
        f"{result['folds']}-fold cross-validation by session: each held-out gold item's query is asked as a new user. "
        "RAG always returns its top-k, so it injects into every query; the question is whether a method injects "
        "*only* where a lesson applies.",
        "",
        *_injection_table(result),
        "",
        "## Disagreements with the gold labels (preference or not)",
        "",
        *_disagreements(result),
        "",
    ]
    return "\n".join(lines)


def _sources(text: str) -> list[Source]:
    known: dict[str, Source] = {"hh": "hh", "oasst": "oasst"}
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown source(s) {', '.join(unknown)}: use hh, oasst or both")
    return [known[name] for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--sources", default="hh,oasst")
    parser.add_argument("--max-sessions", type=int, default=None, help="a sample of sessions per source (smoke runs)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    stack = make_embedder(args.embedder)
    result = run(
        args.split,
        stack,
        methods=[m for m in args.methods.split(",") if m],
        sources=_sources(args.sources),
        max_sessions=args.max_sessions,
        progress=lambda message: print(message, file=sys.stderr, flush=True),
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["embedder"] = args.embedder
    result["machine"] = describe_machine()
    stem = "real" if args.split == "test" else "real-dev"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(render(result), encoding="utf-8")
    print(f"wrote {args.out / (stem + '.md')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
