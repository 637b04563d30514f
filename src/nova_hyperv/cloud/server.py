"""Serving the cloud's WSGI apps on 127.0.0.1, each on its own port, in threads.

cheroot (CherryPy's HTTP server) rather than wsgiref: HTTP/1.1 with keep-alive, chunked
request bodies (image uploads) and a thread pool, in pure Python, without eventlet, which
nova's threading mode forbids.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cheroot import wsgi

from nova_hyperv.cloud.settings import LISTEN_ADDRESS

WsgiApp = Callable[..., Any]


class PortInUseError(OSError):
    """A service's port is taken; the message names the service and the port."""


class HttpService:
    """One app on one port; `port` is the real one once started (even when asked for 0)."""

    def __init__(self, name: str, app: WsgiApp, port: int, threads: int = 8) -> None:
        self.name = name
        self._server = wsgi.Server((LISTEN_ADDRESS, port), app, numthreads=threads,
                                   server_name=f"nova-hyperv-cloud-{name}")
        # Uploads of sample-size images must not time out on a busy 2-core machine.
        self._server.timeout = 60
        self._thread: threading.Thread | None = None
        self.port = port

    def start(self) -> None:
        try:
            self._server.prepare()
        except OSError as error:
            raise PortInUseError(
                f"the {self.name} service cannot listen on {LISTEN_ADDRESS}:{self.port} "
                f"({error.strerror or error}); choose other ports with --port-base "
                "(0 lets the system choose)"
            ) from error
        self.port = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, daemon=True,
                                        name=f"http-{self.name}")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.stop()
            self._thread.join(10)
            self._thread = None
