"""k-means over the customers' figures (`features.Features`), with k chosen by silhouette.

How the figures are made comparable:
- counts and money (`LOGGED`: orders, monetary, views, dwell, cart adds) are skewed (a few
  customers buy or browse a hundred times more than most), so they go through log1p
  first; recency is already bounded by the window and stays in days;
- every column is then standardised (StandardScaler: mean 0, variance 1), so a fen and a
  page view weigh the same;
- the category mix columns are standardised too and then divided by sqrt(number of mix
  columns), so that the mix counts about as much as one behaviour figure: what people
  like should refine segments, not outweigh how they buy.

How k is chosen: KMeans (fixed `RANDOM_STATE`, `N_INIT` starts) for every k from 2 to
min(MAX_K, customers - 1, distinct customers); the k whose labels have the best mean
silhouette wins (ties: the smaller k). Above SILHOUETTE_SAMPLE customers the silhouette is
measured on a fixed random sample of that many, which keeps the nightly run linear.

No clustering, and why (`Outcome.state`): fewer than MIN_CUSTOMERS customers (`too_few`),
or fewer than two distinct rows of figures (`too_alike`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.analytics.segments.features import BEHAVIOUR, Features
from app.analytics.segments.models import RunState

MIN_CUSTOMERS = 10
MAX_K = 6
RANDOM_STATE = 0
N_INIT = 10
SILHOUETTE_SAMPLE = 5000
LOGGED = ("orders", "monetary_fen", "views", "dwell_s", "cart_adds")


@dataclass
class Outcome:
    state: str
    k: int | None = None
    silhouette: float | None = None
    labels: np.ndarray | None = None  # per customer, 0 = the largest segment


def prepare(features: Features) -> np.ndarray:
    """The matrix k-means sees: logged, standardised, the mix weighted as one figure."""
    # scikit-learn is imported where it is used: every web process imports this module (the
    # CLI's demo data, the segment pages) and none clusters; at the top it cost each one
    # a second of start-up and its memory (docs/decisions.md).
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415
    values = features.values.copy()
    for name in LOGGED:
        i = BEHAVIOUR.index(name)
        values[:, i] = np.log1p(np.maximum(values[:, i], 0))
    blocks = [StandardScaler().fit_transform(values)]
    if features.mix.shape[1]:
        blocks.append(StandardScaler().fit_transform(features.mix) / math.sqrt(features.mix.shape[1]))
    return np.hstack(blocks)


def cluster(features: Features) -> Outcome:
    from sklearn.cluster import KMeans  # noqa: PLC0415 (see prepare)
    from sklearn.metrics import silhouette_score  # noqa: PLC0415

    n = len(features)
    if n < MIN_CUSTOMERS:
        return Outcome(RunState.TOO_FEW)
    matrix = prepare(features)
    distinct = len(np.unique(np.round(matrix, 9), axis=0))
    if distinct < 2:
        return Outcome(RunState.TOO_ALIKE)
    sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(2, min(MAX_K, n - 1, distinct) + 1):
        labels = KMeans(n_clusters=k, random_state=RANDOM_STATE, n_init=N_INIT).fit_predict(matrix)
        if len(np.unique(labels)) < 2:
            continue
        score = float(silhouette_score(matrix, labels, sample_size=sample, random_state=RANDOM_STATE))
        if best is None or score > best[0] + 1e-9:
            best = (score, k, labels)
    if best is None:
        return Outcome(RunState.TOO_ALIKE)
    score, k, labels = best
    return Outcome(RunState.CLUSTERED, k=k, silhouette=round(score, 4), labels=_by_size(labels))


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber the clusters so 0 is the largest (ties: the one met first), for stable pages."""
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first[i]))
    mapping = {int(values[i]): rank for rank, i in enumerate(order)}
    return np.array([mapping[int(label)] for label in labels])
