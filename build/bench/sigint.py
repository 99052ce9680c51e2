"""Ctrl+C as a terminal sends it, for the benches that time a stop (scale-cancel.py, bundle-bench.sh).

A terminal's Ctrl+C is SIGINT to the foreground process group, with SIGINT at its default action. A bench started in the
background (`cmd &` without job control) passes SIGINT on ignored, and .NET keeps an ignored SIGINT ignored, so the
child is started in a session of its own with SIGINT reset, and the signal goes to its whole group (dotnet build's
MSBuild nodes, or sealer and its children).
"""
import os
import signal
import subprocess
import time


def interrupt(cmd, ready, *, env=None, stdout=subprocess.DEVNULL, poll=0.02, sample=None, every=0.02):
    """Runs CMD; once READY() is true (asked every POLL s) sends SIGINT to its process group and waits for it to exit.
    With SAMPLE, calls SAMPLE(pid) every EVERY s until then (e.g. to record its threads' states); without, just waits.
    Returns (seconds from SIGINT to exit, or None if CMD ended before READY(), exit code, samples taken)."""
    p = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.STDOUT, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while p.poll() is None and not ready():
        time.sleep(poll)
    if p.poll() is not None:
        return None, p.returncode, 0
    t = time.monotonic()
    os.killpg(p.pid, signal.SIGINT)
    n = 0
    if sample is None:
        p.wait()
    else:
        while p.poll() is None:
            sample(p.pid)
            n += 1
            time.sleep(every)
    return time.monotonic() - t, p.returncode, n
