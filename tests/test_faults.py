"""Faults a planner's machine really sees: SIGTERM during a run, geoplan killed while a
solver child computes. Earlier results stay, nothing half-written stays, no child lives
on (issue 13). Ctrl-C and concurrent runs are covered in tests/scenario."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEMO, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SCENARIO = f"""name = "slow"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[model]]
name = "points"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee", "township land"]
mode = "ebike"
minutes = 15
p = 8
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_during_a_run_is_an_interrupt_that_keeps_the_earlier_results(tmp_path):
    sc = tmp_path / "slow.toml"
    sc.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out" / "slow"
    out.mkdir(parents=True)
    (out / "summary.json").write_text('{"earlier": true}', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", str(sc), "--out",
                             str(tmp_path / "out"), "--quiet"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:          # the run has started staging its output
        if any(p.name.startswith(".slow.partial-") for p in out.parent.iterdir()):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run never started")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert (out / "summary.json").read_text(encoding="utf-8") == '{"earlier": true}'
    assert sorted(p.name for p in out.parent.iterdir()) == ["slow"]   # no staging left


def test_a_cbc_child_dies_with_a_killed_geoplan(tmp_path):
    """SIGKILL reaches no handler; the solver child must still not outlive geoplan."""
    code = ("import time\n"
            "from geoplan.optimize.solver import _CbcRun\n"
            "run = _CbcRun(['sleep', '60'], echo=False)\n"
            "print(run.proc.pid, flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
        try:                                    # reap it if it became our zombie
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass
    assert not _alive(child) or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
