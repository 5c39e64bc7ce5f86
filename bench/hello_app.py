"""The yardstick of bench/storefront.py: Flask's hello world, served by gunicorn with the
shop's settings, so a storefront page's requests/s can be given as a ratio to it."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
