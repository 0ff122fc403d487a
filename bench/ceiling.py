"""The ceiling: a bare Flask endpoint returning a small constant JSON body, served by the same
gunicorn settings as the app. Nothing Python-based can answer faster on this machine."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def constant():
    return {"status": "ok"}
