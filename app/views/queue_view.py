"""The review queue: flagged trajectories, riskiest first, filtered and paged in SQL."""

import math

import streamlit as st

from app import context, render
from app.store import DECISIONS, QueueFilter

PAGE_SIZE = 25
FILTER_KEYS = ("q_text", "q_flagged", "q_risk", "q_concepts", "q_tools", "q_sources", "q_reviewed", "q_decisions",
               "q_page")
REVIEWED = {"all": None, "not reviewed": False, "reviewed": True}

for k in FILTER_KEYS:  # keep the filters when the reviewer comes back from a decision
    if k in st.session_state:
        st.session_state[k] = st.session_state[k]

store, model = context.store(), context.overseer()
names = context.concept_names(model)
present = context.present_at(model)

with st.sidebar:
    st.header("Filters")
    text = st.text_input("Search text", key="q_text", help="matches the trajectory id, source file and every step's text")
    flagged_only = st.toggle("Flagged only", value=True, key="q_flagged")
    risk = st.slider("Risk", 0.0, 1.0, (0.0, 1.0), step=0.01, key="q_risk")
    concepts = st.multiselect("Concepts present", list(names), format_func=names.get, key="q_concepts",
                              help="some action of the run has the concept (at the checkpoint's concept threshold)")
    tools = st.multiselect("Tools", store.tools(), key="q_tools")
    sources = st.multiselect("Source files", store.sources(), key="q_sources")
    reviewed = st.radio("Reviewed", list(REVIEWED), horizontal=True, key="q_reviewed")
    decisions = st.multiselect("Latest verdict", DECISIONS, key="q_decisions")

filters = QueueFilter(flagged_only=flagged_only, risk=risk, concepts={c: present[c] for c in concepts},
                      tools=tuple(tools), sources=tuple(sources), reviewed=REVIEWED[reviewed],
                      decisions=tuple(decisions), text=text)
counts = store.counts()
st.title("Review queue")
total = store.count(filters)
pages = max(1, math.ceil(total / PAGE_SIZE))
top = st.columns(4)
top[0].metric("Matching", total)
top[1].metric("Flagged", counts["flagged"], help=f"of {counts['trajectories']} scored trajectories")
top[2].metric("Reviewed", counts["reviewed"], help=f"{counts['verdicts']} verdicts in all")
top[3].metric("Failed records", counts["failures"], help="listed on the Import page")
page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="q_page") if pages > 1 else 1
rows = store.queue(filters, limit=PAGE_SIZE, offset=(min(page, pages) - 1) * PAGE_SIZE)

if not rows:
    st.info("Nothing matches. Widen the filters, or import runs on the Import page.")
for row in rows:
    left, right = st.columns([14, 1], vertical_alignment="center")
    left.markdown(render.queue_row(row, names, model.threshold), unsafe_allow_html=True)
    right.page_link("views/decision.py", label="Open", query_params={"t": str(row["key"])})
