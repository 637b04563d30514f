"""Make an installed os-win (5.9.0) drive the emulated host on Linux.

os-win talks to WMI only through `os_win.utils.baseutils`, which imports PyMI's
`wmi` on Windows and quietly gets no connection elsewhere. `enable()` does what it
takes (reference notes os-win-wmi-usage.md §3.2): os-win's own Linux x_wmi classes
become the errors the facade raises, `baseutils.wmi` becomes `hyperv_emulator.wmi`,
the platform gate of `_get_wmi_conn` opens, and os-win's process-wide caches (the
connections, the Windows version) are emptied so a newly bound host is seen. Import
`os_win.utilsfactory` only after calling it: it builds a HostUtils at import time.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from hyperv_emulator import wmi
from hyperv_emulator.host import Host

_saved: dict[str, object] = {}


def enable(host: Host | str | Path | None = None) -> None:
    """Route os-win's WMI calls to the emulated host (this one, or $HYPERV_EMULATOR_STATE)."""
    import os_win.exceptions as os_win_exceptions

    wmi.use_exception_classes(os_win_exceptions.x_wmi, os_win_exceptions.x_wmi_timed_out)
    if host is not None:
        wmi.bind(host)
    from os_win.utils import baseutils

    if "sys" not in _saved:
        _saved.update(sys=baseutils.sys, wmi=getattr(baseutils, "wmi", None))
    baseutils.wmi = wmi
    gate = types.SimpleNamespace(**{k: getattr(sys, k) for k in ("modules", "version_info")})
    gate.platform = "win32"
    baseutils.sys = gate
    _forget_caches()


def disable() -> None:
    """Undo `enable`: os-win is back to having no WMI, the facade raises its own errors."""
    from os_win.utils import baseutils

    if "sys" in _saved:
        baseutils.sys = _saved.pop("sys")
        baseutils.wmi = _saved.pop("wmi")
    wmi.use_exception_classes(wmi.x_wmi, wmi.x_wmi_timed_out)
    _forget_caches()


def _forget_caches() -> None:
    from os_win.utils import baseutils, hostutils

    baseutils.BaseUtils._WMI_CONS.clear()
    baseutils.BaseUtilsVirt._os_version = None
    hostutils.HostUtils._windows_version = None
