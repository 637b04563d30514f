"""Consoles: each running VM's console log, and its serial console when enabled.

A VM's COM ports are named pipes `\\\\.\\pipe\\<instance uuid>_<ro|rw>` (the rules'
serial port plan). The logging port (`ro`, or `rw` when the image has no logging port)
is read for as long as the VM runs, by a `PipeReader` in the nova-compute process, into
`<instance dir>/console.log`. A log that would pass `MAX_LOG_BYTES` (512 KiB) is moved
to `console.log.1` (replacing the one before) and a new one begun, so an instance's
log takes at most 1 MiB on disk and `get_console_output` returns at most that (nova's
API then keeps the last `length` lines). Readers start when the VM starts or resumes
(and at init_host for the VMs already running) and stop when it is turned off, saved
or destroyed; the log stays until the instance is destroyed.

`[serial_console] enabled`: `get_serial_console` starts (once per run of the VM) a TCP
proxy on `proxyclient_address` bridged to the interactive (`rw`) port, sharing the
reader when that port is also the logged one. Shielded VMs get neither: their console
is the tenant's secret.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from nova_hyperv.ops.serial_proxy import SerialProxy
from nova_hyperv.ops.serial_reader import Opener, PipeReader

__all__ = ["LOG_NAME", "MAX_LOG_BYTES", "ConsoleLog", "Consoles", "NoConsole"]

LOG = logging.getLogger(__name__)

LOG_NAME = "console.log"
MAX_LOG_BYTES = 512 * 1024


class NoConsole(Exception):
    """The instance has no console of that kind now (the message says why)."""


class ConsoleLog:
    """console.log (+ console.log.1) in a directory, each at most `max_bytes`."""

    def __init__(self, directory: str, max_bytes: int = MAX_LOG_BYTES) -> None:
        self.path = os.path.join(directory, LOG_NAME)
        self.previous = self.path + ".1"
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._file: io.FileIO | None = None
        self._size = 0

    def _opened(self) -> io.FileIO:
        if self._file is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._file = io.FileIO(self.path, "ab")
            self._size = os.path.getsize(self.path)
        return self._file

    def write(self, data: bytes) -> None:
        if len(data) > self.max_bytes:
            data = data[-self.max_bytes:]
        with self._lock:
            stream = self._opened()
            if self._size + len(data) > self.max_bytes:
                stream.close()
                self._file = None
                os.replace(self.path, self.previous)
                stream = self._opened()
            view = memoryview(data)
            while view:  # a raw write may take less than it is given
                view = view[stream.write(view) or 0:]
            self._size += len(data)

    def read(self) -> bytes:
        """The rotated log, then the current one; FileNotFoundError when neither exists."""
        with self._lock:
            parts = []
            for path in (self.previous, self.path):
                with contextlib.suppress(FileNotFoundError), open(path, "rb") as stream:
                    parts.append(stream.read())
        if not parts:
            raise FileNotFoundError(self.path)
        return b"".join(parts)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


@dataclass
class _Console:
    uuid: str
    log: ConsoleLog
    pipes: dict[str, str]  # mode (ro / rw) -> pipe
    readers: dict[str, PipeReader] = field(default_factory=dict)  # by pipe (lower case)
    proxy: SerialProxy | None = None

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        for reader in self.readers.values():
            reader.stop()
        self.readers.clear()
        self.log.close()


def logged_pipe(pipes: Mapping[str, str]) -> str | None:
    return pipes.get("ro") or pipes.get("rw")


class Consoles:
    """Every console of one host, in this process (one per nova-compute driver)."""

    def __init__(self, opener: Opener) -> None:
        self._open = opener
        self._lock = threading.Lock()
        self._consoles: dict[str, _Console] = {}

    def _reader(self, console: _Console, pipe: str) -> PipeReader:
        reader = console.readers.get(pipe.lower())
        if reader is None:
            reader = PipeReader(pipe, self._open, name=f"console-{console.uuid[:8]}")
            console.readers[pipe.lower()] = reader.start()
        return reader

    def start(self, uuid: str, directory: str, pipes: Mapping[str, str]) -> None:
        """Read the VM's logging port into its console log (again, if it was stopped)."""
        with self._lock:
            console = self._consoles.get(uuid)
            if console is not None and all(r.alive for r in console.readers.values()) \
                    and console.pipes == dict(pipes):
                return
            if console is not None:
                console.stop()
            console = _Console(uuid, ConsoleLog(directory), dict(pipes))
            self._consoles[uuid] = console
            pipe = logged_pipe(pipes)
            if pipe is not None:
                self._reader(console, pipe).add_sink(console.log.write)
        LOG.debug("console of %s: logging %s", uuid, pipe)

    def stop(self, uuid: str) -> None:
        with self._lock:
            console = self._consoles.pop(uuid, None)
        if console is not None:
            console.stop()

    def stop_all(self) -> None:
        with self._lock:
            consoles, self._consoles = list(self._consoles.values()), {}
        for console in consoles:
            console.stop()

    def running(self) -> set[str]:
        with self._lock:
            return set(self._consoles)

    def output(self, uuid: str, directory: str) -> bytes:
        """The console log (rotated part first), after what the guest wrote so far."""
        with self._lock:
            console = self._consoles.get(uuid)
        if console is not None:
            pipe = logged_pipe(console.pipes)
            reader = console.readers.get(pipe.lower()) if pipe else None
            if reader is not None:
                reader.flush()
            log = console.log
        else:
            log = ConsoleLog(directory)
        try:
            return log.read()
        except FileNotFoundError as exc:
            if console is not None:  # read, but the guest has written nothing yet
                return b""
            raise NoConsole("the instance has no console log yet (its VM has not run "
                            "with a serial port on this host)") from exc

    def serial(self, uuid: str, address: str) -> tuple[str, int]:
        """(host, port) of the TCP proxy to the VM's interactive port (started once)."""
        with self._lock:
            console = self._consoles.get(uuid)
            if console is None:
                raise NoConsole("its VM is not running (the serial console is the running "
                                "VM's COM port)")
            pipe = console.pipes.get("rw")
            if pipe is None:
                raise NoConsole("the VM has no interactive serial port")
            if console.proxy is None:
                console.proxy = SerialProxy(self._reader(console, pipe), address,
                                            name=f"serial-{uuid[:8]}")
            return console.proxy.address, console.proxy.port
