"""`nova-hyperv cloud`: run a local all-in-one cloud until Ctrl-C (docs/cloud.md), and
`nova-hyperv cloud tour`: one server per feature of the usage guide on it.

Nova is imported only when a command runs, after nova's threading mode is set up: the
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
        "volume, key manager) on 127.0.0.1",
        description="Run nova's API, conductor, scheduler and one nova-compute with "
        f"nova-hyperv's {settings.COMPUTE_DRIVER} per emulated Hyper-V host, placement, "
        "and image, network, volume and key manager services, in this process, on 127.0.0.1, until "
        "Ctrl-C. It prints how to use it with python-openstackclient and curl. State is "
        "kept in --state-dir.",
    )
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR,
                        help="folder for the cloud's state, kept across restarts "
                        f"(default: {DEFAULT_STATE_DIR})")
    parser.add_argument("--port-base", type=int, default=settings.DEFAULT_PORT_BASE,
                        help=f"first of {len(settings.SERVICES)} ports "
                        f"({', '.join(settings.SERVICES)}); 0 lets the system choose "
                        f"(default: {settings.DEFAULT_PORT_BASE})")
    cloud_files = ", ".join(settings.cloud_host_files())
    parser.add_argument("--profile", default=",".join(settings.DEFAULT_PROFILES),
                        help="the emulated hosts' profiles, comma-separated, one per "
                        "host in order (the last repeats for further hosts): presets "
                        f"(ws2012r2, ws2016, ws2019, ws2022, ws2025), the cloud's host "
                        f"files ({cloud_files}) or TOML host files (default: "
                        f"{','.join(settings.DEFAULT_PROFILES)}); a host made earlier "
                        "keeps its profile")
    parser.add_argument("--hosts", type=int, default=None,
                        help="emulated Hyper-V hosts, each with its own nova-compute "
                        "(default: one per profile)")
    parser.set_defaults(handler=_run)
    actions = parser.add_subparsers(dest="cloud_command", metavar="ACTION")
    tour = actions.add_parser(
        "tour", help="boot one server per feature of the usage guide and show what the "
        "emulated hosts hold",
        description="Boots one server per feature of the Hyper-V usage guide through the "
        "API of the cloud running in --state-dir (or, when none runs there, of a new "
        "cloud started in a temporary folder and stopped afterwards), prints what each "
        "server's emulated host now holds for it, then acts on running servers (volume "
        "attach, extend and detach, NIC hot plug, console output, snapshot, resize) and "
        "shows the host after each act, and deletes what it made. Exit status 1 if a "
        "feature failed.")
    tour.add_argument("--state-dir", dest="tour_state_dir", default=DEFAULT_STATE_DIR,
                      help=f"the running cloud's folder (default: {DEFAULT_STATE_DIR})")
    tour.add_argument("--timeout", type=float, default=180.0,
                      help="seconds to wait for a server, volume or port (default: 180)")
    tour.set_defaults(handler=_tour)


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from hyperv_emulator.profiles import load_profile
    from nova_hyperv.cloud.settings import CloudSettings, resolve_profile

    profiles = tuple(p.strip() for p in str(args.profile).split(","))
    settings = CloudSettings(state_dir=Path(args.state_dir).expanduser(),
                             port_base=args.port_base, profiles=profiles, hosts=args.hosts)
    for profile in dict.fromkeys(profiles):
        load_profile(resolve_profile(profile))  # refused here, naming it, if unknown
    return settings


def _run(args: argparse.Namespace) -> int:
    from hyperv_emulator.profiles import ProfileError
    from nova_hyperv.cloud.settings import SettingsError
    from nova_hyperv.cloud.statedir import StateDirError

    try:
        settings = _settings(args)
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


def _tour(args: argparse.Namespace) -> int:
    _threading_mode()
    from nova_hyperv.cloud import tour

    return tour.main(Path(args.tour_state_dir).expanduser(), timeout=args.timeout)


def _threading_mode() -> None:
    """nova 34's threading mode, as its nova-compute uses: before nova imports anything
    that would import eventlet."""
    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    from nova import monkey_patch

    monkey_patch.patch()
