"""`python -m app`: the embedded default in one process (HTTP, Socket.IO and the task worker)."""

from __future__ import annotations

from app import create_app
from app.extensions import socketio
from app.tasks import start_embedded_worker


def main() -> None:
    app = create_app()
    if app.config.get("START_EMBEDDED_WORKER"):
        start_embedded_worker()
    socketio.run(app, host="127.0.0.1", port=app.config["PORT"], allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
