"""Facts as the model's fixed vector (`cbm.facts.vector`): named features, and the conjunctions
within one command."""

from __future__ import annotations

import numpy as np
from facts_helpers import shell

from cbm.facts import facts
from cbm.facts.vector import FACT_FEATURES, fact_vector, feature_names


def test_rm_rf_root_switches_on_its_features_and_their_conjunctions():
    found = facts(shell("rm -rf /"))
    assert feature_names(found) == {"op:delete", "flag:recursive", "flag:force", "target:filesystem_root",
                                    "op:delete&target:filesystem_root", "op:delete&flag:recursive",
                                    "op:delete&flag:force"}
    vector = fact_vector(found)
    assert vector.shape == (len(FACT_FEATURES),) and vector.dtype == np.float32
    assert {FACT_FEATURES[i] for i in np.flatnonzero(vector)} == feature_names(found)


def test_an_action_with_no_facts_says_so_and_features_are_unique():
    assert feature_names([]) == {"facts:none"}
    assert [FACT_FEATURES[i] for i in np.flatnonzero(fact_vector([]))] == ["facts:none"]
    assert len(set(FACT_FEATURES)) == len(FACT_FEATURES)
