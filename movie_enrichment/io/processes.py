"""Whether a process still runs, for the code that follows a run or a server by its pid."""

import os


def alive(pid: int) -> bool:
    """Whether process `pid` still runs. A zombie (ended, not yet reaped) does not: if it is this process's own
    child it is reaped here, and another's zombie is told by its state in /proc. A process of another user
    that this one may not signal counts as running."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, now reaped
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
