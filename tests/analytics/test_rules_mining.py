"""FP-growth on a hand-made set of baskets, every figure worked out by hand: support,
confidence and lift (rounded half up to basis points), the thresholds deciding what is
kept (a rule exactly on a threshold is kept), the order of the rules, and too few baskets
giving nothing."""
from __future__ import annotations

from app.analytics.rules import MinedRule, Thresholds, mine

# Ten baskets of products 1..5:
#   product 1 in B1 B2 B3 B4 B6 B9 (6), 2 in B1 B2 B3 B5 B6 B10 (6), 3 in B2 B4 B5 B7 (4),
#   4 in B6 B7 B8 (3), 5 in B10 (1);
#   {1,2} in B1 B2 B3 B6 (4), {1,3} in B2 B4 (2), {2,3} in B2 B5 (2), {1,4} {2,4} {3,4} {2,5} once each.
BASKETS = [frozenset(b) for b in (
    {1, 2}, {1, 2, 3}, {1, 2}, {1, 3}, {2, 3}, {1, 2, 4}, {3, 4}, {4}, {1}, {2, 5})]


def figures(rule: MinedRule) -> tuple:
    return (rule.antecedent_id, rule.consequent_id, rule.support_bp, rule.confidence_bp, rule.lift_bp,
            rule.both, rule.antecedent, rule.consequent, rule.baskets)


def test_support_confidence_and_lift_worked_out_by_hand():
    loose = Thresholds(min_baskets=10, min_support_bp=1000, min_confidence_bp=1000, min_lift_pct=100)
    rules = [figures(r) for r in mine(BASKETS, loose)]
    assert rules == [
        # 5 -> 2: support 1/10 = 10%, confidence 1/1 = 100%, lift 1×10/(1×6) = 1.6667
        (5, 2, 1000, 10000, 16667, 1, 1, 6, 10),
        # 2 -> 5: confidence 1/6 = 16.67% (16.666… half up), the same lift
        (2, 5, 1000, 1667, 16667, 1, 6, 1, 10),
        # 1 -> 2 and 2 -> 1: support 4/10 = 40%, confidence 4/6 = 66.67%, lift 4×10/(6×6) = 1.1111;
        # equal on every figure: the lower antecedent id first
        (1, 2, 4000, 6667, 11111, 4, 6, 6, 10),
        (2, 1, 4000, 6667, 11111, 4, 6, 6, 10),
    ]
    # every other pair has a lift below 1 (3 -> 1: 2×10/(4×6) = 0.8333): never kept, whatever else


def test_thresholds_decide_what_is_kept():
    base = dict(min_baskets=10, min_support_bp=2000, min_confidence_bp=5000)
    # support >= 20%: {1,2} (40%), {1,3} and {2,3} (exactly 20%); confidence >= 50%: 1->2, 2->1,
    # and 3->1, 3->2 (2/4, exactly 50%); lift >= 1.10 leaves 1->2 and 2->1 (1.1111)
    assert [(r.antecedent_id, r.consequent_id) for r in mine(BASKETS, Thresholds(**base, min_lift_pct=110))] \
        == [(1, 2), (2, 1)]
    assert mine(BASKETS, Thresholds(**base, min_lift_pct=112)) == []  # 1.12 > 1.1111
    # support 10%, confidence 100%: only 5->2 (1 of 1) is that sure
    assert [(r.antecedent_id, r.consequent_id) for r in mine(BASKETS, Thresholds(
        min_baskets=10, min_support_bp=1000, min_confidence_bp=10000, min_lift_pct=100))] == [(5, 2)]


def test_a_rule_exactly_on_the_support_threshold_is_kept():
    # {1,2} in exactly 3 of 10 baskets: 30%. mlxtend's own ceil(0.3 × 10) is 4 in floating point.
    baskets = [frozenset(b) for b in ({1, 2}, {1, 2}, {1, 2}, {3}, {3}, {3}, {3}, {4}, {4}, {4})]
    t = Thresholds(min_baskets=10, min_support_bp=3000, min_confidence_bp=10000, min_lift_pct=100)
    assert [figures(r) for r in mine(baskets, t)] == [
        (1, 2, 3000, 10000, 33333, 3, 3, 3, 10),  # lift 3×10/(3×3) = 3.3333
        (2, 1, 3000, 10000, 33333, 3, 3, 3, 10),
    ]
    assert mine(baskets, Thresholds(min_baskets=10, min_support_bp=3001, min_confidence_bp=1, min_lift_pct=100)) == []


def test_too_few_baskets_give_no_rules():
    loose = dict(min_support_bp=1, min_confidence_bp=1, min_lift_pct=100)
    assert mine(BASKETS, Thresholds(min_baskets=11, **loose)) == []
    assert len(mine(BASKETS, Thresholds(min_baskets=10, **loose))) == 4
    assert mine([], Thresholds(min_baskets=5, **loose)) == []
    assert mine([frozenset({1})] * 10, Thresholds(min_baskets=5, **loose)) == []  # no pair at all
