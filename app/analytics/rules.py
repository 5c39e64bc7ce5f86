"""Association rules ("bought together") mined from baskets with FP-growth (mlxtend).

What is kept, and why:
- **One product to one product.** The pages say "people who bought A also bought B"
  and suggest A + B as a bundle; rules with several products on a side are hard to show
  and rarely clear the thresholds on a shop's volume, so itemsets stop at pairs
  (`max_len=2`), which also keeps the mining cheap.
- **Thresholds** come from the settings (`Thresholds.from_settings`): a scope with fewer
  baskets than `rules_min_baskets` gets no rules at all (a handful of orders gives
  coincidences, not habits); then support, confidence and lift must each reach their
  minimum. The comparisons are made on the exact counts in integers (`both × 10000 ≥
  min_support_bp × baskets` ...), so a rule exactly on a threshold is kept, whatever
  floating point would say.
- **Counts are exact**: mlxtend reports supports as fractions of the baskets; they are
  turned back into basket counts (a fraction c/n times n rounds back to c), and the ratios
  stored are derived from those counts, rounded half up (`app.core.money.prorate`).

mlxtend's `fpgrowth` turns its `min_support` into a count with `ceil(min_support × n)`,
where 0.3 × 10 is 3.0000000000000004 and would drop an itemset in exactly 3 of 10 baskets;
we give it a fraction half a basket below the count we mean, so the ceiling lands on it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from app.core import settings
from app.core.money import BP_PER_UNIT, prorate

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Thresholds:
    lookback_days: int = 180
    min_baskets: int = 20
    min_support_bp: int = 100  # 1%
    min_confidence_bp: int = 2000  # 20%
    min_lift_pct: int = 120  # 1.2 times

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(lookback_days=settings.get("rules_lookback_days"), min_baskets=settings.get("rules_min_baskets"),
                   min_support_bp=settings.get("rules_min_support_bp"),
                   min_confidence_bp=settings.get("rules_min_confidence_bp"),
                   min_lift_pct=settings.get("rules_min_lift_pct"))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def min_both(self, baskets: int) -> int:
        """The fewest baskets holding both products that reach the minimum support."""
        return max(1, -(-self.min_support_bp * baskets // BP_PER_UNIT))


@dataclass(frozen=True)
class MinedRule:
    """Of `baskets` baskets, `antecedent` held the first product, `consequent` the second
    and `both` held the two."""

    antecedent_id: int
    consequent_id: int
    baskets: int
    both: int
    antecedent: int
    consequent: int

    @property
    def support_bp(self) -> int:
        return prorate(BP_PER_UNIT, self.both, self.baskets)

    @property
    def confidence_bp(self) -> int:
        return prorate(BP_PER_UNIT, self.both, self.antecedent)

    @property
    def lift_bp(self) -> int:
        # confidence / (consequent / baskets) = both × baskets / (antecedent × consequent)
        return prorate(BP_PER_UNIT * self.both, self.baskets, self.antecedent * self.consequent)

    def passes(self, t: Thresholds) -> bool:
        return (self.both * BP_PER_UNIT >= t.min_support_bp * self.baskets
                and self.both * BP_PER_UNIT >= t.min_confidence_bp * self.antecedent
                and self.both * self.baskets * 100 >= t.min_lift_pct * self.antecedent * self.consequent)


def mine(baskets: Sequence[frozenset[int]], thresholds: Thresholds) -> list[MinedRule]:
    """The one-to-one rules among `baskets` that clear `thresholds`, strongest first (lift,
    then confidence, then support; ties by product ids, so the order is stable)."""
    # pandas and mlxtend are imported where they are used: the web processes import this
    # module (to enqueue the recompute) and never mine (docs/decisions.md).
    from mlxtend.frequent_patterns import association_rules, fpgrowth  # noqa: PLC0415

    baskets = [b for b in baskets if b]
    n = len(baskets)
    if n < thresholds.min_baskets or n == 0:
        return []
    frame = _one_hot(baskets)
    min_count = thresholds.min_both(n)
    itemsets = fpgrowth(frame, min_support=(min_count - 0.5) / n, use_colnames=True, max_len=2)
    if itemsets.empty or not (itemsets["itemsets"].map(len) == 2).any():
        return []
    found = association_rules(itemsets, num_itemsets=n, metric="confidence", min_threshold=0.0,
                              return_metrics=["antecedent support", "consequent support", "support"])
    rules = []
    for row in found.to_dict("records"):
        antecedents, consequents = row["antecedents"], row["consequents"]
        if len(antecedents) != 1 or len(consequents) != 1:
            continue
        rule = MinedRule(antecedent_id=int(next(iter(antecedents))), consequent_id=int(next(iter(consequents))),
                         baskets=n, both=_count(row["support"], n), antecedent=_count(row["antecedent support"], n),
                         consequent=_count(row["consequent support"], n))
        if rule.passes(thresholds):
            rules.append(rule)
    rules.sort(key=lambda r: (-r.lift_bp, -r.confidence_bp, -r.support_bp, r.antecedent_id, r.consequent_id))
    return rules


def _one_hot(baskets: list[frozenset[int]]) -> pd.DataFrame:
    """Baskets x products, sparse booleans (what mlxtend's TransactionEncoder makes; built
    here because mlxtend.preprocessing loads scikit-learn, two seconds of start-up for every
    process that imports the job). Columns are the product ids as strings: mlxtend refuses
    a sparse frame with integer names that do not start at 0."""
    import pandas as pd  # noqa: PLC0415 (see mine)

    products = sorted({p for basket in baskets for p in basket})
    column = {p: n for n, p in enumerate(products)}
    cells = [(row, column[p]) for row, basket in enumerate(baskets) for p in basket]
    rows, cols = zip(*cells, strict=True)
    matrix = sparse.csr_matrix((np.ones(len(cells), dtype=bool), (rows, cols)), shape=(len(baskets), len(products)))
    return pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(p) for p in products])


def _count(fraction: float, n: int) -> int:
    return int(round(float(fraction) * n))
