"""The TCP end of a serial console: what nova-serialproxy connects to.

`[serial_console] enabled`: nova's serial console service (nova-serialproxy) turns a
browser's websocket into a TCP connection to the host and port the driver returned
(ConsoleSerial). This proxy listens there and bridges every connected client to the
VM's interactive COM port through its PipeReader: bytes from a client go to the guest,
the guest's output goes to every client. The port comes from nova's own allocator
(`nova.console.serial.acquire_port`, within `[serial_console] port_range`) and is
given back when the proxy stops.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading

from nova.console import serial as nova_serial

from nova_hyperv.ops.serial_reader import PipeReader

__all__ = ["SerialProxy"]

LOG = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class SerialProxy:
    def __init__(self, reader: PipeReader, address: str, *, name: str) -> None:
        self.reader = reader
        self.address = address
        self.port = nova_serial.acquire_port(address)
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        try:
            self._listener = socket.create_server((address, self.port))
        except OSError:
            nova_serial.release_port(address, self.port)
            raise
        self._listener.setblocking(False)
        self.reader.add_sink(self._to_clients)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _to_clients(self, data: bytes) -> None:
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.sendall(data)
            except OSError:
                self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        with contextlib.suppress(OSError):
            client.close()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(POLL_SECONDS):
                    if key.fileobj is self._listener:
                        try:
                            client, peer = self._listener.accept()
                        except OSError:
                            continue
                        client.setblocking(True)
                        LOG.debug("serial console client %s connected to %s", peer,
                                  self.reader.pipe)
                        with self._lock:
                            self._clients.append(client)
                        selector.register(client, selectors.EVENT_READ)
                        continue
                    client = key.fileobj  # type: ignore[assignment]
                    try:
                        data = client.recv(4096)
                    except OSError:
                        data = b""
                    if data:
                        self.reader.send(data)
                    else:
                        selector.unregister(client)
                        self._drop(client)

    def stop(self) -> None:
        self._stop.set()
        self.reader.remove_sink(self._to_clients)
        if self._thread.is_alive():
            self._thread.join(5.0)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.close()
        with contextlib.suppress(OSError):
            self._listener.close()
        nova_serial.release_port(self.address, self.port)
