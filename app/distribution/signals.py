"""What happens to commission money, announced to whoever cares (blinker signals).

Sent by `app/distribution/commissions.py` right after the change, in the same
transaction; receivers are listed in `app/receivers.py`. The sender is the `Commission`;
`amount_fen` is what moved (positive).
"""
from __future__ import annotations

from blinker import Namespace

_distribution = Namespace()

# A commission was made for a paid order (sender: Commission, `amount_fen`).
commission_made = _distribution.signal("commission-made")
# A refund before settlement took part or all of a pending commission back (sender:
# Commission, `amount_fen`: this time's share, `void_fen`: all voided so far).
commission_voided = _distribution.signal("commission-voided")
# A commission became the distributor's money (sender: Commission, `amount_fen`).
commission_settled = _distribution.signal("commission-settled")
# A refund after settlement took part of a settled commission back (sender: Commission,
# `amount_fen`: this time's share, `void_fen`: all taken back so far).
commission_clawed_back = _distribution.signal("commission-clawed-back")
