"""The `distributor` blueprint, alone in its module so that the view modules can import it
without importing the package that imports them (no import cycle)."""
from flask import Blueprint

bp = Blueprint("distributor", __name__)
