"""The portal's demo accounts (`make demo`'s last step) and `aip serve` as a process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aip_forms import demo
from tests.integration.test_web_auth import enter, shown
from tests.support.web import Portal, portal, post

__all__ = ["portal"]


def test_every_demo_account_signs_in_with_the_printed_password(portal: Portal) -> None:
    roles = demo.portal_accounts(portal.core, "006", "006001")
    assert len(roles) == 5 and roles["dana.baca@belen.example.org"] == [
        "District Absence Coordinator",
        "School coordinator",
    ]
    for email in roles:
        client = portal.client()
        r = post(client, "/sign-in", {"email": email, "password": demo.DEMO_PASSWORD})
        assert r.status_code == 302, (email, shown(r))
        r = enter(client, portal.last_code(email))
        expected = "/role" if email.startswith("dana") else "/"
        assert r.headers["Location"] == expected, email
    again = demo.portal_accounts(portal.core, "006", "006001")  # a second run changes nothing
    assert again == roles


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_aip_serve_serves_the_portal_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "serve-test-key"}
    env.pop("AIP_DATABASE_URL", None)
    command = [sys.executable, "-m", "aip_forms", "serve", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=5) as r:
                    status, headers, body = r.status, r.headers, r.read().decode()
                break
            except OSError:
                assert process.poll() is None, "aip serve stopped"
                assert time.monotonic() < deadline, "the portal did not answer in 60 s"
                time.sleep(0.3)
        assert status == 200 and "Sign in" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    finally:
        os.kill(process.pid, 15)  # by its own process id
        output = process.communicate(timeout=30)[0].decode()
    assert f"Serving the portal on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output
