"""scikit-learn's own estimator checks on every selector config (FAST settings, budget 1).

The budget is 1 because the checks fit on toy data with as few as one column. Checks that
cannot apply are declared below with their reason; every other check must pass, and a
declared one that starts passing fails the run (xfail_strict), so the list stays true.
"""

from __future__ import annotations

import pytest
import sklearn
from sklearn.utils.fixes import parse_version

if parse_version(sklearn.__version__) < parse_version("1.6"):
    pytest.skip("expected_failed_checks needs scikit-learn >= 1.6", allow_module_level=True)

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from test_selectors_api import CONFIGS, FAST, build  # noqa: E402

# EntryPrune's hyperparameter `score` (the paper's name for its feature score: entry,
# magnitude, delta_weight) is stored, as scikit-learn requires, under its own name, so the
# selector has an attribute `score` that is a string; these checks take any attribute of
# that name for the `score(X, y)` method of a predictor and call it. Renaming the
# parameter would change every EntryPrune config and its recorded config hash.
_SCORE = ("the `score` hyperparameter (EntryPrune's feature score, a string) has the name "
          "of the score(X, y) method these checks call")
EXPECTED_FAILED = {
    "EntryPruneSelector": {
        "check_fit_score_takes_y": _SCORE,
        "check_n_features_in_after_fitting": _SCORE,
        "check_pipeline_consistency": _SCORE,
    },
}
EXPECTED_FAILED["EntryPruneFlexSelector"] = EXPECTED_FAILED["EntryPruneSelector"]


def expected_failed_checks(estimator) -> dict:
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks([build(name, 1, **FAST[name]) for name in CONFIGS],
                         expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
