"""The distributor centre."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("distributor", __name__)


@bp.get("/")
@login_required
def centre():
    """Until distribution opens (distribution issue), the centre says what is coming."""
    return render_template("distributor/centre.html")
