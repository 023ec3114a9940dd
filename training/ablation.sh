#!/usr/bin/env bash
# Train the default config and its ablations side by side on one GPU, then evaluate each on the
# validation split (full runs and the action-only view), so the default is chosen on validation
# and never on test. Run from the repository root with the project's dependencies installed:
#   bash training/ablation.sh [OUT_DIR]        (PYTHON=python3 to pick the interpreter)
# Writes OUT_DIR/<variant>/{checkpoint,logs,eval} and OUT_DIR/ablation.md. ONLY="a b" runs those
# variants alone (a GPU holds all of them at once; 16 CPU cores feed about five). A quick trial run:
#   TRAIN_ARGS="--set data.limit=100 --set trainer.max_epochs=1" EVAL_ARGS="--limit 50" bash training/ablation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${1:-runs/ablation}
mkdir -p "$OUT"
[ -f runs/corpus/train.jsonl ] || $PY -m cbm_training.generate --n 12000 --seed 0 --out runs/corpus --workers "$(nproc)"
# the public data sets the default config trains on (cbm train never imports them itself)
if [ -d ../shared/data ]; then
  for source in toolemu safe-os swe; do
    [ -f "runs/corpus/imports/$source.jsonl" ] || $PY -m cbm_training.importers "$source" --out "runs/corpus/imports/$source.jsonl"
  done
else
  echo "ablation: ../shared/data not found; training without the imported data sets" >&2
  TRAIN_ARGS="--set data.imports=[] ${TRAIN_ARGS:-}"
fi

declare -A VARIANTS=(
  [default]=""
  [seed1]="--set seed=1"
  [dim96]="--set model.dim=96"
  [fewer_views]="--set data.narration_dropout=0.3 --set data.action_only_share=0.3"
  [all_views]="--set data.action_only_share=1.0"
  [no_views]="--set data.narration_dropout=0 --set data.action_only_share=0"
  [no_policy]="--set optim.policy_weight=0"
  [six_epochs]="--set trainer.max_epochs=6"
  [previous]="--set model.dim=96 --set data.narration_dropout=0 --set data.action_only_share=0 --set optim.policy_weight=0
    --set model.interactions=[[touches_production,destructive_change],[secret_access,external_communication],[financial_transaction,follows_injected_instruction]]"
)
NAMES=(${ONLY:-${!VARIANTS[@]}})
for name in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  $PY -m cbm_training.train --set out="$OUT/$name" ${VARIANTS[$name]} ${TRAIN_ARGS:-} >"$OUT/$name.log" 2>&1 &
done
wait
for name in "${NAMES[@]}"; do
  $PY -m cbm_training.evaluate --checkpoint "$OUT/$name/checkpoint" --extra runs/corpus/val.jsonl \
    --out "$OUT/$name/eval" ${EVAL_ARGS:-} >>"$OUT/$name.log" 2>&1 &
done
wait
$PY - "$OUT" "${NAMES[@]}" <<'PY'
import json, sys
from pathlib import Path
from cbm import checkpoint as ckpt
from cbm_training.evaluate import policy_agreement
out = Path(sys.argv[1])  # every variant trained and evaluated in OUT, this run's and earlier ones
names = sorted(p.parents[1].name for p in out.glob("*/eval/evaluation.json") if (p.parents[1] / "checkpoint").is_dir())
lines = ["| variant | dim | narration dropout | action-only share | policy weight | head pairs | epochs | seed | device "
         "| minutes | val risk AUROC | val risk AUROC, action only | val concept macro-AUROC | val recall @ 5% FPR "
         "| head agrees with the policy |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for name in names:
    meta = json.loads((out / name / "checkpoint" / "config.json").read_text())["meta"]
    c = meta["config"]
    val = json.loads((out / name / "eval" / "evaluation.json").read_text())["splits"]["val"]
    only = (val.get("action_only") or {}).get("risk") or {}
    pairs = "user_authorized x 8" if any("user_authorized" in p for p in c["model"]["interactions"]) else \
        f"{len(c['model']['interactions'])} others"
    lines.append(f"| {name} | {c['model']['dim']} | {c['data'].get('narration_dropout', 0)} | "
                 f"{c['data'].get('action_only_share', 0)} | {c['optim'].get('policy_weight', 0)} | {pairs} | "
                 f"{c['trainer']['max_epochs']} | {c.get('seed', 0)} | {meta['device']} {meta['precision']} | "
                 f"{meta['training_seconds'] / 60:.1f} | {val['risk']['auroc']:.3f} | {only.get('auroc') or float('nan'):.3f} | "
                 f"{val['concepts']['macro_auroc']:.3f} | {val['risk']['recall_at_5fpr']:.3f} | "
                 f"{policy_agreement(ckpt.load(out / name / 'checkpoint'))['agree']:.1%} |")
(out / "ablation.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
PY
