"""亩均效益综合评价 (亩均论英雄) scoring runs over a population of enterprises.

    score = Σ_i value_i ÷ benchmark_i × weight_i        (docs/domain.md; weights sum to 100)

Everything the formula leaves open is declared in the scoring rule set
(``rules/scoring/*.yaml``), never guessed here:

- **missing data**, per indicator: ``average`` (the population's average sub-score on that
  indicator: the mean over every enterprise of the run that has a value for it, after any
  cap), ``zero`` (sub-score 0), ``exclude_and_reweight`` (left out; the score becomes
  Σ sub-scores × 100 ÷ Σ weights used) or ``incomplete`` (the enterprise is not scored and is
  reported as incomplete).  An indicator without a policy takes ``missing_default``, and
  that defaults to ``incomplete``;
- an optional **cap** per sub-score (points);
- **ranking**: descending score, ties (``better_rank``: 1, 2, 2, 4; ``worse_rank``: 1, 3, 3, 4),
  and the precision the ranks are taken at (exact, or rounded half-up to n places);
- **classes** by rank percentile: with N enterprises scored, rank r has percentile
  r ÷ N × 100 and falls in the first band whose upper bound it does not exceed
  (``inclusive: true``) or stays below (``inclusive: false``; the last band always includes 100).

Arithmetic is exact (``Fraction``).  The class of each distinct percentile is decided by the
rule engine: percentile against each band's upper bound, 10 percentiles per evaluation (one
compiled program per rule set); the service's engine adapter cross-checks durable_rules with
the reference evaluator, and the classes are checked once more against the plain comparison
here (fail closed).

The package, one module per job:

- ``ruleset``: the validated rule set (``ScoringRuleSet``) and what a run reports of it;
- ``format``: the rule-set document (a strict pydantic model) → ``ScoringRuleSet``;
- ``library``: the bundled rule-set files (read once; the service publishes them as law documents);
- ``published``: rule sets as law documents (kind ``scoring``): what runs, pages and replay read;
- ``request``: a run request, parsed and checked against the rule set;
- ``arithmetic``: scores, ranks, percentiles and classes (pure, exact);
- ``run``: the run document, its storage with the decision, reading it back.
"""

from app.core.numbers import dec_str

from .arithmetic import Result, Sub, class_of, classify, dec, rank, score_all
from .format import validate
from .library import DEFAULT_RULESET, SCORING_DIR, ScoringRuleSetInvalid, bundled, get_ruleset, load_file
from .request import MAX_ENTERPRISES, MAX_ID, MAX_NAME, MAX_YEAR, MIN_YEAR, Enterprise, Request, Resolver, from_run, parse_request
from .ruleset import CHUNK, MAX_BANDS, POLICIES, Band, Indicator, ScoringRuleSet
from .run import evaluate, get_run, run, table

__all__ = [
    "CHUNK", "DEFAULT_RULESET", "MAX_BANDS", "MAX_ENTERPRISES", "MAX_ID", "MAX_NAME", "MAX_YEAR", "MIN_YEAR",
    "POLICIES", "SCORING_DIR", "Band", "Enterprise", "Indicator", "Request", "Resolver", "Result",
    "ScoringRuleSet", "ScoringRuleSetInvalid", "Sub", "bundled", "class_of", "classify", "dec", "dec_str",
    "evaluate", "from_run", "get_ruleset", "get_run", "load_file", "parse_request", "rank", "run",
    "score_all", "table", "validate",
]
