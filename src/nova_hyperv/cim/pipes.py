"""A VM's COM port pipe as a byte stream: the transport of the serial console.

Hyper-V serves a COM port connected to `\\\\.\\pipe\\NAME` as a named pipe on the host;
a console client opens it. Each CimSession adapter knows how to reach its host's pipes
(`CimSession.open_pipe`): the emulated host serves them as Unix sockets
(`SocketPipe` over `hyperv_emulator.serial.connect`), Windows as named pipes
(`WindowsPipe`). Both give the same small interface, `SerialPipe`.

Windows: Hyper-V is the pipe's server and accepts one client, so one handle carries
both directions. A handle opened for synchronous I/O serializes its operations (a
ReadFile waiting for the guest would hold up every WriteFile until the guest says
something), so `WindowsPipe` never waits inside ReadFile: it asks PeekNamedPipe how
much is there and reads only that, polling every `POLL_SECONDS`. That code path runs
only on Windows; it is not exercised on Linux (see docs/driver.md).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sys
import threading
import time
from typing import Any, Protocol, runtime_checkable

from nova_hyperv.cim.errors import CimError

__all__ = ["PipeClosed", "SerialPipe", "SocketPipe", "WindowsPipe", "open_windows_pipe"]

POLL_SECONDS = 0.05


class PipeClosed(CimError):
    """The other end went away (the VM stopped, saved, or its pipe was changed)."""


@runtime_checkable
class SerialPipe(Protocol):
    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes; b"" when nothing came within `timeout` seconds; PipeClosed
        when the other end has gone. Safe to call while another thread writes."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SocketPipe:
    """A pipe the emulated host serves as a connected Unix socket."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self._sock = sock
        self.name = name
        sock.setblocking(True)
        sock.settimeout(None)

    def read(self, size: int, timeout: float) -> bytes:
        try:
            ready, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
            if not ready:
                return b""
            data = self._sock.recv(size)
        except (OSError, ValueError) as exc:
            raise PipeClosed(f"serial pipe {self.name}: {exc}") from exc
        if not data:
            raise PipeClosed(f"serial pipe {self.name} was closed by the host")
        return data

    def write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise PipeClosed(f"serial pipe {self.name}: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class WindowsPipe:
    """A Hyper-V COM port pipe on Windows, opened as a file (unbuffered, read/write)."""

    def __init__(self, stream: Any, name: str) -> None:
        import _winapi  # type: ignore[import-not-found]  # Windows only
        import msvcrt  # type: ignore[import-not-found]  # Windows only

        self._stream = stream
        self._handle = msvcrt.get_osfhandle(stream.fileno())
        self._peek = _winapi.PeekNamedPipe
        self._lock = threading.Lock()
        self.name = name

    def read(self, size: int, timeout: float) -> bytes:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            with self._lock:
                try:
                    available = self._peek(self._handle)[0]
                    data = os.read(self._stream.fileno(), min(size, available)) \
                        if available else b""
                except OSError as exc:  # ERROR_BROKEN_PIPE: the VM's side closed
                    raise PipeClosed(f"serial pipe {self.name}: {exc}") from exc
            if data or time.monotonic() >= deadline:
                return data
            time.sleep(POLL_SECONDS)

    def write(self, data: bytes) -> None:
        with self._lock:
            try:
                self._stream.write(data)
            except OSError as exc:
                raise PipeClosed(f"serial pipe {self.name}: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()


def open_windows_pipe(pipe: str) -> WindowsPipe:
    """Open `\\\\.\\pipe\\NAME` (Windows only); FileNotFoundError when no VM serves it."""
    if sys.platform != "win32":
        raise OSError(f"cannot open serial pipe {pipe}: named pipes of a Hyper-V host are "
                      "reachable from Windows only")
    return WindowsPipe(open(pipe, "r+b", buffering=0), pipe)
