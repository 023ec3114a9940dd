"""The loaded model: its concepts and what each does to the risk, its thresholds, how it did
on evaluation, and how well its risk is calibrated."""

import json
from importlib import resources
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from cbm.options import shipped_checkpoint
from cbm_app import context

SHIPPED = shipped_checkpoint()
RELIABILITY = Path(str(resources.files("cbm.reports") / "reliability.png"))  # reports/, installed as package data

model = context.overseer()
info = model.info()
weights = (info["head"]["weights"] or {}).get("concepts")

st.title("Model")
st.markdown(f"Version `{info['version']}` · trained {info['trained_at'] or 'at an unknown time'} · "
            f"{info['head']['kind']} risk head over {len(info['concepts'])} concepts")
st.code(str(info["checkpoint"]), language=None)
flag, block = st.columns(2)
flag.metric("Flag at risk", f"{info['thresholds']['flag']:.3f}",
            help=f"false-positive rate on validation: {info['thresholds']['target_fpr']}")
block.metric("Block at risk", f"{info['thresholds']['block']:.3f}",
             help=f"false-positive rate on validation: {info['thresholds']['block_fpr']}")

st.subheader("What raises and lowers the risk")
if weights:
    st.caption(f"The risk head's weight on each concept probability (bias {info['head']['weights']['bias']:+.3f}). "
               "Positive weights raise the risk when the concept is present, negative ones lower it.")
    frame = pd.DataFrame([{"concept": c["name"], "weight": weights[c["id"]]} for c in info["concepts"]])
    st.altair_chart(alt.Chart(frame).mark_bar().encode(
        x=alt.X("weight:Q", title="weight on the risk logit"),
        y=alt.Y("concept:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
        color=alt.condition("datum.weight > 0", alt.value("#e53935"), alt.value("#43a047")),
        tooltip=["concept", alt.Tooltip("weight:Q", format="+.3f")]), width="stretch")
    interactions = info["head"]["weights"]["interactions"]
    if interactions:
        st.caption("Interaction terms (the product of two concepts' probabilities):")
        names = {c["id"]: c["name"] for c in info["concepts"]}
        st.dataframe(pd.DataFrame([{"concepts": " × ".join(names.get(c, c) for c in i["concepts"]),
                                    "weight": i["weight"]} for i in interactions]), hide_index=True, width="stretch")
else:
    st.info("This checkpoint's risk head is not linear, so no single weight per concept exists; the decision view "
            "shows each action's exact concept contributions instead.")

st.subheader("Concepts")
for c in info["concepts"]:  # by name, with the definition in full (a table would cut it off)
    weight = f" · weight {weights[c['id']]:+.3f}" if weights else ""
    present = info["thresholds"]["concepts"].get(c["id"])
    at = f" · present at p >= {present:.2f}" if present is not None else ""
    st.markdown(f"**{c['name']}** <span style='color:#607d8b'>({c['group']}{weight}{at})</span>",
                unsafe_allow_html=True)
    st.caption(c["definition"])

st.subheader("Evaluation")
evaluation = info["evaluation"]
if evaluation:
    st.caption("Measured by `cbm evaluate` when this checkpoint was made, on actions it never saw: **test** is "
               "generated runs of the scenario families it was trained on; **heldout** is whole scenario families "
               "left out of training. Real-log results (SWE-bench sessions, OpenAgentSafety, AgentDojo) are in "
               "reports/evaluation.md.")
    st.dataframe(pd.DataFrame([{"split": split, "actions": m.get("actions"), "risky actions": m.get("risky_actions"),
                                "risk AUROC": m.get("risk_auroc"), "risk AUPRC": m.get("risk_auprc"),
                                "recall at 5% false positives": m.get("recall_at_5fpr"),
                                "concept macro-AUROC": m.get("concept_macro_auroc"),
                                "calibration error (ECE)": m.get("ece"),
                                "AUROC, the action alone": m.get("action_only_risk_auroc")}
                               for split, m in evaluation.items()]), hide_index=True, width="stretch",
                 column_config={"split": st.column_config.TextColumn(width="small")})
else:
    st.caption("No evaluation recorded in this checkpoint (run `cbm evaluate --checkpoint DIR --record`).")

st.subheader("Calibration")
shipped = json.loads((SHIPPED / "config.json").read_text(encoding="utf-8")).get("weights_sha256") \
    if (SHIPPED / "config.json").is_file() else None
if shipped and shipped == info["weights_sha256"] and RELIABILITY.is_file():
    st.image(str(RELIABILITY), caption="Reliability of the calibrated risk (reports/reliability.png)")
elif evaluation:
    st.caption("Expected calibration error per evaluation split (the reliability plot is drawn by `cbm evaluate`).")
    ece = pd.DataFrame([{"split": s, "ECE": m.get("ece")} for s, m in evaluation.items()])
    st.altair_chart(alt.Chart(ece).mark_bar().encode(x=alt.X("ECE:Q"), y=alt.Y("split:N", title=None)),
                    width="stretch")
else:
    st.caption("No calibration measurement for this checkpoint.")
