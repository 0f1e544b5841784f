"""Stops a server the benchmark started if the benchmark dies or overruns its time budget.

``python -m benchmarks.reaper PARENT_PID TARGET_PID SECONDS``: polls every second; when the
parent is gone or ``SECONDS`` have passed, sends SIGTERM to the target (SIGKILL 20 s later) and
exits. Exits as soon as the target has stopped by itself.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import psutil


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def reap(parent_pid: int, target_pid: int, budget_s: float) -> None:
    try:
        target = psutil.Process(target_pid)
    except psutil.NoSuchProcess:
        return
    deadline = time.monotonic() + budget_s
    while _alive(target):
        if os.getppid() == parent_pid and time.monotonic() < deadline:
            time.sleep(1)
            continue
        try:
            target.send_signal(signal.SIGTERM)
            target.wait(20)
        except psutil.TimeoutExpired:
            target.kill()
        except psutil.NoSuchProcess:
            pass
        return


def main(argv: list[str]) -> None:
    parent, target, budget = argv
    reap(int(parent), int(target), float(budget))


if __name__ == "__main__":
    main(sys.argv[1:])
