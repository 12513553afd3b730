"""A wall-clock limit on one fit, without a subprocess.

``SIGALRM`` interrupts the Python code of a fit (every selector here is a Python loop of
short library calls: torch steps, boosting rounds, tree fits), so a fit past its limit is
stopped within one such call. A single long C call (one libsvm fit, say) finishes before
the alarm is handled. Where signals are not available (Windows, a non-main thread) the
limit is not enforced and the fit runs to the end: that is said in the README.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["FitTimeout", "time_limit"]


class FitTimeout(Exception):
    """Raised inside a fit that ran past its ``timeout_s``."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise :class:`FitTimeout` in the body after ``seconds`` (``None`` or <= 0: no limit)."""
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _raise(signum, frame):
        raise FitTimeout(f"fit exceeded timeout_s={seconds:g}")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
