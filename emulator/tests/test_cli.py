"""python -m emulator: the demo's own process."""
import subprocess
import sys
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def process():
    started = []

    def start(*args):
        child = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", *args], cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.poll() is None:
            child.terminate()
        child.communicate(timeout=10)


def test_runs_prints_its_url_logs_requests_and_takes_switches(process):
    child = process("--auto-approve", "--set", "decline_status=400", "--set", "velocity_limit=on")
    base_url = child.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:")
    config = requests.get(base_url + "/_emulator/config", timeout=10).json()
    assert (config["auto_approve"], config["decline_status"], config["velocity_limit"]) == (True, 400, 8)
    state = requests.get(base_url + "/_emulator/state", timeout=10).json()
    authorize = requests.get(base_url + "/oauth/v2/authorize", allow_redirects=False, timeout=10,
                             params={"client_id": state["app_id"], "redirect_uri": "http://x/cb"})
    assert authorize.status_code == 302
    child.terminate()
    _, stderr = child.communicate(timeout=10)
    assert "GET /oauth/v2/authorize -> 302" in stderr
    assert state["app_secret"] not in stderr


def test_the_authorize_page_is_reachable_without_auto_approve(process):
    child = process("--quiet")
    base_url = child.stdout.readline().strip()
    state = requests.get(base_url + "/_emulator/state", timeout=10).json()
    page = requests.get(base_url + "/oauth/v2/authorize", timeout=10,
                        params={"client_id": state["app_id"], "redirect_uri": "http://x/cb"})
    assert page.status_code == 200 and "Authorize" in page.text


@pytest.mark.parametrize("args", [("--set", "nonsense"), ("--set", "no_such_switch=1")])
def test_bad_switches_stop_it_with_usage(process, args):
    child = process(*args)
    _, stderr = child.communicate(timeout=10)
    assert child.returncode == 2
    assert "error:" in stderr
