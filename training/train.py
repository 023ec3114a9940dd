"""`cbm train --config training/configs/default.yaml`: train, calibrate and save a checkpoint.

Uses CUDA when present (bf16 mixed precision, pinned memory, worker prefetch, optional
torch.compile, DDP over several GPUs through Lightning) and the CPU otherwise. After training
the risk is calibrated on validation (Platt scaling), the flag threshold is set for the target
false-positive rate, per-concept thresholds are chosen for F1, and the checkpoint is written to
`<out>/checkpoint`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import yaml
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_curve

from cbm import __version__
from cbm import checkpoint as ckpt
from cbm.concepts import CONCEPT_IDS, CONCEPTS
from cbm.facts.vector import FACT_FEATURES
from cbm.features import FeatureConfig
from cbm.model import ModelConfig
from cbm.predict import cpu_threads, predict_logits
from training.data import TrajectoryDataModule
from training.generator.policy import DEFAULT_POLICY, Policy
from training.lightning import CBMTask, OptimConfig

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.yaml"


def load_config(path: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """The YAML config with `section.key=value` overrides (values parsed as YAML)."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for item in overrides:
        key, _, value = item.partition("=")
        if not _:
            raise ValueError(f"--set needs key=value, got {item!r}")
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return config


def ensure_corpus(data: dict[str, Any]) -> Path:
    corpus = Path(data["corpus"])
    if not (corpus / "train.jsonl").is_file():
        from training.generate import GeneratorConfig, generate

        spec = data.get("generate") or {}
        print(f"cbm train: generating the corpus in {corpus} ({spec})", file=sys.stderr)
        generate(GeneratorConfig(n=int(spec.get("n", 12000)), seed=int(spec.get("seed", 0))), corpus,
                 workers=os.cpu_count() or 1)
    return corpus


def ensure_imports(data: dict[str, Any], corpus: Path) -> list[Path]:
    """Public data sets named in `data.imports`, imported once into `<corpus>/imports/`. A data
    set whose folder is absent is skipped with a message: the model then trains without it."""
    from training.importers import ImportFailed, run_import

    paths = []
    shared = Path(data.get("shared_data") or "../shared/data")
    for source in data.get("imports") or []:
        out = corpus / "imports" / f"{source}.jsonl"
        if not out.is_file():
            if not shared.is_dir():
                print(f"cbm train: {shared} not found; training without {source}", file=sys.stderr)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                run_import(source, shared, out)
            except ImportFailed as exc:
                print(f"cbm train: skipping {source}: {exc}", file=sys.stderr)
                out.unlink(missing_ok=True)
                continue
        paths.append(out)
    return paths


def training_data(data: dict[str, Any]) -> tuple[Path, list[Path]]:
    """(the corpus directory, every file the model trains on): the corpus's train split, the
    public data sets it imports, and any extra labelled files."""
    corpus = ensure_corpus(data)
    return corpus, [corpus / "train.jsonl", *ensure_imports(data, corpus), *map(Path, data.get("extra_train") or [])]


def calibrate(risk_logits: np.ndarray, risk: np.ndarray) -> ckpt.Calibration:
    """Platt scaling of the risk logit on validation."""
    platt = LogisticRegression(C=1e4).fit(risk_logits.reshape(-1, 1), risk)
    scale = float(platt.coef_[0, 0])
    if scale <= 0:  # the model ranks risk backwards on validation: a flipped calibration would hide it
        print(f"cbm train: WARNING: the risk logit ranks validation risk backwards (Platt scale {scale:.3f}); "
              f"calibration left at identity; train longer or check the data", file=sys.stderr)
        return ckpt.Calibration()
    return ckpt.Calibration(scale=scale, shift=float(platt.intercept_[0]))


def threshold_at_fpr(calibrated: np.ndarray, risk: np.ndarray, target_fpr: float) -> float:
    """The lowest calibrated threshold whose false-positive rate on validation is at most `target_fpr`."""
    fpr, _, thresholds = roc_curve(risk, calibrated)
    ok = thresholds[fpr <= target_fpr]
    return float(min(ok[-1], 1.0)) if len(ok) else 1.0


def concept_thresholds(logits: np.ndarray, concepts: np.ndarray, known: np.ndarray) -> dict[str, float]:
    """Per concept, the probability threshold with the best F1 on validation (0.5 if untestable)."""
    out = {}
    grid = np.linspace(0.05, 0.95, 19)
    probs = 1 / (1 + np.exp(-logits))
    for j, cid in enumerate(CONCEPT_IDS):
        rows = known[:, j]
        y = concepts[rows, j]
        if rows.sum() == 0 or y.min() == y.max():
            out[cid] = 0.5
            continue
        scores = [f1_score(y, probs[rows, j] >= t, zero_division=0) for t in grid]
        out[cid] = float(grid[int(np.argmax(scores))])
    return out


def feature_config(section: dict[str, Any]) -> FeatureConfig:
    """The config's `features` section; `facts: true` names every fact feature (cbm.facts.vector)."""
    section = dict(section)
    facts = section.pop("facts", False)
    return FeatureConfig(**section, fact_features=FACT_FEATURES if facts else ())


@dataclass
class Setup:
    """What every training job on a config starts from."""

    train_files: list[Path]
    dm: TrajectoryDataModule
    model_config: ModelConfig
    precision: str
    cuda: bool


def prepare(config: dict[str, Any]) -> Setup:
    """The training files, the set-up data module (vocabulary built), the model config, the
    precision and device, and the CPU thread count: shared by `cbm train` and the baselines."""
    data, tr = config["data"], config["trainer"]
    corpus, train_files = training_data(data)
    cuda = torch.cuda.is_available()
    if not cuda:
        torch.set_num_threads(cpu_threads(tr.get("cpu_threads", "auto")))
    workers = tr.get("num_workers", "auto")
    dm = TrajectoryDataModule(
        train=[str(p) for p in train_files], val=[str(corpus / "val.jsonl")], features=feature_config(config["features"]),
        batch_size=int(tr["batch_size"]), vocab_size=int(tr.get("vocab_size", 20000)),
        num_workers=(4 if cuda else 0) if workers == "auto" else int(workers), pin_memory=cuda,
        seed=int(config.get("seed", 0)), limit=data.get("limit"),
        narration_dropout=float(data.get("narration_dropout", 0)), action_only_share=float(data.get("action_only_share", 0)),
        twin_share=float(data.get("twin_share", 0)), policy=Policy.load(config.get("policy") or DEFAULT_POLICY))
    dm.setup()
    model_config = ModelConfig(vocab_size=len(dm.vocab), max_tokens=dm.features.max_tokens,
                               n_facts=len(dm.features.fact_features),
                               **{**config["model"], "interactions": tuple(map(tuple, config["model"].get(
                                   "interactions", [])))})
    precision = tr.get("precision", "auto")
    if precision == "auto":
        precision = "bf16-mixed" if cuda else "32-true"
    return Setup(train_files, dm, model_config, precision, cuda)


def train(config: dict[str, Any]) -> Path:
    """Run a whole training job; returns the checkpoint directory."""
    start = time.perf_counter()
    pl.seed_everything(int(config.get("seed", 0)), workers=True)
    out = Path(config["out"])
    setup = prepare(config)
    dm, model_config, train_files, precision = setup.dm, setup.model_config, setup.train_files, setup.precision
    cuda, tr = setup.cuda, config["trainer"]
    optim = OptimConfig(**config["optim"])
    policy = Policy.load(config.get("policy") or DEFAULT_POLICY)
    table = tuple(torch.from_numpy(a) for a in policy.table()) if optim.policy_weight > 0 else None
    phases = ["all"] if optim.mode == "joint" else ["concepts", "head"]
    task = None
    for phase in phases:
        previous = task
        task = CBMTask(model_config, optim, dm.concept_pos_weight(), phase=phase, risk_prior=dm.risk_prior(),
                       policy=table)
        if previous is not None:
            task.model.load_state_dict(getattr(previous.model, "_orig_mod", previous.model).state_dict())
        if tr.get("compile") and cuda:
            task.model = torch.compile(task.model)
        monitor = "val_concept_auroc" if phase == "concepts" else "val_risk_auroc"
        best = ModelCheckpoint(dirpath=out / "lightning" / phase, monitor=monitor, mode="max", save_top_k=1)
        loggers = [CSVLogger(out, name="logs", version=phase)]
        try:
            from pytorch_lightning.loggers import TensorBoardLogger
            import tensorboard  # noqa: F401

            loggers.append(TensorBoardLogger(out, name="tensorboard", version=phase))
        except ImportError:
            pass
        trainer = pl.Trainer(
            accelerator=tr.get("accelerator", "auto"), devices=tr.get("devices", "auto"), strategy=tr.get("strategy", "auto"),
            precision=precision, max_epochs=int(tr["max_epochs"]), logger=loggers,
            callbacks=[best, EarlyStopping(monitor=monitor, mode="max", patience=int(tr.get("patience", 2)))],
            use_distributed_sampler=False, enable_progress_bar=sys.stderr.isatty(), log_every_n_steps=20,
            gradient_clip_val=1.0, num_sanity_val_steps=0)
        trainer.fit(task, datamodule=dm)
        if best.best_model_path:
            state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
            task.load_state_dict(state)
        if trainer.global_rank != 0:
            return out / "checkpoint"
    model = getattr(task.model, "_orig_mod", task.model).cpu().eval()  # unwrap torch.compile
    val = dm.val_set.examples
    logits = predict_logits(model, [e.encoded for e in val])
    risk_logits = np.concatenate([r for _, r in logits])
    concept_logits = np.concatenate([c for c, _ in logits])
    risk = np.concatenate([e.risk for e in val])
    risk_known = np.concatenate([e.risk_known for e in val])
    calibration = calibrate(risk_logits[risk_known], risk[risk_known])
    calibrated = calibration.apply(risk_logits[risk_known])
    cal = config["calibration"]
    threshold = threshold_at_fpr(calibrated, risk[risk_known], float(cal["target_fpr"]))
    block_threshold = max(threshold_at_fpr(calibrated, risk[risk_known], float(cal.get("block_fpr", 0.01))), threshold)
    thresholds = concept_thresholds(concept_logits, np.concatenate([e.concepts for e in val]),
                                    np.concatenate([e.concept_known for e in val]))
    seconds = time.perf_counter() - start
    checkpoint = ckpt.Checkpoint(
        model=model, vocab=dm.vocab, features=dm.features, concepts=CONCEPTS, calibration=calibration,
        threshold=threshold, block_threshold=block_threshold, concept_thresholds=thresholds,
        concept_prior={cid: float(p) for cid, p in zip(CONCEPT_IDS, dm.concept_prior)},
        meta={"cbm_version": __version__, "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "training_data_sha256": ckpt.file_sha256(*train_files), "train_trajectories": len(dm.train_set),
              "training_files": [str(p) for p in train_files],
              "config": config, "device": "cuda" if cuda else "cpu", "precision": precision,
              "training_seconds": round(seconds, 1), "target_fpr": float(cal["target_fpr"]),
              "block_fpr": float(cal.get("block_fpr", 0.01)), "risk_policy_sha256": policy.digest})
    path = ckpt.save(checkpoint, out / "checkpoint")
    print(f"cbm train: checkpoint -> {path} ({seconds / 60:.1f} min; threshold {threshold:.3f} on calibrated risk)",
          file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="YAML config (default %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set trainer.max_epochs=1 (repeatable)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.set)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        parser.error(str(exc))
    train(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
