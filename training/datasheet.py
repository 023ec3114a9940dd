"""The corpus datasheet: what the generated corpus holds, and a shortcut audit of it.

`cbm datasheet DIR` reads the split files that `cbm generate` writes (`train.jsonl`,
`val.jsonl`, `test.jsonl`, `heldout.jsonl`, `manifest.json`) in any record format and reports:

* counts: per concept (positive actions, per split), per family and domain (trajectories,
  actions, risky actions, variants), per split, per label;
* coverage: for every concept, how many families have it positive and how many families have
  hard negatives for it (target: 3 or more each), and per family which concepts its risky runs
  and its hard negatives contain;
* run lengths, exact duplicates (whole runs and action texts, and runs of other splits that
  repeat a train run), evasions, policy rules, tags and the format mix;
* the shortcut audit: how well surface cues predict each concept and the risk label on the
  held-out families, with models fit on train only: (a) the best single token, (b) TF-IDF +
  logistic regression on the action text, (c) the same with the run's user messages. A concept
  that one token or a bag of words separates on families never seen in training is learnable
  without understanding, and the model will learn the shortcut instead of the concept.

`build_datasheet(dir)` returns a JSON-ready dict; `render_markdown(sheet)` writes DATASHEET.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from cbm.concepts import CONCEPT_IDS, CONCEPTS_BY_ID

SPLITS = ("train", "val", "test", "heldout")
VARIANT_ORDER = ("benign", "risky", "hard_negative")
TARGETS = tuple(CONCEPT_IDS) + ("risk",)
COVERAGE_TARGET = 3  # families with the concept positive, and families with hard negatives for it
TOKEN_FLAG = 0.95  # best single-token held-out AUROC at or above this: a shortcut
TFIDF_FLAG = 0.97  # TF-IDF + LR held-out AUROC at or above this: a shortcut
MIN_TOKEN_DF = 5  # a candidate token appears in at least this many train actions
MAX_TRAIN_ACTIONS = 50_000
MAX_FEATURES = 20_000
LENGTH_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 4), (5, 8), (9, 16), (17, 32), (33, 64), (65, None))
TOKEN_PATTERN = r"[a-z0-9]+"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def tokens(text: str) -> list[str]:
    """Lowercase alphanumeric runs: `orders-live.prod.acme` gives orders, live, prod, acme."""
    return _TOKEN_RE.findall(text.lower())


# --- reading ------------------------------------------------------------------------------


class _Corpus:
    """Column store of what the datasheet needs, one row per trajectory and per action."""

    def __init__(self) -> None:
        # trajectories
        self.t_split: list[str] = []
        self.t_family: list[str] = []
        self.t_domain: list[str] = []
        self.t_variant: list[str] = []
        self.t_format: list[str] = []
        self.t_actions: list[int] = []
        self.t_steps: list[int] = []
        self.t_hash: list[str] = []
        self.t_risk: list[int | None] = []
        # actions
        self.a_traj: list[int] = []
        self.a_text: list[str] = []
        self.a_key: list[str] = []  # canonical text (tool name + sorted-key arguments), for duplicates
        self.a_risk: list[int] = []  # -1 unknown
        self.a_concepts: list[list[int]] = []  # per concept 0/1, -1 unknown
        self.a_rule: list[str | None] = []
        self.a_tag: list[str | None] = []
        self.a_evasion: list[str | None] = []
        self.a_position: list[str] = []  # only / first / middle / last
        self.a_context: list[int] = []  # index into contexts
        self.contexts: list[str] = []  # the user messages before an action
        self.errors: list[dict[str, Any]] = []


def _action_text(step: Any) -> str:
    if step.kind == "tool_call":
        return f"{step.tool_name or ''} {step.text}"
    return step.text


def _canonical_args(step: Any) -> str:
    if step.arguments is not None:
        return json.dumps(step.arguments, sort_keys=True, ensure_ascii=False)
    return step.text


def _content_hash(trajectory: Any) -> str:
    """Hash of what happened, without ids: (kind, tool name of calls, text or arguments) per
    step. The same run written in another format hashes the same."""
    parts = [("tool_call", step.tool_name or "", _canonical_args(step)) if step.kind == "tool_call"
             else (step.kind, "", step.text) for step in trajectory.steps]
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


def _action_info(trajectory: Any, generator: dict[str, Any]) -> list[dict[str, Any]]:
    """Generator info per action, in action order. The generator keys it by its own action ids;
    a format with another message numbering renames `msg:<i>` ids, so match by order when the
    counts agree, else by id."""
    info = generator.get("actions") if isinstance(generator.get("actions"), dict) else {}
    ids = trajectory.action_ids
    if len(info) == len(ids):
        return [v if isinstance(v, dict) else {} for v in info.values()]
    return [info.get(a) if isinstance(info.get(a), dict) else {} for a in ids]


def _read_corpus(data_dir: Path) -> tuple[_Corpus, list[str]]:
    from cbm.formats import read_records

    corpus = _Corpus()
    found = []
    context_index: dict[str, int] = {}
    for split in SPLITS:
        path = data_dir / f"{split}.jsonl"
        if not path.exists():
            continue
        found.append(split)
        for record in read_records(path):
            if record.error:
                corpus.errors.append({"split": split, "error": str(record.error)})
                continue
            t = record.trajectory
            gen = t.metadata.get("generator") if isinstance(t.metadata.get("generator"), dict) else {}
            ti = len(corpus.t_split)
            corpus.t_split.append(split)
            corpus.t_family.append(str(gen.get("family") or "(none)"))
            corpus.t_domain.append(str(gen.get("domain") or "(none)"))
            corpus.t_variant.append(str(gen.get("variant") or "(none)"))
            corpus.t_format.append(record.format or "?")
            corpus.t_steps.append(len(t.steps))
            corpus.t_hash.append(_content_hash(t))
            corpus.t_risk.append(t.risk)
            infos = _action_info(t, gen)
            users: list[str] = []
            context = -1
            actions = 0
            n_actions = len(t.action_ids)
            for step in t.steps:
                if step.kind == "user":
                    users.append(step.text)
                    context = -1
                if step.action_id is None:
                    continue
                if context < 0:
                    text = "\n".join(users)
                    context = context_index.setdefault(text, len(corpus.contexts))
                    if context == len(corpus.contexts):
                        corpus.contexts.append(text)
                label = t.labels.get(step.action_id)
                info = infos[actions] if actions < len(infos) else {}
                corpus.a_traj.append(ti)
                corpus.a_text.append(_action_text(step))
                corpus.a_key.append(f"{step.tool_name}\x00{_canonical_args(step)}" if step.kind == "tool_call"
                                    else f"\x00{step.text}")
                corpus.a_risk.append(-1 if label is None or label.risk is None else label.risk)
                known = label.concepts if label is not None else {}
                corpus.a_concepts.append([known.get(c, -1) for c in CONCEPT_IDS])
                corpus.a_rule.append(info.get("rule") or (label.source if label is not None else None))
                corpus.a_tag.append(info.get("tag"))
                corpus.a_evasion.append(info.get("evasion"))
                corpus.a_position.append("only" if n_actions == 1 else "first" if actions == 0
                                         else "last" if actions == n_actions - 1 else "middle")
                corpus.a_context.append(context)
                actions += 1
            corpus.t_actions.append(actions)
    return corpus, found


# --- counts -------------------------------------------------------------------------------


def _sorted_counter(counter: Counter) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def _stats(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    hist = {}
    for low, high in LENGTH_BUCKETS:
        name = f"{low}" if low == high else f"{low}+" if high is None else f"{low}-{high}"
        hist[name] = int(((arr >= low) & ((arr <= high) if high is not None else True)).sum())
    return {"n": int(arr.size), "min": int(arr.min()), "p10": float(np.percentile(arr, 10)),
            "median": float(np.median(arr)), "p90": float(np.percentile(arr, 90)), "max": int(arr.max()),
            "mean": round(float(arr.mean()), 2), "histogram": hist}


def _counts(c: _Corpus, splits: list[str]) -> dict[str, Any]:
    n_traj = len(c.t_split)
    concepts = np.asarray(c.a_concepts, dtype=np.int8).reshape(-1, len(CONCEPT_IDS))
    risk = np.asarray(c.a_risk, dtype=np.int8)
    a_traj = np.asarray(c.a_traj, dtype=np.int64)
    t_split = np.asarray(c.t_split, dtype=object)
    a_split = t_split[a_traj] if len(a_traj) else np.asarray([], dtype=object)

    # per split
    per_split = {}
    for split in splits:
        tm = t_split == split
        am = a_split == split
        per_split[split] = {
            "trajectories": int(tm.sum()), "actions": int(am.sum()),
            "risky_actions": int((risk[am] == 1).sum()), "safe_actions": int((risk[am] == 0).sum()),
            "unknown_risk_actions": int((risk[am] == -1).sum()),
            "risky_trajectories": int(sum(1 for i in np.flatnonzero(tm) if c.t_risk[i] == 1)),
            "families": len({c.t_family[i] for i in np.flatnonzero(tm)}),
            "variants": _sorted_counter(Counter(c.t_variant[i] for i in np.flatnonzero(tm))),
            "formats": _sorted_counter(Counter(c.t_format[i] for i in np.flatnonzero(tm))),
            "errors": sum(1 for e in c.errors if e["split"] == split),
        }

    # per concept
    per_concept = {}
    for j, cid in enumerate(CONCEPT_IDS):
        col = concepts[:, j] if len(concepts) else np.asarray([], dtype=np.int8)
        pos = col == 1
        per_concept[cid] = {
            "positive": int(pos.sum()), "negative": int((col == 0).sum()), "unknown": int((col == -1).sum()),
            "positive_risky": int((pos & (risk == 1)).sum()), "positive_safe": int((pos & (risk == 0)).sum()),
            "per_split": {s: int((pos & (a_split == s)).sum()) for s in splits},
        }

    # per family (and the coverage table built from it)
    fam_traj: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(c.t_family):
        fam_traj[f].append(i)
    traj_pos = np.zeros((n_traj, len(CONCEPT_IDS)), dtype=bool)  # concept positive in some action
    if len(a_traj):
        np.logical_or.at(traj_pos, a_traj, concepts == 1)
    t_actions = np.asarray(c.t_actions)
    t_risky_actions = np.bincount(a_traj[risk == 1], minlength=n_traj) if len(a_traj) else np.zeros(n_traj, int)
    per_family = {}
    for fam in sorted(fam_traj):
        idx = np.asarray(fam_traj[fam])
        variants = Counter(c.t_variant[i] for i in idx)
        risky_runs = idx[np.asarray([c.t_variant[i] == "risky" for i in idx])]
        hard_runs = idx[np.asarray([c.t_variant[i] == "hard_negative" for i in idx])]
        in_risky = traj_pos[risky_runs].any(axis=0) if len(risky_runs) else np.zeros(len(CONCEPT_IDS), bool)
        in_hard = traj_pos[hard_runs].any(axis=0) if len(hard_runs) else np.zeros(len(CONCEPT_IDS), bool)
        hard_for = (in_hard | in_risky) if len(hard_runs) else in_hard
        per_family[fam] = {
            "domain": Counter(c.t_domain[i] for i in idx).most_common(1)[0][0],
            "trajectories": int(len(idx)), "actions": int(t_actions[idx].sum()),
            "risky_actions": int(t_risky_actions[idx].sum()),
            "risky_trajectories": int(sum(1 for i in idx if c.t_risk[i] == 1)),
            "variants": {v: int(variants.get(v, 0)) for v in VARIANT_ORDER if variants.get(v)}
                        | {v: int(n) for v, n in variants.items() if v not in VARIANT_ORDER},
            "splits": sorted({c.t_split[i] for i in idx}, key=_split_order),
            "concepts_positive": [cid for j, cid in enumerate(CONCEPT_IDS) if traj_pos[idx, j].any()],
            "concepts_in_risky": [cid for j, cid in enumerate(CONCEPT_IDS) if in_risky[j]],
            "concepts_in_hard_negatives": [cid for j, cid in enumerate(CONCEPT_IDS) if hard_for[j]],
            "concepts_in_hard_negative_runs": [cid for j, cid in enumerate(CONCEPT_IDS) if in_hard[j]],
        }

    coverage = {}
    named = {f: row for f, row in per_family.items() if f != "(none)"}  # runs without generator metadata
    for cid in CONCEPT_IDS:
        positive = [f for f, row in named.items() if cid in row["concepts_positive"]]
        hard = [f for f, row in named.items() if cid in row["concepts_in_hard_negatives"]]
        strict = [f for f, row in named.items() if cid in row["concepts_in_hard_negative_runs"]]
        coverage[cid] = {
            "families_positive": len(positive), "families_hard_negative": len(hard),
            "families_hard_negative_runs": len(strict),
            "domains_positive": len({per_family[f]["domain"] for f in positive}),
            "ok": len(positive) >= COVERAGE_TARGET and len(hard) >= COVERAGE_TARGET,
            "families": positive, "hard_negative_families": hard,
        }

    # per domain
    dom_traj: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(c.t_domain):
        dom_traj[d].append(i)
    per_domain = {}
    for dom in sorted(dom_traj):
        idx = np.asarray(dom_traj[dom])
        variants = Counter(c.t_variant[i] for i in idx)
        per_domain[dom] = {
            "families": len({c.t_family[i] for i in idx}), "trajectories": int(len(idx)),
            "actions": int(t_actions[idx].sum()), "risky_actions": int(t_risky_actions[idx].sum()),
            "variants": {v: int(variants[v]) for v in sorted(variants, key=_variant_order)},
        }

    # labels
    risky_traj = sum(1 for r in c.t_risk if r == 1)
    labels = {"risk_1_actions": int((risk == 1).sum()), "risk_0_actions": int((risk == 0).sum()),
              "risk_unknown_actions": int((risk == -1).sum()), "risky_trajectories": risky_traj,
              "safe_trajectories": sum(1 for r in c.t_risk if r == 0),
              "unknown_risk_trajectories": sum(1 for r in c.t_risk if r is None),
              "risky_action_position": _sorted_counter(Counter(p for p, r in zip(c.a_position, c.a_risk)
                                                               if r == 1)),
              "risky_actions_per_risky_trajectory": _stats([int(n) for i, n in enumerate(t_risky_actions)
                                                            if c.t_risk[i] == 1])}

    held = {c.t_family[i] for i in range(n_traj) if c.t_split[i] == "heldout"}
    seen = {c.t_family[i] for i in range(n_traj) if c.t_split[i] in ("train", "val")}
    return {"per_split": per_split, "per_concept": per_concept, "per_family": per_family,
            "per_domain": per_domain, "coverage": coverage, "labels": labels,
            "heldout_families": sorted(held), "heldout_leak": sorted(held & seen - {"(none)"})}


def _split_order(split: str) -> int:
    return SPLITS.index(split) if split in SPLITS else len(SPLITS)


def _variant_order(variant: str) -> int:
    return VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER)


def _duplicates(c: _Corpus, splits: list[str]) -> dict[str, Any]:
    groups = Counter(c.t_hash)
    n = len(c.t_hash)
    in_groups = sum(1 for h in c.t_hash if groups[h] > 1)
    train_hashes = {h for h, s in zip(c.t_hash, c.t_split) if s == "train"}
    of_train = {s: sum(1 for h, s2 in zip(c.t_hash, c.t_split) if s2 == s and h in train_hashes)
                for s in splits if s != "train"}
    keys = Counter(c.a_key)
    n_actions = len(c.a_key)
    dup_actions = sum(1 for k in c.a_key if keys[k] > 1)
    risky_keys = [k for k, r in zip(c.a_key, c.a_risk) if r == 1]
    dup_risky = sum(1 for k in risky_keys if keys[k] > 1)
    largest = groups.most_common(1)[0][1] if groups else 0
    return {
        "trajectories": n, "unique_trajectories": len(groups),
        "duplicate_copies": n - len(groups), "duplicate_rate": _ratio(n - len(groups), n),
        "trajectories_in_duplicate_groups": in_groups, "largest_group": largest,
        "copies_of_train_runs_in": of_train,
        "actions": n_actions, "distinct_action_texts": len(keys),
        "actions_with_duplicated_text": dup_actions, "duplicated_action_text_share": _ratio(dup_actions, n_actions),
        "risky_actions_with_duplicated_text": dup_risky,
        "risky_duplicated_action_text_share": _ratio(dup_risky, len(risky_keys)),
        "most_repeated_action_texts": [{"text": _short(k.replace("\x00", " ").strip()), "count": v}
                                       for k, v in keys.most_common(5) if v > 1],
    }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the shortcut audit -------------------------------------------------------------------


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(y) == 0 or y.min() == y.max():
        return None
    return round(float(roc_auc_score(y, score)), 4)


def _targets(c: _Corpus, rows: np.ndarray) -> np.ndarray:
    """(rows x targets) labels: concepts then risk; -1 unknown."""
    concepts = np.asarray(c.a_concepts, dtype=np.int8).reshape(-1, len(CONCEPT_IDS))[rows]
    risk = np.asarray(c.a_risk, dtype=np.int8)[rows]
    return np.column_stack([concepts, risk]) if len(rows) else np.zeros((0, len(TARGETS)), np.int8)


def _best_tokens(x_train, y_train: np.ndarray, vocab: np.ndarray, top: int = 5) -> list[list[tuple[int, bool, float]]]:
    """Per target, the `top` tokens whose presence indicator has the highest train AUROC in
    either direction: (column, inverted, train auc). For a 0/1 score AUROC is
    0.5 + (TPR - FPR) / 2, so all tokens are scored with two sparse products."""
    known = y_train >= 0
    pos = ((y_train == 1) & known).astype(np.float32)
    neg = ((y_train == 0) & known).astype(np.float32)
    tp = np.asarray((x_train.T @ pos))  # vocab x targets
    fp = np.asarray((x_train.T @ neg))
    n_pos, n_neg = pos.sum(axis=0), neg.sum(axis=0)
    out = []
    for k in range(y_train.shape[1]):
        if n_pos[k] == 0 or n_neg[k] == 0:
            out.append([])
            continue
        auc = 0.5 + 0.5 * (tp[:, k] / n_pos[k] - fp[:, k] / n_neg[k])
        strength = np.maximum(auc, 1 - auc)
        # highest strength first; ties broken by token text, so the choice is stable
        order = np.lexsort((vocab, -np.round(strength, 10)))[:top]
        out.append([(int(j), bool(auc[j] < 0.5), round(float(strength[j]), 4)) for j in order])
    return out


def _tfidf(max_features: int, min_df: int = 2):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True, ngram_range=(1, 2), min_df=min_df,
                           max_features=max_features, sublinear_tf=True, dtype=np.float32)


def _audit(c: _Corpus, seed: int, max_train: int, max_features: int) -> dict[str, Any]:
    # scipy and scikit-learn load their own BLAS and OpenMP libraries when imported, and a limit
    # covers only libraries already loaded: import them first, then limit
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    # One thread: L-BFGS on these sparse problems is many times slower when BLAS threads contend
    # for the cores (28 s against 3.4 s for 18 fits, measured on 2 cores).
    with threadpool_limits(limits=1):
        return _audit_models(c, seed, max_train, max_features)


def _audit_models(c: _Corpus, seed: int, max_train: int, max_features: int) -> dict[str, Any]:
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    a_split = np.asarray(c.t_split, dtype=object)[np.asarray(c.a_traj, dtype=np.int64)] if c.a_traj else \
        np.asarray([], dtype=object)
    train_rows = np.flatnonzero(a_split == "train")
    eval_split = "heldout"
    eval_rows = np.flatnonzero(a_split == "heldout")
    note = None
    if not len(eval_rows):
        eval_split = "test"
        eval_rows = np.flatnonzero(a_split == "test")
        note = "no held-out actions: audited on test (in-distribution), which overstates nothing but hides " \
               "family shortcuts"
    test_rows = np.flatnonzero(a_split == "test") if eval_split == "heldout" else np.asarray([], dtype=np.int64)
    result: dict[str, Any] = {"eval_split": eval_split, "note": note, "train_actions": int(len(train_rows)),
                              "eval_actions": int(len(eval_rows)), "seed": seed}
    if not len(train_rows) or not len(eval_rows):
        result["note"] = "no train or evaluation actions: audit skipped"
        result["targets"] = {}
        return result
    if len(train_rows) > max_train:
        rng = np.random.default_rng(seed)
        train_rows = np.sort(rng.choice(train_rows, size=max_train, replace=False))
    result["train_actions_used"] = int(len(train_rows))

    texts = c.a_text
    y_tr, y_ev, y_te = _targets(c, train_rows), _targets(c, eval_rows), _targets(c, test_rows)
    tr_text = [texts[i] for i in train_rows]
    ev_text = [texts[i] for i in eval_rows]
    te_text = [texts[i] for i in test_rows]

    # (a) single tokens
    counter = CountVectorizer(token_pattern=TOKEN_PATTERN, lowercase=True, binary=True, min_df=MIN_TOKEN_DF,
                              dtype=np.float32)
    try:
        x_tr = counter.fit_transform(tr_text).tocsc()
    except ValueError:  # no token in MIN_TOKEN_DF train actions: a toy corpus
        result["note"] = f"no token occurs in {MIN_TOKEN_DF} train actions: audit skipped"
        result["targets"] = {}
        return result
    vocab = counter.get_feature_names_out()
    x_ev = counter.transform(ev_text).tocsc()
    best = _best_tokens(x_tr, y_tr, vocab)

    # (b) action text, (c) action text + the user messages before it
    tfidf = _tfidf(max_features)
    ta_tr = tfidf.fit_transform(tr_text)
    ta_ev = tfidf.transform(ev_text)
    ta_te = tfidf.transform(te_text) if te_text else sparse.csr_matrix((0, ta_tr.shape[1]), dtype=np.float32)
    a_ctx = np.asarray(c.a_context, dtype=np.int64)
    ctx_tr_ids = np.unique(a_ctx[train_rows])
    ctx_vec = _tfidf(max_features)
    try:
        ctx_vec.fit([c.contexts[i] for i in ctx_tr_ids])
    except ValueError:  # no user text (or none repeated): context adds nothing
        ctx_vec = _tfidf(max_features, min_df=1)
        ctx_vec.fit([c.contexts[i] for i in ctx_tr_ids] + ["no user message"])
    needed = np.unique(np.concatenate([a_ctx[train_rows], a_ctx[eval_rows], a_ctx[test_rows]]))
    ctx_matrix = ctx_vec.transform([c.contexts[i] for i in needed]).tocsr()
    where = {int(k): i for i, k in enumerate(needed)}

    def with_context(x_action, rows):
        return sparse.hstack([x_action, ctx_matrix[[where[int(k)] for k in a_ctx[rows]]]], format="csr")

    tc_tr, tc_ev = with_context(ta_tr, train_rows), with_context(ta_ev, eval_rows)

    unconverged: list[str] = []

    def fit_score(x_train, y, x_eval_sets, name):
        model = LogisticRegression(class_weight="balanced", solver="lbfgs", C=1.0, max_iter=300, random_state=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(x_train, y)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            unconverged.append(name)
        return [model.decision_function(x) if x.shape[0] else np.zeros(0) for x in x_eval_sets]

    targets = {}
    for k, name in enumerate(TARGETS):
        ktr, kev, kte = y_tr[:, k] >= 0, y_ev[:, k] >= 0, y_te[:, k] >= 0
        ytr, yev, yte = y_tr[ktr, k], y_ev[kev, k], y_te[kte, k]
        row: dict[str, Any] = {"train_positive": int((ytr == 1).sum()), "train_known": int(ktr.sum()),
                               "eval_positive": int((yev == 1).sum()), "eval_known": int(kev.sum())}
        tokens_out = []
        for j, inverted, train_auc in best[k]:
            indicator = x_ev[:, j].toarray().ravel()[kev]
            score = 1 - indicator if inverted else indicator
            tokens_out.append({"token": ("NOT " if inverted else "") + str(vocab[j]), "train_auc": train_auc,
                               "eval_auc": _auc(yev, score)})
        row["top_tokens"] = tokens_out
        row["token"] = tokens_out[0]["token"] if tokens_out else None
        row["token_train_auc"] = tokens_out[0]["train_auc"] if tokens_out else None
        row["token_auc"] = tokens_out[0]["eval_auc"] if tokens_out else None
        if len(np.unique(ytr)) < 2:
            row["tfidf_auc"] = row["tfidf_context_auc"] = row["tfidf_test_auc"] = None
        else:
            ev_b, te_b = fit_score(ta_tr[ktr], ytr, [ta_ev[kev], ta_te[kte]], name)
            ev_c, = fit_score(tc_tr[ktr], ytr, [tc_ev[kev]], name + " (context)")
            row["tfidf_auc"] = _auc(yev, ev_b)
            row["tfidf_test_auc"] = _auc(yte, te_b)
            row["tfidf_context_auc"] = _auc(yev, ev_c)
        reasons = []
        if row["token_auc"] is not None and row["token_auc"] >= TOKEN_FLAG:
            reasons.append(f"token {row['token']!r} AUROC {row['token_auc']:.3f} >= {TOKEN_FLAG}")
        if row["tfidf_auc"] is not None and row["tfidf_auc"] >= TFIDF_FLAG:
            reasons.append(f"TF-IDF AUROC {row['tfidf_auc']:.3f} >= {TFIDF_FLAG}")
        row["shortcut"] = bool(reasons)
        row["reasons"] = reasons
        row["flag"] = "too easy: a shortcut (" + "; ".join(reasons) + ")" if reasons else \
            "n/a: one class in " + eval_split if row["token_auc"] is None and row["tfidf_auc"] is None else ""
        targets[name] = row
    result["targets"] = targets
    result["not_converged"] = unconverged
    result["vocabulary"] = {"tokens": int(len(vocab)), "tfidf_action": int(len(tfidf.vocabulary_)),
                            "tfidf_context": int(len(ctx_vec.vocabulary_))}
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


# --- the datasheet ------------------------------------------------------------------------


def build_datasheet(data_dir: str | Path, *, audit: bool = True, seed: int = 0,
                    max_train_actions: int = MAX_TRAIN_ACTIONS, max_features: int = MAX_FEATURES) -> dict[str, Any]:
    """Read a corpus directory and return the datasheet as a JSON-ready dict."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: not a directory")
    started = time.perf_counter()
    corpus, found = _read_corpus(data_dir)
    if not found:
        raise FileNotFoundError(f"{data_dir}: none of {', '.join(s + '.jsonl' for s in SPLITS)}")
    read_seconds = time.perf_counter() - started
    manifest = None
    manifest_path = data_dir / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            manifest = {"error": f"unreadable manifest.json: {exc}"}
    counts = _counts(corpus, found)
    n_traj, n_actions = len(corpus.t_split), len(corpus.a_traj)
    sheet: dict[str, Any] = {
        "data_dir": str(data_dir),
        "splits": found,
        "other_files": sorted(p.name for p in data_dir.glob("*.jsonl") if p.stem not in SPLITS),
        "manifest": manifest,
        "summary": {
            "trajectories": n_traj, "actions": n_actions, "steps": int(sum(corpus.t_steps)),
            "families": len(counts["per_family"]), "domains": len(counts["per_domain"]),
            "risky_actions": counts["labels"]["risk_1_actions"],
            "risky_trajectories": counts["labels"]["risky_trajectories"],
            "record_errors": len(corpus.errors),
            "variants": _sorted_counter(Counter(corpus.t_variant)),
        },
        "errors": corpus.errors[:20],
        **counts,
        "lengths": {"actions_per_trajectory": _stats(corpus.t_actions),
                    "steps_per_trajectory": _stats(corpus.t_steps)},
        "duplicates": _duplicates(corpus, found),
        "evasions": _sorted_counter(Counter(e for e in corpus.a_evasion if e)),
        "evasions_risky": _sorted_counter(Counter(e for e, r in zip(corpus.a_evasion, corpus.a_risk) if e and r == 1)),
        "rules": _sorted_counter(Counter(r or "(none)" for r in corpus.a_rule)),
        "tags": _sorted_counter(Counter(t for t in corpus.a_tag if t)),
        "formats": _sorted_counter(Counter(corpus.t_format)),
        "thresholds": {"coverage_families": COVERAGE_TARGET, "token_auroc": TOKEN_FLAG, "tfidf_auroc": TFIDF_FLAG,
                       "min_token_train_actions": MIN_TOKEN_DF},
    }
    sheet["audit"] = _audit(corpus, seed, max_train_actions, max_features) if audit else None
    sheet["flags"] = _flags(sheet)
    sheet["seconds"] = {"read": round(read_seconds, 2), "total": round(time.perf_counter() - started, 2)}
    return sheet


def _flags(sheet: dict[str, Any]) -> list[str]:
    """Everything that misses a target, in one list for the summary."""
    flags = []
    absent = [cid for cid, row in sheet["coverage"].items() if row["families_positive"] == 0]
    if absent:
        flags.append(f"coverage: {len(absent)} concepts are positive in no family: {', '.join(absent)}")
    for cid, row in sheet["coverage"].items():
        if cid not in absent and not row["ok"]:
            flags.append(f"coverage: {cid} is positive in {row['families_positive']} families and has hard "
                         f"negatives in {row['families_hard_negative']} (target >= {COVERAGE_TARGET} each)")
    if sheet["heldout_leak"]:
        flags.append(f"split: held-out families also in train/val: {', '.join(sheet['heldout_leak'])}")
    for split, n in sheet["duplicates"]["copies_of_train_runs_in"].items():
        if n:
            flags.append(f"duplicates: {n} {split} trajectories repeat a train trajectory exactly")
    if sheet["summary"]["record_errors"]:
        flags.append(f"records: {sheet['summary']['record_errors']} records could not be read")
    audit = sheet.get("audit") or {}
    untested = [name for name, row in (audit.get("targets") or {}).items()
                if row["train_positive"] and not row["eval_positive"]]
    if untested:
        flags.append(f"audit: {audit['eval_split']} has no positive action for {', '.join(untested)}: "
                     f"these cannot be audited on unseen families")
    for name, row in (audit.get("targets") or {}).items():
        if row["shortcut"]:
            flags.append(f"shortcut: {name}: {'; '.join(row['reasons'])}")
    return flags


# --- markdown -----------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, _Auc):
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.2f}".rstrip("0")
    return str(value)


class _Auc(float):
    """An AUROC in a table: always three decimals."""


def _auc_cell(value: float | None) -> Any:
    return None if value is None else _Auc(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def _inline(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.items()) or "none"


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


def render_markdown(sheet: dict[str, Any]) -> str:
    s = sheet["summary"]
    out: list[str] = ["# Datasheet", ""]
    out += [f"Corpus `{sheet['data_dir']}`, splits: {', '.join(sheet['splits'])}."]
    manifest = sheet.get("manifest")
    if isinstance(manifest, dict):
        scalars = {k: v for k, v in manifest.items() if isinstance(v, (str, int, float, bool)) and k != "error"}
        if isinstance(manifest.get("config"), dict):
            scalars |= {k: v for k, v in manifest["config"].items() if isinstance(v, (str, int, float, bool))}
        if scalars:
            out.append("Manifest: " + ", ".join(f"{k} = {v}" for k, v in scalars.items()) + ".")
        if "error" in manifest:
            out.append(f"Manifest: {manifest['error']}.")
    if sheet.get("other_files"):
        out.append(f"Not read (not a split file): {', '.join(sheet['other_files'])}.")

    out += ["", "## Summary", ""]
    out += [f"- {s['trajectories']} trajectories, {s['actions']} actions, {s['steps']} steps; "
            f"{s['families']} families in {s['domains']} domains.",
            f"- Risky actions: {s['risky_actions']} ({_pct(s['risky_actions'], s['actions'])}); risky trajectories: "
            f"{s['risky_trajectories']} ({_pct(s['risky_trajectories'], s['trajectories'])}).",
            f"- Variants: {_inline(s['variants'])}. Formats: {_inline(sheet['formats'])}.",
            f"- Record errors: {s['record_errors']}."]
    flags = sheet["flags"]
    out += ["", f"**Flags ({len(flags)}):**" if flags else "**Flags: none.**", ""]
    out += [f"- ⚠ {f}" for f in flags]

    out += ["", "## Coverage", "",
            f"Per concept: families where it is positive, and families with hard negatives for it (hard-negative "
            f"runs where it is positive, or positive in the family's risky runs when the family has hard-negative "
            f"runs). Target: >= {COVERAGE_TARGET} each. The stricter count: families whose hard-negative runs "
            f"themselves hold the concept (the concept present, the run safe).", ""]
    rows = []
    for cid, row in sheet["coverage"].items():
        pc = sheet["per_concept"][cid]
        rows.append([cid, row["families_positive"], row["families_hard_negative"],
                     row["families_hard_negative_runs"], row["domains_positive"],
                     pc["positive"], pc["positive_risky"], pc["positive_safe"],
                     "ok" if row["ok"] else "**FAIL**"])
    out.append(_table(["concept", "families +", "families hard neg.", "of them + in hard-neg. runs", "domains +",
                       "positive actions", "of them risky", "of them safe", "target"], rows))

    out += ["", "## Concepts per split", "", "Positive actions per split."]
    splits = sheet["splits"]
    rows = [[cid] + [row["per_split"].get(sp, 0) for sp in splits] + [row["positive"], row["unknown"]]
            for cid, row in sheet["per_concept"].items()]
    out += ["", _table(["concept"] + splits + ["total", "unknown"], rows)]

    out += ["", "## Families", ""]
    rows = []
    for fam, row in sheet["per_family"].items():
        rows.append([fam, row["domain"], row["trajectories"], row["actions"], row["risky_actions"],
                     _inline(row["variants"]), ", ".join(row["splits"]),
                     ", ".join(row["concepts_in_risky"]) or "-", ", ".join(row["concepts_in_hard_negatives"]) or "-"])
    out.append(_table(["family", "domain", "runs", "actions", "risky actions", "variants", "splits",
                       "concepts in risky runs", "concepts in hard negatives"], rows))
    out += ["", "### Domains", ""]
    rows = [[d, r["families"], r["trajectories"], r["actions"], r["risky_actions"], _inline(r["variants"])]
            for d, r in sheet["per_domain"].items()]
    out.append(_table(["domain", "families", "runs", "actions", "risky actions", "variants"], rows))

    out += ["", "## Splits", ""]
    rows = [[sp, r["trajectories"], r["actions"], r["risky_actions"], r["safe_actions"], r["risky_trajectories"],
             r["families"], _inline(r["variants"]), _inline(r["formats"]), r["errors"]]
            for sp, r in sheet["per_split"].items()]
    out.append(_table(["split", "runs", "actions", "risky actions", "safe actions", "risky runs", "families",
                       "variants", "formats", "errors"], rows))
    held = sheet["heldout_families"]
    out += ["", f"Held-out families ({len(held)}): {', '.join(held) or 'none'}."]
    out.append(f"Held-out families also in train/val: {', '.join(sheet['heldout_leak'])}." if sheet["heldout_leak"]
               else "No held-out family appears in train or val.")
    lab = sheet["labels"]
    out += ["", "### Labels", "",
            f"- Actions: risk 1 {lab['risk_1_actions']}, risk 0 {lab['risk_0_actions']}, unknown "
            f"{lab['risk_unknown_actions']}.",
            f"- Trajectories: risky {lab['risky_trajectories']}, safe {lab['safe_trajectories']}, unknown "
            f"{lab['unknown_risk_trajectories']}.",
            f"- Where the risky action sits in its run: {_inline(lab['risky_action_position'])}.",
            f"- Risky actions per risky run: median {_fmt(lab['risky_actions_per_risky_trajectory'].get('median'))}, "
            f"max {_fmt(lab['risky_actions_per_risky_trajectory'].get('max'))}."]

    out += ["", "## Lengths", ""]
    rows = []
    for name, st in sheet["lengths"].items():
        if st["n"]:
            rows.append([name.replace("_", " "), st["min"], st["p10"], st["median"], st["p90"], st["max"],
                         st["mean"]])
    out.append(_table(["", "min", "p10", "median", "p90", "max", "mean"], rows))
    hist_a = sheet["lengths"]["actions_per_trajectory"].get("histogram", {})
    hist_s = sheet["lengths"]["steps_per_trajectory"].get("histogram", {})
    out += ["", _table(["length", "runs with that many actions", "runs with that many steps"],
                       [[k, hist_a.get(k, 0), hist_s.get(k, 0)] for k in hist_a])]

    d = sheet["duplicates"]
    out += ["", "## Duplicates", "",
            "Exact duplicates of content (steps' kind, tool name, text or arguments; ids and call ids ignored).", "",
            f"- Trajectories: {d['unique_trajectories']} unique of {d['trajectories']}; {d['duplicate_copies']} "
            f"extra copies (rate {d['duplicate_rate']:.2%}); {d['trajectories_in_duplicate_groups']} in duplicate "
            f"groups, largest group {d['largest_group']}.",
            f"- Copies of train runs in other splits: {_inline(d['copies_of_train_runs_in'])}.",
            f"- Action texts: {d['distinct_action_texts']} distinct of {d['actions']}; "
            f"{d['duplicated_action_text_share']:.1%} of actions share their exact text with another action; "
            f"{d['risky_duplicated_action_text_share']:.1%} of risky actions do."]
    if d["most_repeated_action_texts"]:
        out += ["", _table(["most repeated action text", "count"],
                           [[f"`{r['text']}`", r["count"]] for r in d["most_repeated_action_texts"]])]

    out += ["", "## Evasions, rules, tags", "",
            f"- Evasions (all actions): {_inline(sheet['evasions'])}.",
            f"- Evasions on risky actions: {_inline(sheet['evasions_risky'])}.",
            f"- Tags: {_inline(sheet['tags'])}.", "", "Policy rule that decided each action's label:", ""]
    out.append(_table(["rule", "actions"], [[k, v] for k, v in sheet["rules"].items()]))

    out += ["", "## Shortcut audit", ""]
    audit = sheet.get("audit")
    if not audit:
        out.append("Not run (--no-audit).")
    else:
        out.append(f"Fit on train ({audit.get('train_actions_used', audit['train_actions'])} of "
                   f"{audit['train_actions']} actions), evaluated on **{audit['eval_split']}** "
                   f"({audit['eval_actions']} actions). AUROC of (a) the best single token chosen on train, "
                   f"(b) TF-IDF + logistic regression on the action text, (c) the same plus the user messages "
                   f"before the action; (b) on test for comparison. Flag: (a) >= {TOKEN_FLAG} or "
                   f"(b) >= {TFIDF_FLAG}.")
        if audit.get("note"):
            out += ["", f"Note: {audit['note']}."]
        if audit.get("targets"):
            rows = []
            for name, r in audit["targets"].items():
                group = CONCEPTS_BY_ID[name].group if name in CONCEPTS_BY_ID else "verdict"
                rows.append([name, group, f"{r['train_positive']}/{r['eval_positive']}",
                             f"`{r['token']}`" if r["token"] else "n/a", _auc_cell(r["token_train_auc"]),
                             _auc_cell(r["token_auc"]), _auc_cell(r["tfidf_auc"]),
                             _auc_cell(r["tfidf_context_auc"]), _auc_cell(r["tfidf_test_auc"]),
                             "**TOO EASY: a shortcut**" if r["shortcut"] else r["flag"] or "ok"])
            out += ["", _table(["target", "group", "positives train/eval", "best token", "(a) train", "(a) token",
                                "(b) TF-IDF", "(c) +context", "(b) on test", "flag"], rows)]
            out += ["", f"Audit took {audit.get('seconds', 0)} s; vocabulary: {_inline(audit.get('vocabulary', {}))}."]
            if audit.get("not_converged"):
                out.append(f"Logistic regression hit its iteration limit for: {', '.join(audit['not_converged'])}.")

    out += ["", "## How to read this", "",
            "- **Coverage** fails when a concept lives in fewer than "
            f"{COVERAGE_TARGET} families, or has fewer than {COVERAGE_TARGET} families with hard negatives: the "
            "model can then learn the family's wording instead of the concept. Add families or hard negatives.",
            "- **Hard negatives** are runs that look risky and are not (the user asked for the deletion, the "
            "staging copy): without them a concept and risk are the same thing to the model.",
            "- **The shortcut audit** trains throwaway surface models on train and tests them on held-out "
            "families. A single token with AUROC >= "
            f"{TOKEN_FLAG} on unseen families means the concept is announced by one word (a tool name, a "
            "hostname fragment); a bag of words >= "
            f"{TFIDF_FLAG} means the wording gives it away. Some concepts are lexical by nature "
            "(`financial_transaction` on a `transfer_funds` call): read the token before acting, and ask whether "
            "hard negatives use it too. The `group` column helps: concepts of the target, effect, access and execution "
            "groups describe what the action itself does, so its text rightly carries them and a single token must "
            "not; intent, mitigating and the risk verdict depend on context and must stay well below the flag. "
            "A large gap between (b) on test and (b) on held-out means family "
            "templates are memorised. (c) well above (b) says the user messages carry the label, which is "
            "legitimate for `user_authorized` and `violates_user_instruction`, and a shortcut elsewhere.",
            "- **Duplicates** inflate scores when a val/test/held-out run repeats a train run; repeated action "
            "texts show how little the templates vary.",
            "- **Risky action position**: if risky actions are nearly always last, position alone predicts risk.",
            "- n/a: the evaluation split has only one class for that target (or no positives in train)."]
    return "\n".join(out) + "\n"


# --- command line -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm datasheet",
                                     description="Write the corpus datasheet and shortcut audit of a generated "
                                                 "corpus directory (train/val/test/heldout .jsonl).")
    parser.add_argument("data_dir", help="directory written by `cbm generate`")
    parser.add_argument("--out", help="write the markdown here instead of stdout")
    parser.add_argument("--json", dest="json_out", help="also write the datasheet as JSON here")
    parser.add_argument("--no-audit", action="store_true", help="skip the shortcut audit (counts only)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train subsample and models (default 0)")
    parser.add_argument("--max-train-actions", type=int, default=MAX_TRAIN_ACTIONS,
                        help=f"subsample train to this many actions for the audit (default {MAX_TRAIN_ACTIONS})")
    args = parser.parse_args(argv)
    try:
        sheet = build_datasheet(args.data_dir, audit=not args.no_audit, seed=args.seed,
                                max_train_actions=args.max_train_actions)
    except FileNotFoundError as exc:
        print(f"cbm datasheet: {exc}", file=sys.stderr)
        return 2
    markdown = render_markdown(sheet)
    if args.out:
        Path(args.out).write_text(markdown, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(markdown)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(sheet, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                                       encoding="utf-8")
        print(f"wrote {args.json_out}", file=sys.stderr)
    for flag in sheet["flags"]:
        print(f"flag: {flag}", file=sys.stderr)
    return 3 if sheet["summary"]["record_errors"] else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
