"""`nova-hyperv cloud`: run a local all-in-one cloud until Ctrl-C (docs/cloud.md).

Nova is imported only when the command runs, after nova's threading mode is set up: the
other subcommands stay cheap, and eventlet (which that mode forbids) is never loaded.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

EXIT_FAILURE, EXIT_REJECTED = 1, 2
DEFAULT_STATE_DIR = "~/.local/share/nova-hyperv/cloud"


def register(subparsers: argparse._SubParsersAction) -> None:
    from nova_hyperv.cloud import settings

    parser = subparsers.add_parser(
        "cloud",
        help="run a local all-in-one OpenStack cloud (nova, placement, image, network, "
        "volume) on 127.0.0.1",
        description="Run nova's API, conductor, scheduler and one nova-compute per "
        "emulated Hyper-V host, placement, and image, network and volume services, in "
        "this process, on 127.0.0.1, until Ctrl-C. It prints how to use it with "
        "python-openstackclient and curl. State is kept in --state-dir.",
    )
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR,
                        help="folder for the cloud's state, kept across restarts "
                        f"(default: {DEFAULT_STATE_DIR})")
    parser.add_argument("--port-base", type=int, default=settings.DEFAULT_PORT_BASE,
                        help=f"first of {len(settings.SERVICES)} ports "
                        f"({', '.join(settings.SERVICES)}); 0 lets the system choose "
                        f"(default: {settings.DEFAULT_PORT_BASE})")
    parser.add_argument("--hosts", type=int, default=1,
                        help="emulated Hyper-V hosts, each with its own nova-compute "
                        "(default: 1)")
    parser.add_argument("--profile", default=settings.DEFAULT_PROFILE,
                        help="host profile of the emulated hosts: a preset (ws2012r2, "
                        "ws2016, ws2019, ws2022, ws2025) or a TOML host file "
                        f"(default: {settings.DEFAULT_PROFILE})")
    parser.add_argument("--compute-driver", default=settings.DEFAULT_COMPUTE_DRIVER,
                        help="the computes' compute_driver, as nova.conf names it "
                        f"(default: {settings.DEFAULT_COMPUTE_DRIVER}; "
                        f"{settings.HYPERV_COMPUTE_DRIVER} once it can start)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from hyperv_emulator.profiles import ProfileError, load_profile
    from nova_hyperv.cloud.settings import CloudSettings, SettingsError
    from nova_hyperv.cloud.statedir import StateDirError

    try:
        load_profile(args.profile)
        settings = CloudSettings(
            state_dir=Path(args.state_dir).expanduser(), port_base=args.port_base,
            hosts=args.hosts, profile=args.profile, compute_driver=args.compute_driver)
    except (ProfileError, SettingsError) as error:
        print(f"nova-hyperv cloud: {error}", file=sys.stderr)
        return EXIT_REJECTED

    _threading_mode()
    from nova_hyperv.cloud.runner import Cloud
    from nova_hyperv.cloud.server import PortInUseError

    cloud = Cloud(settings)
    print(f"Starting nova-hyperv cloud in {cloud.state.root} "
          f"(log: {cloud.state.log}) ...", flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        # The first Ctrl-C stops in order; a second one ends the process at once.
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    try:
        cloud.start()
    except (PortInUseError, StateDirError) as error:
        print(f"nova-hyperv cloud: {error}", file=sys.stderr)
        return EXIT_REJECTED
    except Exception as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        print(f"nova-hyperv cloud: start failed: {reason}\n(details in {cloud.state.log})",
              file=sys.stderr)
        return EXIT_FAILURE
    print(cloud.instructions(), flush=True)
    while not stop.wait(0.2):
        pass
    print("Stopping (Ctrl-C again to end at once) ...", flush=True)
    cloud.stop()
    print("Stopped; the state is kept in", cloud.state.root, flush=True)
    return 0


def _threading_mode() -> None:
    """nova 34's threading mode, as its nova-compute uses: before nova imports anything
    that would import eventlet."""
    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    from nova import monkey_patch

    monkey_patch.patch()
