"""One thread per COM port pipe of a running VM: what the guest writes, as it comes.

Hyper-V serves a COM port pipe to one client at a time, so a single reader holds each
pipe and shares it: the guest's output goes to its sinks (the console log when it is
the logging port, the serial proxy's clients when it is the interactive one) and the
proxy's input goes back through `send`. The reader follows the VM: when the pipe
closes (the VM stopped, saved, or is rebooting) it opens it again, waiting a little
longer each time (up to `MAX_BACKOFF` seconds) until the pipe is back or the reader is
stopped. A host whose pipes this process cannot reach (a Windows host driven from
elsewhere) ends the reader with one warning.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from nova_hyperv.cim import CimError, CimNotFound, CimNotSupported
from nova_hyperv.cim.pipes import PipeClosed, SerialPipe

__all__ = ["PipeReader"]

LOG = logging.getLogger(__name__)

CHUNK = 4096
READ_TIMEOUT = 0.2  # seconds a read waits before the reader looks at its flags again
OPEN_TIMEOUT = 2.0
MIN_BACKOFF, MAX_BACKOFF = 0.2, 2.0

Opener = Callable[[str, float], SerialPipe]
Sink = Callable[[bytes], None]


class PipeReader:
    def __init__(self, pipe: str, opener: Opener, *, name: str) -> None:
        self.pipe = pipe
        self._open = opener
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()
        self._stream: SerialPipe | None = None
        self._stop = threading.Event()
        self._drain = threading.Event()
        self._drained = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # -- the owner's side -------------------------------------------------------------

    def add_sink(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def start(self) -> PipeReader:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._stream is not None

    def send(self, data: bytes) -> bool:
        """Write to the guest; False when the pipe is not open (the input is dropped,
        as a serial line drops what arrives while nobody listens)."""
        with self._lock:
            stream = self._stream
        if stream is None:
            return False
        try:
            stream.write(data)
        except (PipeClosed, OSError):
            return False
        return True

    def flush(self, timeout: float = 1.0) -> bool:
        """Wait until what the guest has written so far has reached the sinks."""
        if not self.connected or not self.alive:
            return False
        self._drained.clear()
        self._drain.set()
        return self._drained.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the thread -----------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        with self._lock:
            sinks = list(self._sinks)
        for sink in sinks:
            try:
                sink(data)
            except Exception:  # a sink's trouble must not end the reader
                LOG.exception("serial pipe %s: a consumer of its output failed", self.pipe)

    def _connect(self) -> SerialPipe | None:
        backoff = MIN_BACKOFF
        while not self._stop.is_set():
            try:
                return self._open(self.pipe, OPEN_TIMEOUT)
            except CimNotSupported as exc:
                LOG.warning("serial pipe %s cannot be read from this process, so its "
                            "console log stays empty: %s", self.pipe, exc)
                return None
            except CimNotFound:
                pass  # not (yet, or any more) served: the VM is starting or stopping
            except (CimError, OSError) as exc:
                LOG.debug("serial pipe %s: %s", self.pipe, exc)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            stream = self._connect()
            if stream is None:
                break
            with self._lock:
                self._stream = stream
            try:
                self._pump(stream)
            finally:
                with self._lock:
                    self._stream = None
                with contextlib.suppress(Exception):
                    stream.close()
        self._drained.set()

    def _pump(self, stream: SerialPipe) -> None:
        while not self._stop.is_set():
            try:
                data = stream.read(CHUNK, READ_TIMEOUT)
            except (PipeClosed, OSError):
                return  # the VM's side went away: open it again
            if data:
                self._deliver(data)
            elif self._drain.is_set():  # nothing left to read: the sinks have it all
                self._drain.clear()
                self._drained.set()
