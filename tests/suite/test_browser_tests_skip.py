"""The suite's own promise (README, "Tests and services"): without Chromium or Playwright, every browser test skips
with the reason on a newcomer's machine, and fails under CI=true; never an error from a fixture that launched a
browser that is not there. Checked by running browser tests of every folder in a child pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# One file per way of starting Chromium: pytest-playwright's `page` (e2e), its `browser` with a module's launch
# arguments (judging, checkin), its `playwright` (the camera), and sync_playwright in a thread (service worker).
BROWSER_TESTS = ["tests/e2e/test_sign_in_flow.py", "tests/judging/test_browser.py",
                 "tests/judging/test_browser_console.py", "tests/checkin/test_browser_door.py",
                 "tests/checkin/test_camera.py", "tests/notifications/test_service_worker_browser.py",
                 "tests/notifications/test_resubscribe.py"]


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "CHROMIUM_PATH", "PYTEST_ADDOPTS")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rsE", "-m", "browser",
                           *args, *BROWSER_TESTS], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=300)


def summary(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", last)}


def skipped_for(output: str, reason: str) -> int:
    """How many tests the short summary (-rs, which groups equal reasons) lists as skipped for this reason."""
    return sum(int(n) for n, text in re.findall(r"^SKIPPED \[(\d+)\] (.*)$", output, re.M) if reason in text)


def test_without_chromium_every_browser_test_skips_with_the_reason(tmp_path):
    missing = tmp_path / "no-chromium"
    result = run_pytest(CHROMIUM_PATH=str(missing))
    counts = summary(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(counts) <= {"skipped", "deselected"} and counts["skipped"] >= 14, result.stdout[-3000:]
    assert skipped_for(result.stdout, f"Chromium is not available ({missing} not found") == counts["skipped"]


def test_without_the_playwright_plugin_every_browser_test_skips_with_the_reason():
    result = run_pytest("-p", "no:playwright")
    counts = summary(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(counts) <= {"skipped", "deselected"} and counts["skipped"] >= 14, result.stdout[-3000:]
    assert skipped_for(result.stdout, "pytest-playwright plugin is not loaded") == counts["skipped"]


def test_on_ci_a_missing_chromium_fails_the_run(tmp_path):
    result = run_pytest("-x", CHROMIUM_PATH=str(tmp_path / "no-chromium"), CI="true")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "CI requires it" in result.stdout and "BrowserType.launch" not in result.stdout
