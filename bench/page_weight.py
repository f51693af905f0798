"""Page weight on a phone, cold: the bytes each of the four pages a resident opens first (home, an event, the event
signed in with its sign-up form, a ticket) costs over the wire with an empty cache, served by the embedded server
(`python -m app`, what `make run` starts) on the demo town; optionally Lighthouse's mobile performance score.

    .venv/bin/python bench/page_weight.py                                # bytes per page, Playwright (375 x 812)
    .venv/bin/python bench/page_weight.py --lighthouse /work/tools-lh   # and Lighthouse from that npm folder

Transferred = for every response of the page load, the service worker's included (the ticket page's worker keeps
an offline copy): headers + body as sent (compressed when it was), the way Chromium's network panel adds them up.
Lighthouse: `npm i lighthouse` in a folder outside the repository; it runs with CHROME_PATH=/usr/bin/chromium
(mobile is its default form factor, with its simulated slow 4G).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import free_port  # noqa: E402

PHONE = {"width": 375, "height": 812}
CHROMIUM = "/usr/bin/chromium"


def prepare(instance: Path, secret: str) -> dict:
    """The demo town in a fresh SQLite database, a resident with a ticket and an event she has not signed up for:
    the four pages' paths and her session cookie."""
    os.environ.update({"INSTANCE_PATH": str(instance), "SECRET_KEY": secret, "APP_ENV": "development",
                       "TASK_QUEUE": "immediate", "DATABASE_URL": f"sqlite:///{instance / 'beiyang.sqlite3'}"})
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.models import User
    from app.config import DevelopmentConfig
    from app.db_types import utcnow
    from app.demo import seed_demo
    from app.extensions import db
    from events import signup_batches
    from events.models import Event, Registration
    from tests.conftest import session_cookie_for

    app = create_app(DevelopmentConfig)
    with app.app_context():
        upgrade()
        now = utcnow()
        seed_demo(now=now)
        db.session.commit()
        lin = db.session.scalars(sa.select(User).where(User.phone == "+8613800000001")).one()
        upcoming = db.session.scalars(sa.select(Event).where(Event.status == "published", Event.starts_at > now)
                                      .order_by(Event.starts_at)).all()
        mine = {r.event_id: r for r in db.session.scalars(
            sa.select(Registration).where(Registration.user_id == lin.id, Registration.status == "confirmed"))}
        ticket = next(iter(mine.values()), None)
        open_events = [e for e in upcoming if e.id not in mine and e.kind in ("salon", "workshop", "meetup", "talk")]
        signup_event = open_events[0] if open_events else upcoming[0]
        if ticket is None:
            ticket, _ = signup_batches.sign_up(upcoming[-1].id, lin, now=now)
        db.session.commit()
        public_event = upcoming[0]
        cookie = session_cookie_for(app, lin)
        return {"cookie_name": app.config["SESSION_COOKIE_NAME"], "cookie": cookie, "pages": [
            ("home", "/", False),
            ("event", f"/events/{public_event.id}", False),
            ("sign-up", f"/events/{signup_event.id}", True),
            ("ticket", f"/tickets/{ticket.id}", True),
        ]}


def start_server(instance: Path, secret: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "INSTANCE_PATH": str(instance), "SECRET_KEY": secret, "APP_ENV": "development",
           "PORT": str(port), "START_EMBEDDED_WORKER": "0", "TASK_QUEUE": "immediate",
           "DATABASE_URL": f"sqlite:///{instance / 'beiyang.sqlite3'}"}
    with open(instance / "server.log", "w") as log:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start; see {instance / 'server.log'}")


def measure(base: str, setup: dict) -> list[dict]:
    """Each page cold in a new phone-sized context: every response's transferred size, compression and caching."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for name, path, signed_in in setup["pages"]:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
            if signed_in:
                context.add_cookies([{"name": setup["cookie_name"], "value": setup["cookie"], "url": base}])
            responses: list = []  # the page's requests and its service worker's (the ticket's offline copy)
            context.on("requestfinished", lambda request, sink=responses: sink.append(request))
            page = context.new_page()
            page.goto(base + path, wait_until="networkidle")
            page.wait_for_timeout(500)
            total, files = 0, []
            for request in responses:
                sizes = request.sizes()
                response = request.response()
                size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                total += size
                headers = response.headers if response else {}
                files.append({"url": request.url.replace(base, ""), "bytes": size,
                              "encoding": headers.get("content-encoding", ""),
                              "cache": headers.get("cache-control", "")})
            rows.append({"page": name, "path": path, "bytes": total, "requests": len(files), "files": files})
            context.close()
        browser.close()
    return rows


def lighthouse(tools: Path, url: str, cookie: str | None) -> float | None:
    command = ["npx", "lighthouse", url, "--chrome-flags=--headless=new --no-sandbox", "--only-categories=performance",
               "--output=json", "--quiet"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    result = subprocess.run(command, cwd=tools, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return None
    report = json.loads(result.stdout)
    weight = report["audits"]["total-byte-weight"]["numericValue"]
    return report["categories"]["performance"]["score"] * 100, weight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lighthouse", type=Path, help="a folder where `npm i lighthouse` was run")
    parser.add_argument("--files", action="store_true", help="list every response")
    args = parser.parse_args()
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="page-weight-") as folder:
        instance = Path(folder)
        setup = prepare(instance, secret)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(instance, secret, port)
        try:
            rows = measure(base, setup)
            scores = {}
            if args.lighthouse:
                for name, path, signed_in in setup["pages"]:
                    cookie = f"{setup['cookie_name']}={setup['cookie']}" if signed_in else None
                    scores[name] = lighthouse(args.lighthouse, base + path, cookie)
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"{'page':<9} {'KB cold':>8} {'requests':>9}" + (f" {'Lighthouse':>11} {'LH KB':>7}" if scores else ""))
    for row in rows:
        line = f"{row['page']:<9} {row['bytes'] / 1024:>8.1f} {row['requests']:>9}"
        if scores:
            score = scores.get(row["page"])
            line += f" {score[0]:>11.0f} {score[1] / 1024:>7.1f}" if score else f" {'failed':>11}"
        print(line)
        if args.files:
            for f in row["files"]:
                print(f"    {f['bytes']:>7} {f['encoding'] or '-':<5} {f['cache'] or '-':<45} {f['url']}")


if __name__ == "__main__":
    main()
