"""`cbm generate`: write the labelled synthetic corpus and its splits.

Trajectory `i` is built from its own RNG seeded by `(seed, i)`, so output is byte-identical
for a seed whatever the number of workers, and generation streams: workers build records in
order and the parent writes them as they come.

Splits are by trajectory, except that about `heldout_share` of the families of every domain
never appear in train or val: they form `heldout.jsonl`, the honest test of generalisation
to situations the model never saw.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from cbm.concepts import CONCEPT_IDS
from cbm.formats import FORMATS, to_record
from cbm_training.generator import VARIANTS, Family, Run, load_families
from cbm_training.generator.policy import DEFAULT_POLICY, Policy
from cbm_training.generator.surface import FRAMEWORK_FORMATS, SHELL_DOMAINS

SPLITS = ("train", "val", "test", "heldout")


@dataclass(frozen=True)
class GeneratorConfig:
    n: int = 20_000
    seed: int = 0
    formats: tuple[str, ...] = FORMATS  # each trajectory is written in one of these, drawn at random
    variant_weights: tuple[float, float, float] = (0.4, 0.35, 0.25)  # benign, risky, hard_negative
    val_share: float = 0.1
    test_share: float = 0.1
    heldout_share: float = 0.2  # of the families of each domain
    label_noise: float = 0.0  # share of train actions whose risk is flipped; never val/test/heldout
    policy: str = str(DEFAULT_POLICY)
    families: tuple[str, ...] = field(default_factory=tuple)  # empty: all
    # share of runs written by an agent framework in its real shape (Claude Code, OpenHands, and
    # mini-swe-agent where the run's domain is a shell's), each in its own log format; the rest use
    # generic tool names, in any of `formats`
    frameworks: tuple[tuple[str, float], ...] = (("claude_code", 0.15), ("openhands", 0.15), ("mini_swe_agent", 0.1))


def family_concepts(families: dict[str, Family], policy: Policy, runs: int = 8) -> dict[str, set[str]]:
    """The concepts that hold somewhere in a few risky runs of each family."""
    out: dict[str, set[str]] = {}
    for name, fam in families.items():
        found: set[str] = set()
        for seed in range(runs):
            run = Run(random.Random(f"concepts:{name}:{seed}"), fam, "risky", policy, "probe")
            fam.build(run)
            found.update(c for label in run.labels.values() for c, v in label.concepts.items() if v)
        out[name] = found
    return out


def heldout_families(families: dict[str, Family], share: float, policy: Policy | None = None) -> list[str]:
    """About `share` of each domain's families, chosen by a hash of their names: stable across
    runs and seeds, so a held-out family is never trained on by any model. Then, for every
    concept that at least three families show but no held-out family does, its first carrier
    (in hash order) is held out too, so every concept can be measured on unseen families while
    at least two families still teach it."""
    def order(names):
        return sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())

    chosen = []
    for domain in sorted({f.domain for f in families.values()}):
        names = order(f.name for f in families.values() if f.domain == domain)
        k = max(1, round(share * len(names))) if share > 0 and len(names) > 1 else 0
        chosen.extend(names[:k])
    if share > 0:
        carriers = family_concepts(families, policy or Policy.load())
        for cid in CONCEPT_IDS:
            holders = order(n for n, found in carriers.items() if cid in found)
            if len(holders) >= 3 and not set(holders) & set(chosen):
                chosen.append(holders[0])
    return sorted(chosen)


class _Maker:
    """Builds record `i`; one per worker process."""

    def __init__(self, config: GeneratorConfig):
        self.config = config
        all_families = load_families()
        names = config.families or tuple(sorted(all_families))
        unknown = [n for n in names if n not in all_families]
        if unknown:
            raise ValueError(f"unknown families {unknown}")
        self.families = [all_families[n] for n in names]
        self.policy = Policy.load(config.policy)
        self.heldout = set(heldout_families({n: all_families[n] for n in names}, config.heldout_share, self.policy))

    def __call__(self, i: int) -> tuple[str, str]:
        config = self.config
        rng = random.Random(f"{config.seed}:{i}")
        fam = self.families[rng.randrange(len(self.families))]
        variant = rng.choices(VARIANTS, weights=config.variant_weights)[0]
        framework = _framework(random.Random(f"{config.seed}:{i}:framework").random(), config)
        if framework == "mini_swe_agent" and fam.domain not in SHELL_DOMAINS:
            framework = "generic"
        run = Run(rng, fam, variant, self.policy, run_id=f"gen-{config.seed}-{i:07d}", framework=framework)
        fam.build(run)
        trajectory = run.build()
        side = random.Random(f"{config.seed}:{i}:split")
        split = "heldout" if fam.name in self.heldout else _split(side.random(), config)
        trajectory.metadata["generator"]["split"] = split
        if split == "train" and config.label_noise > 0:
            flipped = []
            for action_id, label in trajectory.labels.items():
                if side.random() < config.label_noise:
                    label.risk = 1 - label.risk
                    flipped.append(action_id)
            if flipped:
                trajectory.metadata["generator"]["noisy_actions"] = flipped
        fmt = config.formats[side.randrange(len(config.formats))]
        if FRAMEWORK_FORMATS.get(framework) in config.formats:  # a framework's own log format, where allowed
            fmt = FRAMEWORK_FORMATS[framework]
        trajectory.metadata["generator"]["framework"] = framework
        return split, json.dumps(to_record(trajectory, fmt), ensure_ascii=False)


def _framework(u: float, config: GeneratorConfig) -> str:
    for name, share in config.frameworks:
        if u < share:
            return name
        u -= share
    return "generic"


def _split(u: float, config: GeneratorConfig) -> str:
    if u < config.val_share:
        return "val"
    if u < config.val_share + config.test_share:
        return "test"
    return "train"


_worker_maker: _Maker | None = None


def _init_worker(config: GeneratorConfig) -> None:
    global _worker_maker
    _worker_maker = _Maker(config)


def _make(i: int) -> tuple[str, str]:
    return _worker_maker(i)


def generate(config: GeneratorConfig, out_dir: str | Path, workers: int = 1, progress: bool = False) -> dict:
    """Write `train/val/test/heldout.jsonl` and `manifest.json` under `out_dir`; return the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    maker = _Maker(config)
    files = {s: open(out / f"{s}.jsonl", "w", encoding="utf-8") for s in SPLITS}
    digests = {s: hashlib.sha256() for s in SPLITS}
    counts = {s: 0 for s in SPLITS}
    start = time.perf_counter()
    try:
        if workers > 1:
            pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (config,))
            results = pool.imap(_make, range(config.n), chunksize=64)
        else:
            pool, results = None, map(maker, range(config.n))
        for split, line in tqdm(results, total=config.n, disable=not progress, unit="traj", desc="generate"):
            data = (line + "\n").encode("utf-8")
            files[split].write(line + "\n")
            digests[split].update(data)
            counts[split] += 1
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        for f in files.values():
            f.close()
    seconds = time.perf_counter() - start
    manifest = {
        "config": asdict(config),
        "counts": counts,
        "heldout_families": sorted(maker.heldout),
        "families": {f.name: f.domain for f in maker.families},
        "policy_digest": maker.policy.digest,
        "sha256": {s: digests[s].hexdigest() for s in SPLITS},
        "seconds": round(seconds, 2),
        "workers": workers,
    }
    manifest["config"]["policy"] = Path(config.policy).name
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = GeneratorConfig()
    parser.add_argument("--n", type=int, default=defaults.n, help="trajectories (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--workers", type=int, default=1, help="processes (output is the same for any number)")
    parser.add_argument("--formats", default=",".join(defaults.formats),
                        help="comma-separated output formats drawn per trajectory (default %(default)s)")
    parser.add_argument("--label-noise", type=float, default=0.0, help="flip this share of TRAIN risk labels")
    parser.add_argument("--heldout-share", type=float, default=defaults.heldout_share)
    parser.add_argument("--families", default="", help="comma-separated family names (default: all)")
    parser.add_argument("--policy", default=defaults.policy, help="risk policy YAML (default data/risk_policy.yaml)")
    parser.add_argument("--frameworks", default=",".join(f"{n}={s}" for n, s in defaults.frameworks),
                        help="shares of runs written in an agent framework's real shape, NAME=SHARE,... or 'none' "
                             "(default %(default)s)")
    args = parser.parse_args(argv)
    try:
        frameworks = tuple((n, float(v)) for n, v in (f.split("=", 1) for f in args.frameworks.split(",")
                                                       if f and args.frameworks != "none"))
    except ValueError:
        parser.error(f"--frameworks takes NAME=SHARE,... or none, got {args.frameworks!r}")
    unknown = [n for n, _ in frameworks if n not in FRAMEWORK_FORMATS]
    if unknown or sum(v for _, v in frameworks) > 1 or any(v < 0 for _, v in frameworks):
        parser.error(f"--frameworks: names from {', '.join(FRAMEWORK_FORMATS)}, shares >= 0 summing to at most 1")
    formats = tuple(f for f in args.formats.split(",") if f)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        parser.error(f"unknown format(s) {bad}; choose from {', '.join(FORMATS)}")
    if not 0 <= args.label_noise < 0.5:
        parser.error("--label-noise must be in [0, 0.5)")
    config = GeneratorConfig(n=args.n, seed=args.seed, formats=formats, label_noise=args.label_noise,
                             heldout_share=args.heldout_share, policy=args.policy,
                             families=tuple(f for f in args.families.split(",") if f), frameworks=frameworks)
    try:
        manifest = generate(config, args.out, workers=args.workers, progress=sys.stderr.isatty())
    except ValueError as exc:
        parser.error(str(exc))
    rate = config.n / max(manifest["seconds"], 1e-9)
    print(f"cbm generate: {config.n} trajectories in {manifest['seconds']:.1f} s ({rate:,.0f}/s, "
          f"{args.workers} worker(s)) -> {args.out}: " + ", ".join(f"{s} {c}" for s, c in manifest["counts"].items()),
          file=sys.stderr)
    return 0
