"""Windows named pipes as Unix sockets: how `\\\\.\\pipe\\NAME` maps to a local path.

A COM port of an emulated VM connected to the named pipe `\\\\.\\pipe\\NAME` (or
`\\\\<this host>\\pipe\\NAME`) is served, while the VM runs, as the Unix socket
`<state file>.pipes/<file name>`. Windows pipe names are case-insensitive, so the file
name is NAME in lower case, with every byte outside `[a-z0-9._-]` and a leading `.`
written as `%XX` (its UTF-8 bytes), so that any pipe name is one safe file name and
two spellings of one pipe are one file. A pipe on another server
(`\\\\OTHER\\pipe\\NAME`) has no local endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["PIPES_SUFFIX", "is_local", "parse_pipe", "pipe_dir", "socket_name",
           "socket_path"]

PIPES_SUFFIX = ".pipes"
_PIPE = re.compile(r"^\\\\([^\\]+)\\pipe\\([^\\]+)$", re.IGNORECASE)
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-.")


def parse_pipe(pipe: str) -> tuple[str, str]:
    """(server, name) of a pipe path; ValueError naming the value if it is not one."""
    match = _PIPE.match(pipe or "")
    if match is None:
        raise ValueError(f"{pipe!r} is not a named pipe path; a pipe is \\\\.\\pipe\\NAME or "
                         "\\\\SERVER\\pipe\\NAME")
    return match.group(1), match.group(2)


def is_local(pipe: str, hostname: str) -> bool:
    """Whether the pipe is on this host (`.` or the host's own name, any case)."""
    server, _ = parse_pipe(pipe)
    return server == "." or server.lower() == hostname.lower()


def socket_name(pipe: str) -> str:
    """The file name of a pipe's socket: its NAME folded to a safe, case-insensitive form."""
    _, name = parse_pipe(pipe)
    out = []
    for index, byte in enumerate(name.lower().encode("utf-8")):
        if byte in _SAFE and not (index == 0 and byte == ord(".")):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02x}")
    return "".join(out)


def pipe_dir(state_path: str | Path) -> Path:
    """The folder of a host's pipe sockets: the state file's path plus `.pipes`."""
    state = Path(state_path)
    return state.with_name(state.name + PIPES_SUFFIX)


def socket_path(state_path: str | Path, pipe: str, hostname: str = ".") -> Path | None:
    """Where the pipe's socket is (or will be) for a host; None for another server's pipe.

    The path can be longer than a Unix socket address allows (107 bytes);
    `hyperv_emulator.serial.connect` reaches it whatever its length.
    """
    if not is_local(pipe, hostname):
        return None
    return pipe_dir(state_path) / socket_name(pipe)
