"""What the processes of a benchmark run cost: peak resident memory and CPU time, per
role (web, worker, beat) and per process, parents and their children alike.

Sampling only reads /proc and psutil: it never signals or waits on a process.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path

import psutil

_PEAK = re.compile(r"VmHWM:\s+(\d+) kB")


def peak_rss_mb(process: subprocess.Popen[bytes]) -> dict[int, float]:
    """Peak resident memory (VmHWM) of a process and each of its children."""
    peaks: dict[int, float] = {}
    for proc in _family(process):
        with contextlib.suppress(OSError):
            match = _PEAK.search(Path(f"/proc/{proc.pid}/status").read_text())
            if match:
                peaks[proc.pid] = int(match.group(1)) / 1024
    return peaks


class RssWatch:
    """Keeps the highest VmHWM and the CPU time seen per process, grouped by role.

    Sampled more than once because children come and go (a prefork child replaced,
    a gunicorn worker restarted): each one's peak is kept when it has gone.
    CPU seconds per message is the figure that survives a busy machine: wall-clock
    rates move with whatever else the cores are doing, CPU cost per message does not.
    """

    def __init__(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        self.processes = processes
        self.peaks: dict[str, dict[int, float]] = {role: {} for role in processes}
        self.cpu: dict[str, dict[int, float]] = {role: {} for role in processes}
        self._baseline: dict[int, float] = {}

    def start(self) -> None:
        """Remember the CPU spent so far (start-up), to leave it out."""
        self.sample()
        self._baseline = {pid: s for by_pid in self.cpu.values() for pid, s in by_pid.items()}

    def sample(self) -> None:
        for role, process in self.processes.items():
            peaks = self.peaks[role]
            for pid, mb in peak_rss_mb(process).items():
                peaks[pid] = max(mb, peaks.get(pid, 0.0))
            for proc in _family(process):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = proc.cpu_times()
                    self.cpu[role][proc.pid] = times.user + times.system

    def cpu_seconds(self, role: str) -> float:
        """CPU time the role's processes spent since start()."""
        return sum(s - self._baseline.get(pid, 0.0) for pid, s in self.cpu[role].items())

    def peaks_by_role(self) -> dict[str, dict[str, float]]:
        """{role: {"<pid>" or "<pid> (parent)": MB}}, for the table and the JSON."""
        labelled: dict[str, dict[str, float]] = {}
        for role, peaks in self.peaks.items():
            parent = self.processes[role].pid
            labelled[role] = {
                f"{pid} (parent)" if pid == parent else str(pid): round(mb, 1)
                for pid, mb in sorted(peaks.items(), key=lambda item: (item[0] != parent, item[0]))
            }
        return labelled


def _family(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The process and its descendants, or nothing once it has gone."""
    try:
        parent = psutil.Process(process.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
