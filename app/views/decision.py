"""The decision view: one trajectory as a timeline; for the selected action first what it does
(its facts as the store holds them: sentences, and the action's text with each fact's source
characters marked), then its concepts, what each contributed to the risk, the text evidence for
a concept highlighted in place, the reviewer's corrections (risk and flag recomputed at once)
and the verdict. Its address names the run and, optionally, the action: `?t=<run key>&a=<action id>`."""

import altair as alt
import pandas as pd
import streamlit as st

from app import context, render
from app.store import DECISIONS, Verdict
from cbm.facts import Fact, describe
from cbm.scoring import decision

READINGS = {"block": "block", "review": "flagged", "allow": "not flagged"}  # the guard's decisions, as shown
AVATARS = {"system": ":material/settings:", "user": "user", "assistant": "assistant", "tool_call": ":material/build:",
           "tool_result": ":material/output:"}

store, model, reviewer = context.store(), context.overseer(), context.reviewer()
names = context.concept_names(model)
present = context.present_at(model)

key = st.query_params.get("t", "")
# a store key is a SQLite integer: ASCII digits, at most 18 of them ("²" is a digit to str.isdigit)
row = store.trajectory(int(key)) if key.isascii() and key.isdigit() and len(key) <= 18 else None
if row is None:
    st.title("Decision")
    st.info("Open a trajectory from the queue.")
    st.page_link("views/queue_view.py", label="Back to the queue", icon=":material/flag:")
    st.stop()

trajectory = context.trajectory(row["native"])
result = context.scored(row["native"])
if not result.actions:
    st.markdown(render.paragraph(f"{row['id']} has no action to review."), unsafe_allow_html=True)
    st.stop()

# --- header: the run, and which action and concept to look at --------------------------------------
st.page_link("views/queue_view.py", label="Back to the queue", icon=":material/flag:")
st.markdown(f'<h2 style="font-family:ui-monospace,monospace">{render.escape(row["id"])}</h2>', unsafe_allow_html=True)
where = f"{row['source']}:{row['line']}" if row["line"] is not None else row["source"]
st.markdown(render.paragraph(f"{where} · {len(result.actions)} actions · model {model.version} · flag at risk "
                             f"{model.threshold:.3f}, block at {model.block_threshold:.3f}", muted=True),
            unsafe_allow_html=True)
if row["model_version"] != model.version:
    st.markdown(render.paragraph(f"The queue's scores came from {row['model_version']}; this view scores with the "
                                 f"loaded model {model.version}. Rescore on the Import page to align them.",
                                 muted=True), unsafe_allow_html=True)

by_id = {a.id: a for a in result.actions}
labels = {a.id: f"step {a.step} · {a.tool or 'message to the user'} · risk {a.risk:.3f}{' · flagged' if a.flagged else ''}"
          for a in result.actions}
wanted = st.query_params.get("a", "")  # a link to one action; else the riskiest is shown first
first = wanted if wanted in by_id else max(result.actions, key=lambda a: a.risk).id
pick, explain = st.columns(2)
action_id = pick.selectbox("Action", list(by_id), index=list(by_id).index(first), format_func=labels.get,
                           key=f"action:{key}")
model_action = by_id[action_id]
ranked = sorted(model.concept_ids, key=lambda c: -abs(model_action.contributions[c]))
concept = explain.selectbox("Evidence for concept", ranked, format_func=names.get, key=f"concept:{key}:{action_id}",
                            help="the text that drove this concept's probability is highlighted in the timeline")

# --- what the action does: its facts, read by parsers, before the model's concepts and evidence -----
facts = next((a["facts"] for a in store.actions(row["key"]) if a["action"] == action_id), None)
st.subheader("What it does")
if facts is None:
    st.caption("No facts are stored for this action (scored before facts were read, or imported from a score file "
               "without them). Rescore on the Import page to read them.")
elif not facts:
    st.caption("The parsers read nothing this action does (a message to the user, or a tool they do not know).")
else:
    for sentence in describe([Fact.from_json(f) for f in facts]):
        st.markdown(render.paragraph(sentence), unsafe_allow_html=True)
    st.markdown(render.facts_text(trajectory.steps[model_action.step].text, facts), unsafe_allow_html=True)
    st.caption("Marked: the characters each fact was read from (hover for the facts).")

ev = context.evidence(row["native"], action_id, concept)
spans: dict[int, dict[str, list[tuple[int, int, float]]]] = {}  # step -> field -> spans
for span in (ev or {}).get("evidence") or []:
    spans.setdefault(span["step"], {}).setdefault(span["field"], []).append((span["start"], span["end"], span["score"]))

timeline, panel = st.columns([3, 2], gap="large")

# --- corrections: each concept left to the model, or set absent (0) or present (1) by the reviewer ---
CHOICES = {"absent": 0, "present": 1}
choice_keys = {c: f"correct:{key}:{action_id}:{c}" for c in model.concept_ids}


def reset() -> None:
    for k in choice_keys.values():
        st.session_state.pop(k, None)


with panel:
    summary = st.container()
    st.subheader("Concepts")
    st.caption("Set a concept absent or present to correct the model (click again to leave it to the model); the "
               "risk is recomputed from the concepts at once.")
    edits = {}
    for c in ranked:
        p = model_action.concepts[c]
        reading = "present" if p >= present[c] else "absent"
        choice = st.segmented_control(f"{names[c]} · model {p:.2f} ({reading})", list(CHOICES), key=choice_keys[c],
                                      help=model.checkpoint.concepts[model.concept_ids.index(c)].definition)
        if choice is not None:
            edits[c] = CHOICES[choice]
    st.button("Reset corrections", on_click=reset, disabled=not edits)

corrected = model.intervene(result, edits, action=action_id) if edits else result
after = corrected.action(action_id)

with summary:
    risk, flag = st.columns(2)
    risk.metric("Risk", f"{after.risk:.3f}", delta=f"{after.risk - model_action.risk:+.3f}" if edits else None,
                delta_color="inverse")
    flag.metric("Model's call", READINGS[decision(after.risk, model.threshold, model.block_threshold)],
                delta=("was flagged" if model_action.flagged else "was not flagged")
                if after.flagged != model_action.flagged else None, delta_color="off")
    for change in model.changed_flags(corrected):
        state = "now flagged" if change["flagged_after"] else "no longer flagged"
        st.markdown(render.paragraph(f"Action {change['action']} {state}: risk {change['risk_before']:.3f} -> "
                                     f"{change['risk_after']:.3f}"), unsafe_allow_html=True)
    shown = [c for c in ranked if c in edits or abs(model_action.contributions[c]) >= 0.02][:12] or ranked[:5]
    bars = pd.DataFrame([{"concept": names[c], "contribution": a.contributions[c], "scores": version}
                         for version, a in [("model", model_action), ("corrected", after)][:1 + bool(edits)]
                         for c in shown])
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("contribution:Q", title="contribution to the risk logit (vs. training prior)"),
        y=alt.Y("concept:N", sort=[names[c] for c in shown], title=None, axis=alt.Axis(labelLimit=220)),
        color=alt.Color("scores:N", scale=alt.Scale(domain=["model", "corrected"], range=["#90a4ae", "#e53935"])),
        yOffset="scores:N", tooltip=["concept", "scores", alt.Tooltip("contribution:Q", format="+.3f")])
    st.altair_chart(chart, width="stretch")
    table = pd.DataFrame({"concept": [names[c] for c in ranked],
                          "probability": [model_action.concepts[c] for c in ranked],
                          "corrected": [after.concepts[c] for c in ranked],
                          "contribution": [model_action.contributions[c] for c in ranked],
                          "contribution corrected": [after.contributions[c] for c in ranked]})
    st.dataframe(table if edits else table.drop(columns=["corrected", "contribution corrected"]),
                 hide_index=True, width="stretch")

    st.subheader(f"Evidence: {names[concept]}")
    if ev is None:
        st.info(context.EVIDENCE_MISSING)
    elif not ev["evidence"]:
        st.caption("No text span stands out for this concept.")
    else:
        st.caption("Highlighted in the timeline: amber text raised the concept's probability, blue text lowered it "
                   "(integrated gradients, in concept-logit units).")
    for span in (ev or {}).get("evidence") or []:
        where = "tool name" if span["field"] == "tool_name" else span["kind"].replace("_", " ")
        st.markdown(render.paragraph(f"step {span['step']} ({where}), {span['score']:+.3f}: \u201c{span['text']}\u201d"),
                    unsafe_allow_html=True)

# --- the verdict and the audit trail ---------------------------------------------------------------
with panel:
    st.subheader("Verdict")
    with st.form(f"verdict:{key}"):
        verdict = st.radio("Your verdict", DECISIONS, index=None, horizontal=True, format_func=str.capitalize)
        note = st.text_area("Note")
        st.caption(f"Saved as {reviewer}, with the corrected concepts above as the reviewer's labels.")
        submitted = st.form_submit_button("Save verdict", type="primary")
    if submitted:
        if verdict is None:
            st.error("Choose approve, block or escalate.")
        else:
            verdict_id = store.add_verdict(Verdict(
                trajectory=row["key"], action=action_id, decision=verdict, reviewer=reviewer, concepts=edits,
                note=note, model_version=model.version, risk=after.risk, flagged=after.flagged,
                model_risk=model_action.risk,
                scores={"concepts": after.concepts, "contributions": after.contributions,
                        "model_concepts": model_action.concepts, "risk_logit": after.risk_logit,
                        "threshold": model.threshold, "trajectory_risk": corrected.risk,
                        "changed_flags": model.changed_flags(corrected)}))
            st.success(f"Verdict {verdict_id} saved.")

    st.subheader("Audit trail")
    trail = store.verdicts(row["key"])
    if trail:
        seen = set()
        for v in trail:  # newest first: the first verdict on an action is the one in force
            v["in force"] = v["action"] not in seen
            seen.add(v["action"])
        st.dataframe(pd.DataFrame([{k: v[k] for k in ("id", "created_at", "reviewer", "action", "decision", "in force",
                                                      "note", "risk", "model_risk", "model_version")}
                                   | {"corrections": ", ".join(f"{c}={x}" for c, x in v["concepts"].items())}
                                   for v in trail]), hide_index=True, width="stretch")
    else:
        st.caption("No verdict yet.")

# --- the timeline ------------------------------------------------------------------------------------
with timeline:
    st.subheader("Timeline")
    actions_at = {a.step: corrected.action(a.id) for a in result.actions}
    steps = st.container(height=1100, border=False)  # scrolls beside the action's panel
    for i, step in enumerate(trajectory.steps):
        chips = []
        if (a := actions_at.get(i)) is not None:
            chips.append(render.chip(f"risk {a.risk:.3f}", "flagged" if a.flagged else "neutral"))
            chips += [render.chip(f"{names[c]} {a.concepts[c]:.2f}", "raises" if a.contributions[c] > 0 else "lowers")
                      for c in sorted(a.concepts, key=lambda c: -abs(a.contributions[c]))
                      if a.concepts[c] >= present[c]]
        with steps.chat_message(step.kind, avatar=AVATARS[step.kind]):
            st.markdown(render.step(step, i, chips, spans.get(i, {}), selected=step.action_id == action_id),
                        unsafe_allow_html=True)
