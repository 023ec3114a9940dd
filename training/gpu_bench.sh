#!/usr/bin/env bash
# Train the default config on CUDA (bf16 mixed precision) and on the CPU, and write the figures
# (samples/s, minutes to the end of training, validation AUROC) to reports/gpu_bench.md.
# Run from the repository root on a machine with a GPU:  bash training/gpu_bench.sh
# Needs: python3 with pip; installs the project into .venv-bench (CUDA torch comes from pip).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-bench
. .venv-bench/bin/activate
python -c "import torch" 2>/dev/null || pip install -q "torch>=2.4"
pip install -q -e .
python - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device: this script measures the GPU"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
PY
cbm generate --n 12000 --seed 0 --out runs/bench/corpus --workers "$(nproc)"
run() {  # name, extra overrides...
  local name=$1; shift
  local start=$(date +%s)
  cbm train --set out=runs/bench/$name --set data.corpus=runs/bench/corpus --set data.imports=[] "$@"
  local end=$(date +%s)
  python - "$name" "$((end - start))" <<'PY'
import csv, json, sys
from pathlib import Path
name, seconds = sys.argv[1], int(sys.argv[2])
meta = json.loads(Path(f"runs/bench/{name}/checkpoint/config.json").read_text())["meta"]
rows = list(csv.DictReader(open(f"runs/bench/{name}/logs/all/metrics.csv")))
val = [r for r in rows if r.get("val_risk_auroc")]
steps = max(int(r["step"]) for r in rows) + 1
n = meta["train_trajectories"]
epochs = int(val[-1]["epoch"]) + 1 if val else 0
line = (f"| {name} | {meta['device']} | {meta['precision']} | {seconds / 60:.1f} | {n * epochs / meta['training_seconds']:.0f} | "
        f"{val[-1]['val_risk_auroc'][:5] if val else 'n/a'} | {val[-1]['val_concept_auroc'][:5] if val else 'n/a'} |")
Path("reports").mkdir(exist_ok=True)
out = Path("reports/gpu_bench.md")
if not out.exists():
    out.write_text("# Training speed, CUDA vs CPU (default config, 12,000 generated trajectories)\n\n"
                   "| run | device | precision | minutes | trajectories/s | val risk AUROC | val concept AUROC |\n"
                   "|---|---|---|---|---|---|---|\n")
with out.open("a") as f:
    f.write(line + "\n")
print(line)
PY
}
run cuda --set trainer.precision=bf16-mixed
run cuda_compile --set trainer.precision=bf16-mixed --set trainer.compile=true
CUDA_VISIBLE_DEVICES= run cpu --set trainer.accelerator=cpu
cat reports/gpu_bench.md
