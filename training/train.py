"""`cbm train --config training/configs/default.yaml`: train, calibrate and save a checkpoint.

It only trains: the data the config names must be there already (`cbm generate` makes the
corpus, `cbm import` the public data sets); a missing file is exit 2 with the command that
makes it (`cbm_training.config.training_data`).

Uses CUDA when present (bf16 mixed precision, pinned memory, worker prefetch, optional
torch.compile, DDP over several GPUs through Lightning) and the CPU otherwise. After training
the risk is calibrated on validation (Platt scaling), the flag threshold is set for the target
false-positive rate, per-concept thresholds are chosen for F1, and the checkpoint is written to
`<out>/checkpoint`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import yaml
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger

from cbm import __version__
from cbm import checkpoint as ckpt
from cbm.concepts import CONCEPT_IDS, CONCEPTS
from cbm.trajectory import Label
from cbm.predict import predict_logits
from cbm.scoring import Overseer, ScoringOptions
from cbm_training.calibration import bounded_by_harmless, calibrate, concept_thresholds, threshold_at_fpr
from cbm_training.config import DEFAULT_CONFIG, MissingData, load_config, prepare, real_validation, training_data
from cbm_training.data import read_labelled
from cbm_training.generator.policy import DEFAULT_POLICY, Policy
from cbm_training.lightning import CBMTask, OptimConfig


def train(config: dict[str, Any]) -> Path:
    """Run a whole training job; returns the checkpoint directory."""
    start = time.perf_counter()
    training_data(config["data"])  # a missing prerequisite stops the job before anything starts
    real_validation(config)
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
    block_threshold = threshold_at_fpr(calibrated, risk[risk_known], float(cal.get("block_fpr", 0.01)))
    threshold, block_threshold = min(threshold, 1.0), min(max(block_threshold, threshold), 1.0)
    thresholds = concept_thresholds(concept_logits, np.concatenate([e.concepts for e in val]),
                                    np.concatenate([e.concept_known for e in val]), CONCEPT_IDS)
    real = real_validation(config)
    seconds = time.perf_counter() - start
    floor = cal.get("fact_floor")
    checkpoint = ckpt.Checkpoint(
        model=model, vocab=dm.vocab, features=dm.features, concepts=CONCEPTS, calibration=calibration,
        threshold=threshold, block_threshold=block_threshold, concept_thresholds=thresholds,
        concept_prior={cid: float(p) for cid, p in zip(CONCEPT_IDS, dm.concept_prior)},
        fact_floor=None if floor is None else float(floor),
        meta={"cbm_version": __version__, "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "training_data_sha256": ckpt.file_sha256(*train_files), "train_trajectories": len(dm.train_set),
              "training_files": [str(p) for p in train_files],
              "config": config, "device": "cuda" if cuda else "cpu", "precision": precision,
              "training_seconds": round(seconds, 1), "target_fpr": float(cal["target_fpr"]),
              "block_fpr": float(cal.get("block_fpr", 0.01)), "risk_policy_sha256": policy.digest,
              "real_validation": [str(p) for p in real],
              "held_out_splits": 1})  # the imports hold out parts for evaluation (data/IMPORTERS.md)
    if real:
        # scored through the scoring core, as results report them (rounded, facts' floors applied),
        # so a risk just under a threshold is not rounded over it
        harmless = read_labelled(real)
        scored = Overseer(checkpoint, ScoringOptions(device="cpu", threads=None)).score_many(harmless)
        scores = [np.asarray([a.risk for a in r.actions]) for r in scored]
        keep = [np.asarray([(t.labels.get(a) or Label()).risk == 0 for a in t.action_ids]) for t in harmless]
        actions = np.concatenate([s[k] for s, k in zip(scores, keep)] or [np.zeros(0)])
        clean = [i for i, k in enumerate(keep) if k.all()]  # runs with no risky action: the run share's
        runs = [scores[i].max() for i in clean if len(scores[i])]
        bounded, bounded_block = bounded_by_harmless(threshold, block_threshold, actions, runs, cal)
        bounded = min(bounded, 1.0)
        checkpoint = replace(checkpoint, threshold=bounded, block_threshold=min(max(bounded_block, bounded), 1.0))
        threshold = checkpoint.threshold
        print(f"cbm train: thresholds also bounded by {len(actions)} real harmless actions and "
              f"{len(runs)} runs without a risky one ({', '.join(str(p) for p in real)})", file=sys.stderr)
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
    try:
        train(config)
    except MissingData as exc:
        print(f"cbm train: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
