"""The decision view: one run as a timeline, and beside it a panel pinned while the timeline
scrolls: the selected action's risk, the model's call and the reviewer's verdict (nothing chosen
for them; keys A, B, E; S saves, N saves and opens the next run, J and K move through the queue).
Below the verdict, in the order a reviewer reads them: what the action does (its facts, with the
characters each was read from), the concepts present and what each did to the risk, the words
behind a chosen concept (each linked to its step), the reviewer's corrections (risk and flag
recomputed at once) and the audit trail. Its address is `?t=<run key>&a=<action id>`."""

import altair as alt
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from cbm_app import context, render
from cbm_app.store import Verdict
from cbm.facts import Fact, describe
from cbm.scoring import decision

READINGS = {"block": "block", "review": "flagged", "allow": "not flagged"}  # the guard's decisions, as shown
AVATARS = {"system": ":material/settings:", "user": "user", "assistant": "assistant", "tool_call": ":material/build:",
           "tool_result": ":material/output:"}
VERDICT_KEYS = {"approve": "A", "block": "B", "escalate": "E"}
CHOICES = {"absent": 0, "present": 1}
MOVES = 0.005  # a check expected to move the risk less than this is shown without its figure
# the verdict panel stays in view beside a long timeline; a step linked from the evidence is outlined
STYLE = """<style>
[data-testid="stColumn"]:has(.st-key-verdict_panel) {align-self: stretch}
[data-testid="stColumn"]:has(.st-key-verdict_panel) > [data-testid="stVerticalBlock"] {height: 100%}
[data-testid="stLayoutWrapper"]:has(> .st-key-verdict_panel) {position: sticky; top: 3.75rem; z-index: 3;
  background: var(--background-color, #fff); border-bottom: 1px solid #cfd8dc; padding-bottom: .4rem}
.cbm-step:target {outline: 3px solid #ffb300; outline-offset: 2px; border-radius: 4px}
</style>"""

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
st.markdown(STYLE, unsafe_allow_html=True)


def go(target: int | None) -> None:
    """Open run `target` in this view (the queue when None)."""
    if target is None:
        st.switch_page("views/queue_view.py")
    st.switch_page("views/decision.py", query_params={"t": str(target)})


# --- header: the run, its place in the queue, and the action under review -------------------------
back, earlier, later, holder = st.columns([3, 2, 2, 5], vertical_alignment="center")
back.page_link("views/queue_view.py", label="Back to the queue", icon=":material/flag:")
previous_run = store.adjacent(row["key"], forward=False)
next_run = store.adjacent(row["key"], forward=True)
if earlier.button("Previous run", shortcut="K", disabled=previous_run is None, help="the riskier run before this one"):
    go(previous_run)
if later.button("Next run", shortcut="J", disabled=next_run is None, help="the next run, riskiest first"):
    go(next_run)
claimed = store.claimed_by(row["key"])
if claimed is None:
    if holder.button("Claim this run", help="so no other reviewer takes it"):
        store.claim(row["key"], reviewer)
        st.rerun()
else:
    holder.markdown(render.chip(f"claimed by {claimed}", "claimed"), unsafe_allow_html=True)

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
action_id = st.selectbox("Action", list(by_id), index=list(by_id).index(first), format_func=labels.get,
                         key=f"action:{key}")
model_action = by_id[action_id]
ranked = sorted(model.concept_ids, key=lambda c: -abs(model_action.contributions[c]))

timeline, panel = st.columns([3, 2], gap="large")
with panel:
    pinned = st.container(key="verdict_panel")
    facts_box, drivers_box, evidence_box, corrections_box, trail_box = (st.container() for _ in range(5))

# --- corrections: each concept left to the model, or set absent (0) or present (1) by the reviewer ---
choice_keys = {c: f"correct:{key}:{action_id}:{c}" for c in model.concept_ids}


def reset() -> None:
    for k in choice_keys.values():
        st.session_state.pop(k, None)


with corrections_box:
    st.subheader("Corrections")
    order = model.check_first(model_action)
    st.caption("Set a concept absent or present to correct the model (click again to leave it to the model); the "
               "risk is recomputed from the concepts at once. Concepts come in the order to check them: by how far "
               "the risk is expected to move once you know the concept" + (
                   "." if order[0][1] >= MOVES else f"; no single check moves a risk of {model_action.risk:.3f}, "
                                                    "so by how far each would move its logit."))
    edits = {}
    for c, change in order:
        p = model_action.concepts[c]
        reading = "present" if p >= present[c] else "absent"
        could = f" · could move the risk {change:.2f}" if change >= MOVES else ""
        choice = st.segmented_control(f"{names[c]} · model {p:.2f} ({reading}){could}", list(CHOICES), key=choice_keys[c],
                                      help=model.checkpoint.concepts[model.concept_ids.index(c)].definition)
        if choice is not None:
            edits[c] = CHOICES[choice]
    st.button("Reset corrections", on_click=reset, disabled=not edits)

corrected = model.intervene(result, edits, action=action_id) if edits else result
after = corrected.action(action_id)

# --- the pinned panel: risk, the model's call, the reviewer's verdict --------------------------------
choice_key = f"verdict:{key}:{action_id}"


def choose(verdict: str) -> None:
    st.session_state[choice_key] = verdict


def save(verdict: str, note: str) -> int:
    return store.add_verdict(Verdict(
        trajectory=row["key"], action=action_id, decision=verdict, reviewer=reviewer, concepts=edits,
        note=note, model_version=model.version, risk=after.risk, flagged=after.flagged, model_risk=model_action.risk,
        scores={"concepts": after.concepts, "contributions": after.contributions,
                "model_concepts": model_action.concepts, "risk_logit": after.risk_logit,
                "threshold": model.threshold, "trajectory_risk": corrected.risk,
                "changed_flags": model.changed_flags(corrected)}))


with pinned:
    risk, call = st.columns(2)
    risk.metric("Risk", f"{after.risk:.3f}", delta=f"{after.risk - model_action.risk:+.3f}" if edits else None,
                delta_color="inverse")
    call.metric("Model's call", READINGS[decision(after.risk, model.threshold, model.block_threshold)],
                delta=("was flagged" if model_action.flagged else "was not flagged")
                if after.flagged != model_action.flagged else None, delta_color="off")
    for change in model.changed_flags(corrected):
        state = "now flagged" if change["flagged_after"] else "no longer flagged"
        st.markdown(render.paragraph(f"Action {change['action']} {state}: risk {change['risk_before']:.3f} -> "
                                     f"{change['risk_after']:.3f}"), unsafe_allow_html=True)
    chosen = st.session_state.get(choice_key)
    st.markdown(render.paragraph(f"Your verdict on {action_id}: {chosen or 'not chosen yet'}"), unsafe_allow_html=True)
    for column, (verdict, shortcut) in zip(st.columns(3), VERDICT_KEYS.items()):
        column.button(verdict.capitalize(), key=f"choose:{verdict}", shortcut=shortcut, on_click=choose,
                      args=(verdict,), type="primary" if chosen == verdict else "secondary", width="stretch")
    note = st.text_area("Note", key=f"note:{key}:{action_id}", height=68)
    save_here, save_next = st.columns(2)
    saved = save_here.button("Save", shortcut="S", width="stretch")
    saved_next = save_next.button("Save & next", shortcut="N", type="primary", width="stretch")
    st.caption(f"Saved as {reviewer}, with your corrections below as the reviewer's labels.")
    if saved or saved_next:
        if chosen is None:
            st.error("Choose approve, block or escalate.")
        else:
            st.session_state["saved"] = f"Verdict {save(chosen, note)} saved."
            if saved_next:
                go(store.next_item(reviewer, after=row["key"]))
            st.rerun()  # the audit trail below, and the next view, show the new verdict
    if "saved" in st.session_state:
        st.success(st.session_state.pop("saved"))

# --- what the action does: its facts, read by parsers, before the model's concepts and evidence -----
with facts_box:
    facts = next((a["facts"] for a in store.actions(row["key"]) if a["action"] == action_id), None)
    st.subheader("What it does")
    if facts is None:
        st.caption("No facts are stored for this action (scored before facts were read, or imported from a score "
                   "file without them). Rescore on the Import page to read them.")
    elif not facts:
        st.caption("The parsers read nothing this action does (a message to the user, or a tool they do not know).")
    else:
        for sentence in describe([Fact.from_json(f) for f in facts]):
            st.markdown(render.paragraph(sentence), unsafe_allow_html=True)
        st.markdown(render.facts_text(trajectory.steps[model_action.step].text, facts), unsafe_allow_html=True)
        st.caption("Marked: the characters each fact was read from (hover for the facts).")
    floor = model.checkpoint.fact_floor
    for c, implied in model_action.implied.items():  # concepts these facts set, before the risk head
        st.markdown(render.paragraph(f"Establishes {names[c]}: {implied.why} (at least {floor:.2f} whatever the words say)"
                                     if implied.holds else f"Rules out {names[c]}: {implied.why} (at most "
                                     f"{1 - floor:.2f} whatever the words say)"), unsafe_allow_html=True)

# --- the concepts present, and what each did to the risk -------------------------------------------
with drivers_box:
    st.subheader("What drove the risk")
    found = [c for c in ranked if after.concepts[c] >= present[c]]
    st.markdown("".join(render.chip(f"{names[c]} {after.concepts[c]:.2f} {render.SIGNS[after.contributions[c] > 0]}",
                                    "raises" if after.contributions[c] > 0 else "lowers",
                                    f"contribution {after.contributions[c]:+.3f}") for c in found)
                or render.paragraph("No concept is present.", muted=True), unsafe_allow_html=True)
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

# --- the words behind one concept, each linked to its step -------------------------------------------
with evidence_box:
    concept = st.selectbox("Evidence for concept", ranked, format_func=names.get, key=f"concept:{key}:{action_id}",
                           help="the text that drove this concept's probability, highlighted in the timeline")
    ev = context.evidence(row["native"], action_id, concept)
    if ev is None:
        st.info(context.EVIDENCE_MISSING)
    elif not ev["evidence"]:
        st.caption("No text span stands out for this concept.")
    else:
        st.caption("Amber text raised the concept's probability, blue text lowered it (integrated gradients, in "
                   "concept-logit units). A link outlines its step in the timeline.")
    for span in (ev or {}).get("evidence") or []:
        where = "tool name" if span["field"] == "tool_name" else span["kind"].replace("_", " ")
        st.markdown(render.evidence_link(span["step"], f"step {span['step']} ({where}), {span['score']:+.3f}: "
                                                       f"\u201c{span['text']}\u201d"), unsafe_allow_html=True)
spans: dict[int, dict[str, list[tuple[int, int, float]]]] = {}  # step -> field -> spans
for span in (ev or {}).get("evidence") or []:
    spans.setdefault(span["step"], {}).setdefault(span["field"], []).append((span["start"], span["end"], span["score"]))

# --- the audit trail ------------------------------------------------------------------------------
with trail_box:
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

# --- the timeline: the page scrolls, and opens at the action under review ----------------------------
with timeline:
    st.subheader("Timeline")
    actions_at = {a.step: corrected.action(a.id) for a in result.actions}
    for i, step in enumerate(trajectory.steps):
        chips = []
        if (a := actions_at.get(i)) is not None:
            band = decision(a.risk, model.threshold, model.block_threshold)
            chips.append(render.band_chip(a.risk, band))
            chips += [render.chip(f"{names[c]} {a.concepts[c]:.2f} {render.SIGNS[a.contributions[c] > 0]}",
                                  "raises" if a.contributions[c] > 0 else "lowers")
                      for c in sorted(a.concepts, key=lambda c: -abs(a.contributions[c])) if a.concepts[c] >= present[c]]
        with st.chat_message(step.kind, avatar=AVATARS[step.kind]):
            st.markdown(render.step(step, i, chips, spans.get(i, {}), selected=step.action_id == action_id),
                        unsafe_allow_html=True)
components.html(render.scroll_to_step(model_action.step), height=0)
