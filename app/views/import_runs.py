"""Import and score: uploaded files or files on the server are scored in a background thread
that writes its progress and results to the store; failed records are listed here."""

import shutil
import tempfile
import threading
from pathlib import Path

import pandas as pd
import streamlit as st

from cbm_app import context
from cbm_app.store import count_records, import_dir, importable
from cbm.formats import INPUT_FORMATS

store, model = context.store(), context.overseer()

st.title("Import and score")
st.caption("Files in any supported format (native, OpenAI, Anthropic JSONL, auto-detected per record; or Claude Code "
           "session transcripts, one session a file, with the format claude-code). A `cbm score` "
           "output holds scores but no trajectories: each record is checked against the loaded model's scores of the "
           "trajectory already imported with its id, so import the input file first (or in the same batch, listed "
           "before it); a record whose scores differ is listed as failed, never stored.")


def run_in_background(files: list[tuple[Path, str]], fmt: str, job: int, upload_dir: Path | None) -> None:
    def work() -> None:
        try:
            store.import_files(files, model, fmt, job)
        finally:
            if upload_dir is not None:
                shutil.rmtree(upload_dir, ignore_errors=True)

    threading.Thread(target=work, name=f"cbm-import-{job}", daemon=True).start()


root = import_dir()
with st.form("import", clear_on_submit=True):
    uploads = st.file_uploader("Upload files", type=["jsonl", "json"], accept_multiple_files=True)
    if root is None:
        paths = ""
        st.caption("Files on the server can be imported by path when `cbm app --import-dir DIR` names their folder.")
    else:
        paths = st.text_area(f"Or files on the server, under {root}, one path per line")
    fmt = st.selectbox("Format", ["auto", *INPUT_FORMATS],
                       help="claude-code: each file is one Claude Code session transcript")
    submitted = st.form_submit_button("Import and score", type="primary")

if submitted:
    asked = [p.strip() for p in paths.splitlines() if p.strip()]
    found = [(importable(name, root), name) for name in asked] if root is not None else []
    named = [(path, name) for path, name in found if path is not None]
    if len(named) < len(asked):
        st.error(f"Not importable: {len(asked) - len(named)} of the paths. Give .jsonl or .json files under the "
                 "import folder.")
    elif not named and not uploads:
        st.error("Choose files to upload or give paths on the server.")
    else:
        upload_dir = Path(tempfile.mkdtemp(prefix="cbm-upload-")) if uploads else None
        for i, upload in enumerate(uploads or []):
            path = upload_dir / f"{i}.jsonl"
            path.write_bytes(upload.getvalue())
            named.append((path, upload.name))
        job = store.start_job("import", [name for _, name in named], sum(count_records(p, fmt) for p, _ in named))
        run_in_background(named, fmt, job, upload_dir)
        st.success(f"Import {job} started: {len(named)} files.")

if st.button("Rescore every stored trajectory with the loaded model",
             help=f"after changing the checkpoint: the loaded model is {model.version}"):
    job = store.start_job("rescore", [], store.counts()["trajectories"])
    threading.Thread(target=store.rescore, args=(model, job), name=f"cbm-rescore-{job}", daemon=True).start()


@st.fragment(run_every=1.0)
def progress() -> None:
    """Poll the jobs table; when a running job ends, refresh the whole page (failures, counts)."""
    jobs = store.jobs(10)
    running = {j["id"] for j in jobs if j["status"] == "running"}
    for j in jobs:
        if j["status"] == "running":
            share = min(j["done"] / j["total"], 1.0) if j["total"] else 0.0
            st.progress(share, text=f"{j['kind']} {j['id']}: {j['done']} of {j['total']} records, {j['failed']} failed")
    if st.session_state.get("running_jobs", set()) - running:
        st.session_state["running_jobs"] = running
        st.rerun(scope="app")
    st.session_state["running_jobs"] = running


progress()

st.subheader("Jobs")
jobs = store.jobs(20)
if jobs:
    st.dataframe(pd.DataFrame(jobs)[["id", "kind", "status", "done", "total", "failed", "files", "message",
                                     "started_at", "finished_at"]], hide_index=True, width="stretch")
else:
    st.caption("No import yet.")

failures, total = store.failures()
st.subheader(f"Failed records ({total})")
if failures:
    st.caption("Records that could not be read or scored, with the line and field that failed; nothing is dropped.")
    st.dataframe(pd.DataFrame(failures)[["source", "line", "record_id", "error", "job", "created_at"]],
                 hide_index=True, width="stretch")
    if total > len(failures):
        st.caption(f"The newest {len(failures)} of {total}.")
else:
    st.caption("None.")
