"""The distributor centre (/distributor): the centre page and qualification
(views_centre), commission, team and order lists (views_lists), links, QR codes
and the poster (views_share), and withdrawals (views_withdrawals)."""
from flask import Blueprint

bp = Blueprint("distributor", __name__)

from app.web.distributor import (  # noqa: E402,F401
    access,
    views_centre,
    views_lists,
    views_share,
    views_withdrawals,
)
