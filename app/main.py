"""The app's entry point (`streamlit run app/main.py`, or `cbm app`): the page list, behind the
sign-in. The pages are declared before the sign-in form is shown, so a link to a page (a
decision's `?t=`) still leads there once the reviewer has signed in."""

from pathlib import Path

import streamlit as st

from cbm_app import context, render

ICON = Path(__file__).with_name("icon.png")  # local: the app requests nothing from outside the machine

st.set_page_config(page_title="cbm review", page_icon=str(ICON), layout="wide")
reviewer = context.reviewer()
pages = st.navigation([
    st.Page("views/queue_view.py", title="Queue", icon=":material/flag:", url_path="queue", default=True),
    st.Page("views/decision.py", title="Decision", icon=":material/gavel:", url_path="decision"),
    st.Page("views/import_runs.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("views/model.py", title="Model", icon=":material/insights:", url_path="model"),
], position="sidebar" if reviewer else "hidden")
if reviewer is None:
    context.sign_in()
    st.stop()
with st.sidebar:
    accounts = context.sign_in_required()
    st.markdown(render.paragraph(f"Reviewing as {reviewer}" + ("" if accounts else " (the local user: no accounts "
                                 "yet; `cbm reviewers add NAME` makes one)"), muted=True), unsafe_allow_html=True)
    if accounts:
        st.button("Sign out", on_click=context.sign_out)
pages.run()
