"""The merchant console (HTMX back office)."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("merchant", __name__)


@bp.get("/")
@login_required
def home():
    """Until merchants can apply (merchants issue), the console explains how to open a shop."""
    return render_template("merchant/home.html")
