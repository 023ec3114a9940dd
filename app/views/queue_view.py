"""The review queue. "To do" holds the reviewer's own runs, then the unclaimed ones riskiest
first; "All runs" is every run the filters match, sorted and paged in SQL. Risks show in the
model's bands (allow, review, block) from the checkpoint's thresholds."""

import math
from dataclasses import replace

import streamlit as st

from cbm_app import context, render
from cbm_app.store import DECISIONS, ORDERS, STATUSES, QueueFilter
from cbm.scoring import decision

PAGE_SIZE = 25
FILTER_KEYS = ("q_view", "q_text", "q_flagged", "q_bands", "q_status", "q_order", "q_risk", "q_concepts", "q_tools",
               "q_sources", "q_decisions", "q_page")
BANDS = ("allow", "review", "block")

for k in FILTER_KEYS:  # keep the filters when the reviewer comes back from a decision
    if k in st.session_state:
        st.session_state[k] = st.session_state[k]
for k, default in {"q_flagged": True, "q_risk": (0.0, 1.0), "q_view": "To do"}.items():
    st.session_state.setdefault(k, default)  # defaults live here, not on widgets whose state the line above sets

store, model, reviewer = context.store(), context.overseer(), context.reviewer()
names = context.concept_names(model)
present = context.present_at(model)
accounts = [r["name"] for r in store.reviewers() if r["active"]]
ranges = {"allow": (0.0, model.threshold), "review": (model.threshold, model.block_threshold),
          "block": (model.block_threshold, math.inf)}

with st.sidebar:
    st.header("Filters")
    text = st.text_input("Search text", key="q_text", help="matches the trajectory id, source file and every step's text")
    flagged_only = st.toggle("Flagged only", key="q_flagged", help="runs with an action in review or block")
    bands = st.multiselect("Risk band", BANDS, key="q_bands", help="the run's riskiest action's band")
    statuses = st.multiselect("Status", STATUSES, key="q_status")
    order = st.selectbox("Sort", ORDERS, key="q_order")
    with st.expander("More filters"):
        risk = st.slider("Risk", 0.0, 1.0, step=0.01, key="q_risk")
        concepts = st.multiselect("Concepts present", list(names), format_func=names.get, key="q_concepts",
                                  help="some action of the run has the concept (at the checkpoint's concept threshold)")
        tools = st.multiselect("Tools", store.tools(), key="q_tools")
        sources = st.multiselect("Source files", store.sources(), key="q_sources")
        decisions = st.multiselect("Latest verdict", DECISIONS, key="q_decisions")

filters = QueueFilter(flagged_only=flagged_only, risk=risk, concepts={c: present[c] for c in concepts},
                      tools=tuple(tools), sources=tuple(sources), decisions=tuple(decisions), text=text,
                      risk_bands=tuple(ranges[b] for b in bands), statuses=tuple(statuses), order=order)


def band(risk: float | None) -> str | None:
    return None if risk is None else decision(risk, model.threshold, model.block_threshold)


def claim(key: int) -> None:
    holder = store.claim(key, reviewer)
    if holder != reviewer:
        st.session_state["queue_message"] = f"Claimed by {holder} already."


def show(rows: list[dict]) -> None:
    """The rows, each with its status and what this reviewer can do with it."""
    for row in rows:
        left, middle, right = st.columns([12, 2, 1], vertical_alignment="center")
        left.markdown(render.queue_row(row, names, present, band(row["risk"])), unsafe_allow_html=True)
        if row["status"] == "open":
            middle.button("Claim", key=f"claim:{row['key']}", on_click=claim, args=(row["key"],))
        elif row["claimed_by"] == reviewer and row["status"] == "claimed":
            middle.button("Release", key=f"release:{row['key']}", on_click=store.release, args=(row["key"], reviewer))
        if accounts and row["status"] != "decided":
            with middle.popover("Assign"):
                to = st.selectbox("To", accounts, key=f"assign_to:{row['key']}")
                st.button("Assign", key=f"assign:{row['key']}", on_click=store.assign, args=(row["key"], to, reviewer))
        right.page_link("views/decision.py", label="Open", query_params={"t": str(row["key"])})


counts = store.counts()
st.title("Review queue")
st.markdown(render.legend(model.threshold, model.block_threshold), unsafe_allow_html=True)
if "queue_message" in st.session_state:
    st.warning(st.session_state.pop("queue_message"))
if "saved" in st.session_state:  # a verdict saved with "save & next" when nothing was left
    st.success(st.session_state.pop("saved") + " Nothing is left for you in the queue.")
top = st.columns(4)
top[0].metric("Matching", store.count(filters))
top[1].metric("Flagged", counts["flagged"], help=f"of {counts['trajectories']} scored trajectories")
top[2].metric("Reviewed", counts["reviewed"], help=f"{counts['verdicts']} verdicts in all")
top[3].metric("Failed records", counts["failures"], help="listed on the Import page")

if st.button("Review next", shortcut="N", type="primary",
             help="open your next run: your own undecided runs first, then the riskiest unclaimed one (claimed for you)"):
    target = store.next_item(reviewer, filters=filters)
    if target is None:
        st.info("Nothing is left for you: no undecided run of yours, and no unclaimed run matches the filters.")
    else:
        st.switch_page("views/decision.py", query_params={"t": str(target)})
view = st.segmented_control("Show", ["To do", "All runs"], key="q_view", required=True)
if view == "To do":
    mine = replace(filters, statuses=("claimed",), claimed_by=reviewer)
    st.subheader(f"My items ({store.count(mine)})")
    rows = store.queue(mine, limit=PAGE_SIZE)
    show(rows)
    if not rows:
        st.caption("None claimed by you and undecided. Claim one below.")
    unclaimed = replace(filters, statuses=("open",), order="riskiest")
    st.subheader(f"Unclaimed, riskiest first ({store.count(unclaimed)})")
    rows = store.queue(unclaimed, limit=PAGE_SIZE)
    show(rows)
    if not rows:
        st.info("Nothing unclaimed matches. Widen the filters, or import runs on the Import page.")
else:
    total = store.count(filters)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="q_page") if pages > 1 else 1
    rows = store.queue(filters, limit=PAGE_SIZE, offset=(min(page, pages) - 1) * PAGE_SIZE)
    show(rows)
    if not rows:
        st.info("Nothing matches. Widen the filters, or import runs on the Import page.")
