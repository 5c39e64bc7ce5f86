"""What happens to commission money, announced to whoever cares (blinker signals).

Sent by `app/distribution/commissions.py` right after the change, in the same
transaction; receivers are listed in `app/receivers.py`. The sender is the `Commission`;
`amount_fen` is what moved (positive).
"""
from __future__ import annotations

from blinker import Namespace

_distribution = Namespace()

# A commission became the distributor's money (sender: Commission, `amount_fen`).
commission_settled = _distribution.signal("commission-settled")
# A refund after settlement took part of a settled commission back (sender: Commission, `amount_fen`).
commission_clawed_back = _distribution.signal("commission-clawed-back")
