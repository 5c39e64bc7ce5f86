"""The `admin` blueprint, alone in its module so that the view modules can import it
without importing the package that imports them (no import cycle)."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
