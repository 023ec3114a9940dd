"""Scoring spread over several GPUs or machines by Lightning's `Trainer.predict` (DDP).

`cbm score --engine lightning --devices N` runs one process per device. Every rank reads the
inputs and keeps the records whose index modulo the world size is its rank, scores them with the
same `Overseer` as every other entry point, and writes `(index, record)` lines to its own part
file; rank 0 then merges the parts by index, so the output has one record per input record in
input order, exactly as `cbm score` writes it. Over several machines (`num_nodes` > 1) the part
directory must be on a shared filesystem.
"""

from __future__ import annotations

import heapq
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import BasePredictionWriter
from torch.utils.data import DataLoader, IterableDataset

from cbm.formats import ReadOptions
from cbm.options import ScoringOptions
from cbm.pipeline import CHUNK, Summary, chunks, load_checkpoint, score_lines, write_all
from cbm.scoring import Overseer


class RecordShard(IterableDataset):
    """This rank's share of the input records: (index, source, line) for index % world == rank."""

    def __init__(self, sources: list[str], options: ReadOptions, fmt: str = "auto"):
        self.sources, self.options, self.fmt = sources, options, fmt

    def __iter__(self) -> Iterator[tuple[int, str, tuple]]:
        dist = torch.distributed.is_available() and torch.distributed.is_initialized()
        rank, world = (torch.distributed.get_rank(), torch.distributed.get_world_size()) if dist else (0, 1)
        index = 0
        for source, lines in chunks(self.sources, self.options, self.fmt, CHUNK):
            for line in lines:
                if index % world == rank:
                    yield index, source, line
                index += 1


class ScoringTask(pl.LightningModule):
    """The Overseer as a LightningModule. The checkpoint is loaded (and checked) when the task is
    made; Lightning then places its model on the rank's device, and the overseer is made for
    that device when prediction starts, with `options` otherwise as given."""

    def __init__(self, path: str | Path | None, options: ScoringOptions, fmt: str, read_options: ReadOptions,
                 label_sources: bool):
        super().__init__()
        self.checkpoint, self.path = load_checkpoint(path)
        self.model = self.checkpoint.model
        self.options = options
        self.overseer: Overseer | None = None
        self.fmt, self.read_options, self.label_sources = fmt, read_options, label_sources

    def on_predict_start(self) -> None:
        self.overseer = Overseer(self.checkpoint, self.options.on(self.device), self.path)

    def predict_step(self, batch: list[tuple[int, str, tuple]], batch_idx: int) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for source in dict.fromkeys(s for _, s, _ in batch):  # keep each record's source in its error
            items = [(i, line) for i, s, line in batch if s == source]
            records = score_lines(self.overseer, [line for _, line in items], self.fmt, self.read_options,
                                  source if self.label_sources else None)
            out.extend((i, r) for (i, _), r in zip(items, records))
        return out


class PartWriter(BasePredictionWriter):
    """Each rank appends its scored records, tagged with their input index, to its own part file."""

    def __init__(self, directory: Path):
        super().__init__(write_interval="batch")
        self.directory = directory

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        with open(self.directory / f"part-{trainer.global_rank:05d}.jsonl", "a", encoding="utf-8") as f:
            for index, record in prediction:
                f.write(json.dumps([index, record], ensure_ascii=False) + "\n")


def _merge(directory: Path) -> Iterator[dict[str, Any]]:
    """Records of every part file in input order (each part is already in index order)."""
    files = [open(p, encoding="utf-8") for p in sorted(directory.glob("part-*.jsonl"))]
    try:
        for _, record in heapq.merge(*(map(json.loads, f) for f in files), key=lambda item: item[0]):
            yield record
    finally:
        for f in files:
            f.close()


def predict(inputs: list[str], out: str | None, path: str | Path | None, options: ScoringOptions,
            fmt: str = "auto", devices: int | str = "auto", accelerator: str = "auto",
            read_options: ReadOptions = ReadOptions(), num_nodes: int = 1, batch_size: int = 256,
            quiet: bool = False) -> Summary | None:
    """Score `inputs` with the checkpoint at `path` (None: the shipped default) and `options` into
    `out` with `Trainer.predict` over `devices`; returns the summary on rank 0 and None on the
    other ranks. `options.device` is each rank's own."""
    if "-" in inputs:
        raise ValueError("the lightning engine reads files (every rank reads them), not stdin")
    start = time.perf_counter()
    devices = int(devices) if str(devices).isdigit() else devices
    several = num_nodes > 1 or (isinstance(devices, int) and devices > 1)
    parts = Path(f"{out}.parts") if out else Path(tempfile.gettempdir()) / "cbm-score.parts"
    task = ScoringTask(path, options, fmt, read_options, label_sources=len(inputs) > 1)
    trainer = pl.Trainer(accelerator=accelerator, devices=devices, num_nodes=num_nodes,
                         strategy="ddp" if several else "auto", logger=False,
                         enable_progress_bar=not quiet and sys.stderr.isatty(), enable_model_summary=False,
                         callbacks=[PartWriter(parts)], use_distributed_sampler=False)
    if trainer.global_rank == 0:
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
    trainer.strategy.barrier()
    loader = DataLoader(RecordShard(inputs, read_options, fmt), batch_size=batch_size, collate_fn=list)
    trainer.predict(task, loader, return_predictions=False)
    trainer.strategy.barrier()
    if trainer.global_rank != 0:
        return None
    summary = write_all(_merge(parts), out, [c.id for c in task.checkpoint.concepts])
    shutil.rmtree(parts, ignore_errors=True)
    summary.seconds = time.perf_counter() - start
    return summary
