"""Serial ports of running VMs as real local endpoints: Unix sockets a client can open.

The model (docs/emulator.md, "Serial ports"):

- **Where.** A COM port connected to `\\\\.\\pipe\\NAME` is the Unix socket
  `<state file>.pipes/<name>` (`pipe_path`, mapping in `hyperv_emulator.pipes`) while
  its VM runs or is paused; it is created when the VM starts or the pipe is set on a
  running VM, and removed when the VM stops or saves, or the pipe is cleared.
- **What must exist** is in the state file (`providers.serialports`), written in the
  transaction that changes the VM, so every process agrees.
- **Who serves.** The emulator runs inside whichever process holds the host (the Nova
  driver, a test, the CLI). A process serves a VM's endpoints while it holds the
  VM's owner lock (an advisory lock on `<state>.pipes/.owners/<VM GUID>`, which dies
  with the process), so exactly one live process serves each VM. In a serving
  process one background thread per host does the socket I/O of every VM it serves;
  it exists only while there is something to serve.
- **When a process looks.** Right after its own transaction changed what must exist
  (so the socket is there when `RequestStateChange` returns), when it opens a session
  on the host (taking over VMs whose server has gone), every 0.5 s while it serves
  (to follow changes other processes make: a VM stopped, rebooted, a pipe changed,
  a VM left behind), and in `connect` and `serve`.
- **Shutting down.** `stop_serving()` (and, at interpreter exit, an atexit handler)
  closes every socket, removes the files and releases the locks; the thread ends.

What the guest does on its ports: COM 1 starts with the current boot's log (see
`providers.serialports.boot_log`) whenever its endpoint is created (the VM starts, the
pipe is set while it runs, or a process takes over serving it) and again at each
reboot; every port echoes what a client writes to it. A port's output goes to every
client connected to it; while none is, up to 64 KiB of it is kept for the next one.
A paused VM's ports accept input and echo it when the VM resumes.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import json
import os
import selectors
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperv_emulator.pipes import pipe_dir, socket_name, socket_path
from hyperv_emulator.providers import base
from hyperv_emulator.providers.serialports import ENDPOINTS_KEY, NOTE

if TYPE_CHECKING:
    from hyperv_emulator.host import Host

__all__ = ["connect", "endpoints", "pipe_path", "serve", "served_vms", "stop_serving"]

POLL_SECONDS = 0.5
KEEP_BYTES = 64 * 1024
OWNERS = ".owners"


# -- the public API ---------------------------------------------------------------------


def pipe_path(host: Host, pipe: str) -> Path | None:
    """The local socket of a Windows pipe path on this host (None: another server's pipe).

    `\\\\.\\pipe\\NAME` and `\\\\<hostname>\\pipe\\NAME` are local; the name is folded
    to lower case (Windows pipe names are case-insensitive). The path may be longer
    than a socket address allows: open it with `connect`.
    """
    return socket_path(host.path, pipe, host.hostname)


def connect(host: Host, pipe: str, timeout: float = 5.0) -> socket.socket:
    """A connected socket on a running VM's COM port pipe (what a console client opens).

    Serves first whatever no live process serves (so a VM started by a process that
    has since exited is reachable), then connects, waiting up to `timeout` seconds
    for the endpoint to appear. Raises FileNotFoundError (no such endpoint: the VM is
    not running, or no port uses that pipe) or ValueError (not a local pipe path).
    """
    path = pipe_path(host, pipe)
    if path is None:
        raise ValueError(f"{pipe!r} is a pipe on another server; only pipes on this host "
                         f"(\\\\.\\pipe\\NAME or \\\\{host.hostname}\\pipe\\NAME) are served")
    deadline = time.monotonic() + timeout
    while True:
        serve(host)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            _connect_long(sock, path)
            sock.settimeout(timeout)
            return sock
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            if time.monotonic() >= deadline:
                raise FileNotFoundError(
                    f"no endpoint for {pipe} at {path}: its VM is not running or no COM "
                    "port of a running VM uses that pipe") from exc
            time.sleep(0.05)


def serve(host: Host) -> None:
    """Serve, in this process, every endpoint of the host that no live process serves."""
    _server(host).apply(_read_state(Path(host.path)))


def endpoints(host: Host) -> dict[str, Any]:
    """What must be served now, by VM GUID: name, boot, log, paused, ports {COM: pipe},
    conflicts {COM: name of the VM that has the pipe}."""
    return dict(_read_state(Path(host.path)).get("vms", {}))


def served_vms(host: Host | None = None) -> set[str]:
    """GUIDs of the VMs this process serves (of one host, or of every host)."""
    with _REGISTRY_LOCK:
        servers = list(_SERVERS.values())
    found: set[str] = set()
    for server in servers:
        if host is None or server.state == _key(host.path):
            found |= server.guids()
    return found


def stop_serving(host: Host | Path | str | None = None) -> None:
    """Close this process's endpoints (of one host, or all), remove them, end the thread."""
    with _REGISTRY_LOCK:
        if host is None:
            servers = list(_SERVERS.values())
            _SERVERS.clear()
        else:
            path = host.path if hasattr(host, "path") else Path(host)  # type: ignore[union-attr]
            server = _SERVERS.pop(_key(path), None)
            servers = [server] if server is not None else []
    for server in servers:
        server.close()


# -- the server of one host in this process -------------------------------------------


@dataclass(eq=False)
class _Client:
    sock: socket.socket
    out: bytearray = field(default_factory=bytearray)


@dataclass(eq=False)
class _Port:
    com: str
    pipe: str
    path: Path
    listener: socket.socket
    inode: int
    clients: list[_Client] = field(default_factory=list)
    kept: bytearray = field(default_factory=bytearray)
    boot_shown: int = 0

    def emit(self, data: bytes) -> None:
        if not self.clients:
            self.kept += data
            del self.kept[:-KEEP_BYTES]
            return
        for client in self.clients:
            client.out += data
            del client.out[:-KEEP_BYTES]


@dataclass(eq=False)
class _Vm:
    guid: str
    lock_fd: int
    lock_path: Path
    ports: dict[str, _Port] = field(default_factory=dict)
    run: int = 0
    paused: bool = False
    waiting: list[tuple[_Port, bytes]] = field(default_factory=list)


class _HostServer:
    """The endpoints this process serves for one host, and the thread that does the I/O.

    Sockets are opened by whoever applies a change (so they exist when the call that
    started a VM returns) but closed only by the I/O thread, or when it is not running
    (`_graveyard`): a file descriptor is never closed under a selector's feet.
    """

    def __init__(self, state: str, hostname: str) -> None:
        self.state = state
        self.hostname = hostname
        self.dir = pipe_dir(state)
        self._lock = threading.RLock()
        self._vms: dict[str, _Vm] = {}
        self._graveyard: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._wake_pair: tuple[socket.socket, socket.socket] | None = None
        self._seen: tuple[str, int] = ("", -1)
        self._closing = False

    def guids(self) -> set[str]:
        with self._lock:
            return set(self._vms)

    # reconciling ------------------------------------------------------------------

    def apply(self, state: dict[str, Any]) -> None:
        """Serve what must be served and is not served elsewhere; drop what must not."""
        with self._lock:
            if self._closing or self._stale(state):
                return
            wanted: dict[str, Any] = state.get("vms", {})
            if not wanted and not self._vms:
                return
            for guid in [g for g in self._vms if g not in wanted]:
                self._drop(self._vms.pop(guid))
            for guid, entry in wanted.items():
                vm = self._vms.get(guid)
                if vm is None:
                    vm = self._own(guid)
                    if vm is None:
                        continue
                    self._vms[guid] = vm
                self._sync_ports(vm, entry)
            if self._vms and self._thread is None:
                pair = socket.socketpair()
                for end in pair:
                    end.setblocking(False)
                self._wake_pair = pair
                self._thread = threading.Thread(
                    target=self._run, args=(pair[0],),
                    name=f"hyperv-emulator-serial {self.hostname}", daemon=True)
                self._thread.start()
            elif self._thread is None:
                self._bury()
            self._wake()

    def _stale(self, state: dict[str, Any]) -> bool:
        """An answer older than one already applied (read before a newer commit)."""
        epoch, version = str(state.get("epoch", "")), int(state.get("version", 0))
        if epoch == self._seen[0] and version < self._seen[1]:
            return True
        self._seen = (epoch, version)
        return False

    def _own(self, guid: str) -> _Vm | None:
        owners = self.dir / OWNERS
        owners.mkdir(parents=True, exist_ok=True)
        path = owners / guid
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise BlockingIOError  # the file was replaced: its owner went on
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            return None
        return _Vm(guid, fd, path)

    def _sync_ports(self, vm: _Vm, entry: dict[str, Any]) -> None:
        ports: dict[str, str] = entry.get("ports", {})
        run = int(entry.get("run", 0))
        if vm.run != run:  # started again since (a host restart): new pipes
            for port in vm.ports.values():
                self._close_port(port)
            vm.ports.clear()
            vm.waiting.clear()
            vm.run = run
        for com in [c for c, port in vm.ports.items() if ports.get(c) != port.pipe]:
            self._close_port(vm.ports.pop(com))
        for com, pipe in ports.items():
            if com not in vm.ports:
                port = self._open_port(com, pipe)
                if port is not None:
                    vm.ports[com] = port
        boot = int(entry.get("boot", 0))
        first = vm.ports.get("1")
        if first is not None and first.boot_shown != boot:
            first.emit(str(entry.get("log", "")).encode("utf-8"))
            first.boot_shown = boot
        vm.paused = bool(entry.get("paused"))
        if not vm.paused and vm.waiting:
            for port, data in vm.waiting:
                if port in vm.ports.values():
                    port.emit(data)
            vm.waiting.clear()

    def _open_port(self, com: str, pipe: str) -> _Port | None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / socket_name(pipe)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by a server that is gone (this VM is ours now)
            _bind_long(listener, path)
            listener.listen(8)
            listener.setblocking(False)
            inode = os.stat(path).st_ino
        except OSError:
            listener.close()
            return None
        return _Port(com, pipe, path, listener, inode)

    def _close_port(self, port: _Port) -> None:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(port.path).st_ino == port.inode:
                port.path.unlink()
        self._graveyard.append(port.listener)
        self._graveyard.extend(client.sock for client in port.clients)
        port.clients.clear()

    def _drop(self, vm: _Vm) -> None:
        for port in vm.ports.values():
            self._close_port(port)
        vm.ports.clear()
        with contextlib.suppress(FileNotFoundError):
            vm.lock_path.unlink()
        os.close(vm.lock_fd)

    def _bury(self) -> None:
        for sock in self._graveyard:
            sock.close()
        self._graveyard.clear()

    def _wake(self) -> None:
        if self._wake_pair is not None:
            with contextlib.suppress(OSError):
                self._wake_pair[1].send(b"\0")

    def close(self) -> None:
        with self._lock:
            self._closing = True
            for vm in self._vms.values():
                self._drop(vm)
            self._vms.clear()
            thread = self._thread
            self._wake()
            if thread is None:
                self._bury()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # the I/O thread ---------------------------------------------------------------

    def _run(self, wake: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        next_poll = time.monotonic() + POLL_SECONDS
        try:
            while True:
                with self._lock:
                    self._bury()
                    if self._closing or not self._vms:
                        self._retire(selector)  # in the same hold as the decision
                        return
                    self._register(selector, wake)
                events = selector.select(max(0.0, next_poll - time.monotonic()))
                with self._lock:
                    for key, mask in events:
                        self._handle(selector, key, mask, wake)
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + POLL_SECONDS
                    self.apply(_read_state(Path(self.state)))
        except BaseException:
            with self._lock:
                self._retire(selector)
            raise

    def _retire(self, selector: selectors.BaseSelector) -> None:
        """The thread ends: nothing of it stays open (call with the lock held)."""
        for key in list(selector.get_map().values()):
            with contextlib.suppress(KeyError, ValueError, OSError):
                selector.unregister(key.fileobj)
        selector.close()
        if self._wake_pair is not None:
            for end in self._wake_pair:
                end.close()
        self._wake_pair = None
        self._thread = None
        self._bury()

    def _register(self, selector: selectors.BaseSelector, wake: socket.socket) -> None:
        wanted: dict[Any, tuple[int, Any]] = {wake: (selectors.EVENT_READ, None)}
        for vm in self._vms.values():
            for port in vm.ports.values():
                wanted[port.listener] = (selectors.EVENT_READ, (vm, port, None))
                for client in port.clients:
                    events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.out else 0)
                    wanted[client.sock] = (events, (vm, port, client))
        for key in list(selector.get_map().values()):
            if key.fileobj not in wanted:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    selector.unregister(key.fileobj)
        for sock, (events, data) in wanted.items():
            try:
                current = selector.get_key(sock)
            except KeyError:
                selector.register(sock, events, data)
                continue
            if current.events != events or current.data != data:
                selector.modify(sock, events, data)

    def _handle(self, selector: selectors.BaseSelector, key: selectors.SelectorKey,
                mask: int, wake: socket.socket) -> None:
        if key.fileobj is wake:
            with contextlib.suppress(OSError):
                while wake.recv(4096):
                    pass
            return
        vm, port, client = key.data
        if port not in vm.ports.values():
            return  # closed meanwhile; its sockets are in the graveyard
        if client is None:
            self._accept(port)
            return
        if client not in port.clients:
            return
        if mask & selectors.EVENT_READ:
            try:
                data = client.sock.recv(4096)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._disconnect(selector, port, client)
                return
            if data:
                if vm.paused:
                    vm.waiting.append((port, data))
                else:
                    port.emit(data)
        if mask & selectors.EVENT_WRITE and client.out:
            try:
                sent = client.sock.send(client.out)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._disconnect(selector, port, client)
                return
            del client.out[:sent]

    def _accept(self, port: _Port) -> None:
        while True:
            try:
                sock, _ = port.listener.accept()
            except OSError:
                return
            sock.setblocking(False)
            port.clients.append(_Client(sock, bytearray(port.kept)))
            port.kept.clear()

    def _disconnect(self, selector: selectors.BaseSelector, port: _Port,
                    client: _Client) -> None:
        port.clients.remove(client)
        with contextlib.suppress(KeyError, ValueError, OSError):
            selector.unregister(client.sock)
        client.sock.close()


# -- the registry of this process -------------------------------------------------------

_REGISTRY_LOCK = threading.Lock()
_SERVERS: dict[str, _HostServer] = {}


def _key(path: Path | str) -> str:
    return os.path.realpath(path)


def _server(host: Host) -> _HostServer:
    key = _key(host.path)
    with _REGISTRY_LOCK:
        server = _SERVERS.get(key)
        if server is None:
            server = _SERVERS[key] = _HostServer(key, host.hostname)
        return server


def _read_state(state: Path) -> dict[str, Any]:
    """What must be served (one small read; nothing when the state file is gone)."""
    if not state.is_file():
        return {}
    try:
        conn = sqlite3.connect(str(state), timeout=30.0)
    except sqlite3.Error:
        return {}
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = ?", (ENDPOINTS_KEY,)).fetchone()
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    found = json.loads(row[0]) if row else {}
    return found if isinstance(found, dict) else {}


@contextlib.contextmanager
def _short_path(path: Path) -> Iterator[str]:
    """An address for `path` that fits a socket address, through an open folder handle."""
    text = str(path)
    if len(os.fsencode(text)) < 100:
        yield text
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _bind_long(sock: socket.socket, path: Path) -> None:
    with _short_path(path) as address:
        sock.bind(address)


def _connect_long(sock: socket.socket, path: Path) -> None:
    with _short_path(path) as address:
        try:
            sock.connect(address)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise FileNotFoundError(errno.ENOENT, "no such endpoint", str(path)) from None
            raise


# -- hooks: after a commit, at session open, at exit, after fork ----------------------------


def _after_commit(host: Any, notes: dict[str, Any]) -> None:
    if NOTE in notes:
        _server(host).apply(notes[NOTE])


def _on_session(host: Any) -> None:
    state = _read_state(Path(host.path))
    if state.get("vms"):
        _server(host).apply(state)


def _forget_after_fork() -> None:
    """A forked child serves nothing: its parent's threads did not come with it."""
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()
    for server in _SERVERS.values():
        for vm in server._vms.values():
            with contextlib.suppress(OSError):
                os.close(vm.lock_fd)  # the parent keeps its lock
    _SERVERS.clear()


base.AFTER_COMMIT_HOOKS.append(_after_commit)
base.SESSION_HOOKS.append(_on_session)
atexit.register(stop_serving)
os.register_at_fork(after_in_child=_forget_after_fork)
