"""The checkpoint format: `weights.pt` (a plain state dict of tensors) and `config.json`.

`config.json` holds everything needed to use the weights and to trust them: the model and
feature configuration, the vocabulary, the concept taxonomy the model was trained with,
calibration, thresholds, each concept's training prior (the baseline that contributions to the
risk are measured against), the training data's hash, the evaluation summary, and the SHA-256 of
`weights.pt`. Loading uses `torch.load(weights_only=True)`, which refuses pickled objects, and
fails with a clear message on a missing file, a changed hash or a shape that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cbm.concepts import Concept
from cbm.features import FeatureConfig, Vocabulary
from cbm.model import ConceptBottleneckModel, ModelConfig

FORMAT_VERSION = 1
WEIGHTS, CONFIG = "weights.pt", "config.json"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used, and why."""


@dataclass
class Calibration:
    """Calibrated risk = sigmoid(scale * logit + shift) (Platt scaling, fitted on validation)."""

    scale: float = 1.0
    shift: float = 0.0

    def apply(self, logit: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        if isinstance(logit, np.ndarray):
            return 1 / (1 + np.exp(-(self.scale * logit + self.shift)))
        return torch.sigmoid(self.scale * logit + self.shift)


@dataclass
class Checkpoint:
    model: ConceptBottleneckModel
    vocab: Vocabulary
    features: FeatureConfig
    concepts: tuple[Concept, ...]
    calibration: Calibration = field(default_factory=Calibration)
    threshold: float = 0.5  # on calibrated risk: flagged (sent to review) at or above
    concept_thresholds: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # version, data hash, evaluation summary, ...
    block_threshold: float = 1.0  # on calibrated risk: a live guard blocks at or above
    concept_prior: dict[str, float] = field(default_factory=dict)  # mean training label per concept
    weights_sha256: str | None = None  # set by `load`: identifies the exact weights
    fact_floor: float | None = None  # a concept the action's facts establish is at least this probable
    # (cbm.facts.implied); None: the encoder's probabilities alone


def file_sha256(*paths: str | Path) -> str:
    """SHA-256 of the files' bytes, in order, read in chunks (training data can be large)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def save(checkpoint: Checkpoint, directory: str | Path) -> Path:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in checkpoint.model.state_dict().items()}
    torch.save(state, out / WEIGHTS)
    config = {
        "format_version": FORMAT_VERSION,
        "model": checkpoint.model.config.to_json(),
        "features": checkpoint.features.__dict__,
        "vocabulary": checkpoint.vocab.to_json(),
        "concepts": [c.__dict__ | {"positive": list(c.positive), "negative": list(c.negative)}
                     for c in checkpoint.concepts],
        "calibration": checkpoint.calibration.__dict__,
        "threshold": checkpoint.threshold,
        "block_threshold": checkpoint.block_threshold,
        "concept_thresholds": checkpoint.concept_thresholds,
        "concept_prior": checkpoint.concept_prior,
        "fact_floor": checkpoint.fact_floor,
        "meta": checkpoint.meta,
        "weights_sha256": file_sha256(out / WEIGHTS),
    }
    (out / CONFIG).write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def load(directory: str | Path) -> Checkpoint:
    path = Path(directory)
    for name in (CONFIG, WEIGHTS):
        if not (path / name).is_file():
            raise CheckpointError(f"{path}: missing {name} (a checkpoint directory holds {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path / CONFIG}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path / CONFIG}: a JSON object expected, found {type(config).__name__}")
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {config.get('format_version')!r}, expected {FORMAT_VERSION}")
    actual = file_sha256(path / WEIGHTS)
    if actual != config.get("weights_sha256"):
        raise CheckpointError(f"{path / WEIGHTS}: SHA-256 {actual[:16]}... does not match config.json "
                              f"({str(config.get('weights_sha256'))[:16]}...): the weights were changed or damaged")
    try:
        model_config = ModelConfig.from_json(config["model"])
        concepts = tuple(Concept(**{**c, "positive": tuple(c["positive"]), "negative": tuple(c["negative"])})
                         for c in config["concepts"])
        vocab = Vocabulary.from_json(config["vocabulary"])
        features = FeatureConfig(**config["features"])
        calibration = Calibration(scale=_number(config, "calibration", "scale"),
                                  shift=_number(config, "calibration", "shift"))
        threshold = _number(config, "threshold", unit=True)
        block = _number(config, "block_threshold", unit=True) if "block_threshold" in config else 1.0
        concept_thresholds = {c.id: _number(config, "concept_thresholds", c.id, unit=True) for c in concepts}
        prior = config.get("concept_prior", {})
        concept_prior = {c.id: _number(config, "concept_prior", c.id, unit=True) if c.id in prior else 0.5
                         for c in concepts}
        floor = _number(config, "fact_floor", unit=True) if config.get("fact_floor") is not None else None
        meta = config["meta"]
        if not isinstance(meta, dict):
            raise TypeError(f"meta is a {type(meta).__name__}, not an object")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path / CONFIG}: incomplete or invalid ({exc})") from None
    if len(concepts) != model_config.n_concepts:
        raise CheckpointError(f"{path}: {len(concepts)} concepts in the taxonomy, {model_config.n_concepts} in the model")
    try:
        model = ConceptBottleneckModel(model_config, [c.id for c in concepts])
    except ValueError as exc:
        raise CheckpointError(f"{path / CONFIG}: {exc}") from None
    try:
        state = torch.load(path / WEIGHTS, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for refused or corrupt files
        raise CheckpointError(f"{path / WEIGHTS}: cannot be loaded as plain tensors ({exc})") from None
    bad = [name for name, tensor in state.items()
           if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise CheckpointError(f"{path / WEIGHTS}: NaN or infinite values in {', '.join(bad[:3])}")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path / WEIGHTS}: does not fit the model in config.json: {exc}") from None
    model.eval()
    return Checkpoint(model=model, vocab=vocab, features=features, concepts=concepts, calibration=calibration,
                      threshold=threshold, block_threshold=block, concept_thresholds=concept_thresholds,
                      concept_prior=concept_prior, meta=dict(meta), weights_sha256=actual, fact_floor=floor)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a checkpoint may hold")


def _number(config: dict, *keys: str, unit: bool = False) -> float:
    """config[keys[0]][keys[1]]... as a finite float (in [0, 1] when `unit`), or a ValueError
    that names the field: a NaN threshold would otherwise let every action through."""
    value: Any = config
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise KeyError(".".join(keys))
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{'.'.join(keys)} is {value!r}, not a finite number")
    if unit and not 0 <= value <= 1:
        raise ValueError(f"{'.'.join(keys)} is {value}, outside [0, 1]")
    return float(value)


def new(model_config: ModelConfig, vocab: Vocabulary, features: FeatureConfig,
        concepts: tuple[Concept, ...]) -> Checkpoint:
    """An untrained checkpoint of `concepts` (training passes the taxonomy it reads, `cbm.concepts.CONCEPTS`)."""
    return Checkpoint(ConceptBottleneckModel(model_config, [c.id for c in concepts]), vocab, features, concepts,
                      concept_prior={c.id: 0.5 for c in concepts})
