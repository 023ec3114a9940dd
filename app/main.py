"""The app's entry point (`streamlit run app/main.py`, or `cbm app`): the page list."""

import streamlit as st

st.set_page_config(page_title="cbm review", page_icon=":material/shield:", layout="wide")
st.navigation([
    st.Page("pages/queue_view.py", title="Queue", icon=":material/flag:", url_path="queue", default=True),
    st.Page("pages/decision.py", title="Decision", icon=":material/gavel:", url_path="decision"),
    st.Page("pages/import_runs.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("pages/model.py", title="Model", icon=":material/insights:", url_path="model"),
]).run()
