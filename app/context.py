"""What every page shares, once per server process: the review store (`$CBM_DB`), the model
(`$CBM_CHECKPOINT`, else the shipped default) and cached scores and explanations; and, per
browser session, who is reviewing. `cbm app` sets the variables for the Streamlit process."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import streamlit as st

from cbm_app.store import SIGN_IN_ENV, Store, database_url
from cbm.formats import parse_record
from cbm.scoring import Overseer, TrajectoryScore, default_checkpoint
from cbm.trajectory import Trajectory

try:
    from cbm.explain import Explainer
except ImportError:  # an installation without the explanation module still reviews
    Explainer = None

EVIDENCE_MISSING = "Text evidence needs `cbm.explain`, which this installation lacks; scores and contributions are exact."


def store() -> Store:
    return _store(database_url())


def overseer() -> Overseer:
    return _overseer(str(default_checkpoint()))


@st.cache_resource(show_spinner="Opening the review database")
def _store(url: str) -> Store:
    return Store(url)


@st.cache_resource(show_spinner="Loading the model")
def _overseer(path: str) -> Overseer:
    return Overseer.load(path)


def sign_in_required() -> bool:
    return os.environ.get(SIGN_IN_ENV) == "required" or store().has_reviewers()


def reviewer() -> str | None:
    """Who is reviewing in this browser session: the signed-in account (None until someone
    signs in, or once the account is disabled); in an app without accounts, which serves only a
    loopback address, the local user who started it."""
    if not sign_in_required():
        return getpass.getuser()
    name = st.session_state.get("signed_in")
    if name is not None and not store().active_reviewer(name):
        del st.session_state["signed_in"]
        return None
    return name


def sign_in() -> None:
    """The sign-in form; a right name and password sign this browser session in."""
    st.title("Sign in")
    with st.form("sign_in"):
        name = st.text_input("Name", key="sign_in_name", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        st.caption("Accounts are made with `cbm reviewers add NAME` on the server.")
    elif store().sign_in(name.strip(), password):
        st.session_state["signed_in"] = name.strip()
        st.rerun()
    else:
        st.error("Wrong name or password.")


def sign_out() -> None:
    st.session_state.pop("signed_in", None)


def concept_names(model: Overseer) -> dict[str, str]:
    return {c.id: c.name for c in model.checkpoint.concepts}


def present_at(model: Overseer) -> dict[str, float]:
    """The probability at which each concept counts as present (the checkpoint's per-concept
    thresholds, 0.5 where it has none)."""
    thresholds = model.checkpoint.concept_thresholds or {}
    return {c: float(thresholds.get(c, 0.5)) for c in model.concept_ids}


def trajectory(native: str) -> Trajectory:
    return parse_record(json.loads(native), "native")


@st.cache_resource(max_entries=256, show_spinner=False)
def _scored(checkpoint: str, native: str) -> TrajectoryScore:
    return _overseer(checkpoint).score(trajectory(native))


def scored(native: str) -> TrajectoryScore:
    """The loaded model's result for a stored trajectory (interventions start from it; never mutated)."""
    return _scored(str(default_checkpoint()), native)


def evidence(native: str, action: str, concept: str) -> dict[str, Any] | None:
    """The explanation of one concept on one action (`Explanation.to_json()["concepts"][0]`:
    probability, contribution, evidence spans), or None without `cbm.explain`."""
    if Explainer is None:
        return None
    return _evidence(str(default_checkpoint()), native, action, concept)


@st.cache_resource(show_spinner=False)
def _explainer(checkpoint: str):
    return Explainer(_overseer(checkpoint))


@st.cache_data(max_entries=512, show_spinner="Finding the evidence")
def _evidence(checkpoint: str, native: str, action: str, concept: str) -> dict[str, Any]:
    explanation = _explainer(checkpoint).explain(_scored(checkpoint, native), action, concepts=[concept], top_k=5)
    [entry] = [c for c in explanation.to_json()["concepts"] if c["id"] == concept]
    return entry
