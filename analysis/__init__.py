"""Pure statistics for satisfaction surveys: numbers in, numbers out.

Imports only the standard library, numpy, scipy and statsmodels; never Flask, SQLAlchemy or
surveyapp.
"""

from analysis.compare import adjust, chi_square, funnel, funnel_limits, kruskal_dunn, pairwise
from analysis.drivers import key_drivers
from analysis.intervals import clopper_pearson, newcombe_difference, wilson
from analysis.official import (
    Scale,
    Structure,
    aggregate,
    expectation_index,
    find,
    item_index,
    share_index,
    sipas_index,
    unit_mean,
)
from analysis.par import (
    Band,
    Criterion,
    ParScore,
    answer_points_index,
    band_of,
    banded_points,
    criterion_points,
    linear_points,
    par_score,
    rank,
    weighted_groups,
)
from analysis.publication import PublicationRules, assess, kish_design_effect, kish_effective_n
from analysis.reliability import cronbach
from analysis.rounding import round_half_up
from analysis.sampling import yamane
from analysis.trends import mann_kendall, p_chart, period_change
from analysis.tt01 import classify, indicator_score, tt01_scores
from analysis.types import Index, Interval

__all__ = [
    "PublicationRules",
    "adjust",
    "assess",
    "chi_square",
    "cronbach",
    "funnel",
    "funnel_limits",
    "key_drivers",
    "kish_design_effect",
    "kish_effective_n",
    "kruskal_dunn",
    "mann_kendall",
    "p_chart",
    "pairwise",
    "period_change",
    "Band",
    "Criterion",
    "Index",
    "Interval",
    "ParScore",
    "Scale",
    "Structure",
    "aggregate",
    "band_of",
    "banded_points",
    "classify",
    "clopper_pearson",
    "criterion_points",
    "expectation_index",
    "find",
    "indicator_score",
    "item_index",
    "linear_points",
    "newcombe_difference",
    "par_score",
    "answer_points_index",
    "weighted_groups",
    "rank",
    "round_half_up",
    "share_index",
    "sipas_index",
    "tt01_scores",
    "unit_mean",
    "wilson",
    "yamane",
]
