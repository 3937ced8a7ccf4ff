"""Test-only fault injection for races between real `glm` processes (glm itself never imports this).

A test puts this directory on PYTHONPATH of ONE subprocess and sets:

    GLM_TEST_PAUSE=replace:PATH   pause in os.replace(src, dst) when dst is PATH (before the rename)
    GLM_TEST_PAUSE=flock          pause in the first non-blocking fcntl.flock (before the lock is taken)
    GLM_TEST_PAUSE_DIR=DIR        announce the pause by creating DIR/paused, then wait for DIR/go

The process stands still at a known point while the test runs another process, which makes a race
deterministic: the test waits for DIR/paused (an observable state), acts, then creates DIR/go.
The wait is bounded (60 s) so a broken test cannot hang for ever.
"""

import os
import time

_SPEC = os.environ.get("GLM_TEST_PAUSE", "")
_DIR = os.environ.get("GLM_TEST_PAUSE_DIR", "")
_done = False


def _pause() -> None:
    global _done
    if _done:
        return
    _done = True
    with open(os.path.join(_DIR, "paused"), "w"):
        pass
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join(_DIR, "go")) and time.monotonic() < end:
        time.sleep(0.005)


if _SPEC.startswith("replace:") and _DIR:
    _target = os.path.realpath(_SPEC[len("replace:") :])
    _replace = os.replace

    def replace(src, dst, *args, **kw):  # noqa: ANN001, ANN002, ANN003 - the os.replace signature
        if os.path.realpath(dst) == _target:
            _pause()
        return _replace(src, dst, *args, **kw)

    os.replace = replace

elif _SPEC == "flock" and _DIR:
    import fcntl

    _flock = fcntl.flock

    def flock(fd, operation):  # noqa: ANN001 - the fcntl.flock signature
        if operation & fcntl.LOCK_NB:
            _pause()
        return _flock(fd, operation)

    fcntl.flock = flock
