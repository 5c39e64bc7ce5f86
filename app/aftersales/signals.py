"""What happens to an after-sale request, announced to whoever cares (blinker signals).

Sent right after the state move, in the same transaction; receivers are listed in
`app/receivers.py`. The sender is the AfterSale (re-read after the move)."""
from __future__ import annotations

from blinker import Namespace

_aftersales = Namespace()

# A request was made (or made again after a rejection) and waits for the shop.
aftersale_requested = _aftersales.signal("aftersale-requested")
# The shop (or the deadline, or the platform) said yes: a return address is given, or
# the refund has started (`refund_started`: bool).
aftersale_approved = _aftersales.signal("aftersale-approved")
aftersale_rejected = _aftersales.signal("aftersale-rejected")
# The buyer shipped the goods back (`carrier`, `tracking_no`).
aftersale_returned = _aftersales.signal("aftersale-returned")
# The gateway confirmed the refund (`refund`: the Refund).
aftersale_refunded = _aftersales.signal("aftersale-refunded")
# The buyer asked the platform to step in.
aftersale_disputed = _aftersales.signal("aftersale-disputed")
# The exchange replacement left the shop (`carrier`, `tracking_no`).
replacement_shipped = _aftersales.signal("replacement-shipped")
# The request ended without money or goods moving (closed, cancelled, ruled for the shop).
aftersale_closed = _aftersales.signal("aftersale-closed")
