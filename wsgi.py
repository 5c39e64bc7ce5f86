"""WSGI entry point: `gunicorn wsgi:app`."""
from dotenv import load_dotenv

load_dotenv()  # a .env in development; production sets real environment variables

from app import create_app  # noqa: E402

app = create_app()
