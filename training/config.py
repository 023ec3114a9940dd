"""A training config and what every training job on it starts from.

`load_config` reads the YAML (training/configs/*.yaml) with `--set key=value` overrides;
`prepare` checks that the data the config names is there, builds the data module (vocabulary
included) and the model config, and picks the precision and device: shared by `cbm train` and the
baselines. Training never makes its data: the generated corpus (`cbm generate`) and the imported
public data sets (`cbm import`) are prerequisites the config declares (`data.corpus`,
`data.generate`, `data.imports`, `data.shared_data`), and a missing one is a `MissingData` error
that names the command that makes it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from cbm.concepts import CONCEPT_IDS
from cbm.facts.vector import FACT_FEATURES
from cbm.features import FeatureConfig
from cbm.model import ModelConfig
from cbm.predict import cpu_threads
from cbm_training.data import TrajectoryDataModule
from cbm_training.generator.policy import DEFAULT_POLICY, Policy

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.yaml"


class MissingData(Exception):
    """Training data the config names is not there; the message says which command makes it."""


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


def training_data(data: dict[str, Any]) -> tuple[Path, list[Path]]:
    """(the corpus directory, every file the model trains on): the corpus's train split, the
    public data sets it imports (`<corpus>/imports/<source>.jsonl`), and any extra labelled files.
    Raises MissingData, naming the command that makes each missing file, when one is absent."""
    corpus = Path(data["corpus"])
    spec = data.get("generate") or {}
    shared = data.get("shared_data") or "../shared/data"
    missing = []
    if not all((corpus / f"{split}.jsonl").is_file() for split in ("train", "val")):
        missing.append(f"the corpus {corpus} (train.jsonl, val.jsonl): make it with `cbm generate "
                       f"--n {int(spec.get('n', 12000))} --seed {int(spec.get('seed', 0))} --out {_arg(corpus)}`")
    imports = [corpus / "imports" / f"{source}.jsonl" for source in data.get("imports") or []]
    for source, path in zip(data.get("imports") or [], imports):
        if not path.is_file():
            missing.append(f"{path}: make it with `cbm import {source} --data-dir {_arg(shared)} --out {_arg(path)}` "
                           f"(or train without it: --set data.imports=[...])")
    extra = [Path(p) for p in data.get("extra_train") or []]
    missing += [f"{p}: named by data.extra_train" for p in extra if not p.is_file()]
    if missing:
        raise MissingData("training data missing:\n  " + "\n  ".join(missing))
    return corpus, [corpus / "train.jsonl", *imports, *extra]


def real_validation(config: dict[str, Any]) -> list[Path]:
    """The real harmless sessions the flag and block thresholds are also set on (`calibration.real_val`:
    import names, read from `<corpus>/imports/<name>.jsonl`). Raises MissingData, naming the
    command, when one is absent."""
    corpus = Path(config["data"]["corpus"])
    shared = config["data"].get("shared_data") or "../shared/data"
    paths = [corpus / "imports" / f"{name}.jsonl" for name in config.get("calibration", {}).get("real_val") or []]
    missing = [f"{p}: make it with `cbm import {p.stem} --data-dir {_arg(shared)} --out {_arg(p)}` "
               f"(or calibrate without it: --set calibration.real_val=[])" for p in paths if not p.is_file()]
    if missing:
        raise MissingData("calibration data missing:\n  " + "\n  ".join(missing))
    return paths


def _arg(path: str | Path) -> str:
    return shlex.quote(str(path))


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
        twin_share=float(data.get("twin_share", 0)), system_prompt_share=float(data.get("system_prompt_share", 0)),
        policy=Policy.load(config.get("policy") or DEFAULT_POLICY))
    dm.setup()
    model_config = ModelConfig(vocab_size=len(dm.vocab), n_concepts=len(CONCEPT_IDS), max_tokens=dm.features.max_tokens,
                               n_facts=len(dm.features.fact_features),
                               **{**config["model"], "interactions": tuple(map(tuple, config["model"].get(
                                   "interactions", [])))})
    precision = tr.get("precision", "auto")
    if precision == "auto":
        precision = "bf16-mixed" if cuda else "32-true"
    return Setup(train_files, dm, model_config, precision, cuda)
