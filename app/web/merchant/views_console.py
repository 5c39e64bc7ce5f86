"""The merchant console's entry page."""
from flask import render_template
from flask_login import login_required

from app.web.merchant import bp


@bp.get("/")
@login_required
def home():
    """Until the console exists, this page explains how to open a shop."""
    return render_template("merchant/home.html")
