"""The machine the run is on (its load and a description for the report),
and the runner's log line."""

import os
import platform
from pathlib import Path


def log(message):
    print(f"[loadtest] {message}", flush=True)


def load_average():
    """The 1-minute load average: other work on the machine skews latency tails."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
