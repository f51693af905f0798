"""The ceiling bench/requests.py measures against: Flask with no extension, one route, in the same gunicorn shape."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
@app.get("/healthz")
def hello():
    return "hello"
