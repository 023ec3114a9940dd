"""Latency of explaining one action: the concepts that matter for its risk, with their text
evidence, over every action of the bundled samples.

    python -m cbm_training.bench explain [--n-steps 16] [--threads 1] [--limit N] [--reference-steps 64]

With `--reference-steps R`, also says how far the token scores at `--n-steps` are from those at R
steps (their correlation and the share of the five highest-scoring tokens both find): what fewer
steps cost in accuracy.
"""

from __future__ import annotations

import argparse
import time
from importlib import resources
from pathlib import Path

import numpy as np

from cbm.explain import N_STEPS, Explainer
from cbm.features import encode
from cbm.formats import read_records
from cbm.scoring import Overseer

SAMPLES = Path(str(resources.files("cbm.data") / "samples"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbm_training.bench explain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="checkpoint directory (default: the shipped one)")
    parser.add_argument("--n-steps", type=int, default=N_STEPS, help="integration steps (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the attribution (default %(default)s)")
    parser.add_argument("--limit", type=int, help="explain at most this many actions, spread over the samples")
    parser.add_argument("--reference-steps", type=int, help="compare the token scores with this many steps")
    args = parser.parse_args(argv)
    overseer = Overseer.load(args.checkpoint, device="cpu", threads=1)
    explainer = Explainer(overseer, args.n_steps, threads=args.threads)
    results = [overseer.score(r.trajectory) for path in sorted(SAMPLES.glob("*.jsonl"))
               for r in read_records(str(path)) if r.trajectory is not None]
    jobs = [(r, a.id) for r in results for a in r.actions]
    if args.limit:
        jobs = [jobs[i] for i in np.linspace(0, len(jobs) - 1, min(args.limit, len(jobs))).round().astype(int)]
    explainer.explain(*jobs[0])  # warm-up
    seconds, concepts, tokens = [], [], []
    for result, action in jobs:
        started = time.perf_counter()
        explanation = explainer.explain(result, action)
        seconds.append(time.perf_counter() - started)
        concepts.append(len(explanation.explained))
        encoded = encode(result.trajectory, overseer.checkpoint.vocab, overseer.checkpoint.features)
        tokens.append(int(encoded.action_span[encoded.action_ids.index(action), 1]))
    ms = np.array(seconds) * 1000
    print(f"explain one action ({args.n_steps} steps, {args.threads} torch thread(s) attributing), "
          f"{len(jobs)} actions of the bundled samples")
    print(f"  concepts explained per action: mean {np.mean(concepts):.1f}, max {max(concepts)}; "
          f"tokens read (up to the action's end): mean {np.mean(tokens):.0f}, max {max(tokens)}")
    print(f"  latency ms: p50 {np.percentile(ms, 50):.0f}  p95 {np.percentile(ms, 95):.0f}  "
          f"mean {ms.mean():.0f}  max {ms.max():.0f}")
    per = ms / np.array(concepts).clip(min=1)
    print(f"  per explained concept ms: p50 {np.percentile(per, 50):.0f}  p95 {np.percentile(per, 95):.0f}")
    if args.reference_steps:
        agreement(overseer, explainer, Explainer(overseer, args.reference_steps, threads=args.threads), jobs)
    return 0


def agreement(overseer: Overseer, explainer: Explainer, reference: Explainer, jobs: list) -> None:
    """Token scores of every explained (action, concept) against the reference step count's."""
    correlations, overlaps = [], []
    for result, action in jobs:
        encoded = encode(result.trajectory, overseer.checkpoint.vocab, overseer.checkpoint.features)
        concepts = [overseer.concept_ids.index(c) for c in explainer.concepts_that_matter(result.action(action))]
        index = encoded.action_ids.index(action)
        ours, theirs = (e.attributions(encoded, index, concepts).scores for e in (explainer, reference))
        for x, y in zip(ours, theirs):
            if x.std() > 0 and y.std() > 0:
                correlations.append(np.corrcoef(x, y)[0, 1])
            overlaps.append(len(set(np.argsort(-x)[:5]) & set(np.argsort(-y)[:5])) / 5)
    print(f"  against {reference.n_steps} steps, {len(overlaps)} (action, concept) pairs: token-score correlation "
          f"median {np.median(correlations):.4f}, min {min(correlations):.4f}; top-5 tokens shared "
          f"mean {np.mean(overlaps):.3f}, min {min(overlaps):.2f}")
