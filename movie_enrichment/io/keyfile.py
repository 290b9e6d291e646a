"""Where the TMDB key comes from: the command line, the environment, or a file (as container and systemd
secrets are passed), with a one-line error for every way a key file can be wrong.

The order, first found wins: `--tmdb_api_key`, `--tmdb_api_key_file`, `TMDB_API_KEY`, `TMDB_API_KEY_FILE`. The
command line comes before the environment (a command given by hand wins over a profile's variable); giving both
forms at the same level (`--tmdb_api_key` and `--tmdb_api_key_file`, or both variables) is an error, since one
of them would be ignored.
"""

import dataclasses
import os
import stat
from typing import Mapping

ENV_KEY = "TMDB_API_KEY"
ENV_KEY_FILE = "TMDB_API_KEY_FILE"
# A v4 read-access token is about 250 characters: a bigger file is not a key (a wrong path, say).
MAX_BYTES = 16 * 1024


class KeyFileError(ValueError):
    """A key that cannot be used, or a choice of key sources that makes no sense; the message is one line and
    never holds the key."""


@dataclasses.dataclass(frozen=True)
class KeySource:
    """Where this run's key comes from.

    Args:
        origin: `--tmdb_api_key`, `--tmdb_api_key_file`, `TMDB_API_KEY`, `TMDB_API_KEY_FILE`, or "" (no key).
        key: the key itself when it was given as a value.
        path: the key file when it was given as a file.
    """

    origin: str = ""
    key: str | None = dataclasses.field(default=None, repr=False)
    path: str | None = None

    def read(self) -> str | None:
        """The key (read from its file now); None when no key was given."""
        return read_key_file(self.path, self.origin) if self.path is not None else self.key

    def describe(self) -> str:
        """Where the key came from, for a message: never the key, at most the file's path."""
        if self.path is not None:
            return f"{self.origin} {self.path}" if self.origin.startswith("--") else f"{self.origin} ({self.path})"
        return self.origin or "--tmdb_api_key or TMDB_API_KEY"


def choose(given_key: str | None, given_file: str | None,
           environ: Mapping[str, str] | None = None) -> KeySource:
    """The source of the key: the command line's if it gives one, else the environment's; KeyFileError when
    one level gives both a key and a key file."""
    environ = os.environ if environ is None else environ
    if given_key and given_file:
        raise KeyFileError("--tmdb_api_key and --tmdb_api_key_file both give the key: keep one")
    if given_key:
        return KeySource("--tmdb_api_key", key=given_key)
    if given_file:
        return KeySource("--tmdb_api_key_file", path=given_file)
    env_key, env_file = environ.get(ENV_KEY) or None, environ.get(ENV_KEY_FILE) or None
    if env_key and env_file:
        raise KeyFileError(f"{ENV_KEY} and {ENV_KEY_FILE} are both set: unset one")
    if env_key:
        return KeySource(ENV_KEY, key=env_key)
    if env_file:
        return KeySource(ENV_KEY_FILE, path=env_file)
    return KeySource()


def read_key_file(path: str, origin: str = "--tmdb_api_key_file") -> str:
    """The key a file holds, alone on its line (surrounding white space and the final newline dropped).

    Refused, each with one line naming the file and the problem: a missing or unreadable file, a folder, a
    file that group or others may read (it would give the key away; `chmod 600` mends it), an empty file, more
    than one line, text that is not UTF-8, or a file too big to be a key."""
    where = f"{origin} {path}"
    try:
        fd = os.open(path, os.O_RDONLY)  # a link is followed: Kubernetes mounts secrets as links
    except FileNotFoundError:
        raise KeyFileError(f"{where}: no such file") from None
    except PermissionError:
        raise KeyFileError(f"{where}: not readable by this user (permission denied)") from None
    except OSError as error:
        raise KeyFileError(f"{where}: cannot be opened: {error.strerror}") from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise KeyFileError(f"{where}: is a folder, not a file")
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and stat.S_ISREG(info.st_mode) and mode & 0o044:
            who = "group and others" if mode & 0o044 == 0o044 else "others" if mode & 0o004 else "its group"
            raise KeyFileError(f"{where}: readable by {who} (mode {mode:04o}), which gives the key away: "
                               f"run chmod 600 {path}")
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise KeyFileError(f"{where}: cannot be read: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise KeyFileError(f"{where}: more than {MAX_BYTES // 1024} KB, too big to be a TMDB key (a wrong file?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KeyFileError(f"{where}: not UTF-8 text (a wrong file?)") from None
    key = text.strip()
    if not key:
        raise KeyFileError(f"{where}: the file is empty (write the key into it, alone on one line)")
    if len(key.split()) > 1:
        raise KeyFileError(f"{where}: more than the key (the file must hold the key alone, on one line)")
    return key
