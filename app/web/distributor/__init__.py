"""The distributor centre (/distributor): the centre page and qualification
(views_centre), commission, team and order lists (views_lists), links, QR codes
and the poster (views_share), and withdrawals (views_withdrawals)."""
from app.web.distributor import (  # noqa: F401  (each module registers its routes on bp)
    access,
    views_centre,
    views_lists,
    views_share,
    views_withdrawals,
)
from app.web.distributor.blueprint import bp

__all__ = ["bp"]
