"""`nova-hyperv host fault ...` and `nova-hyperv host restart`: faults of an emulated host.

    host fault add STATE --method M [--class C] [--nth N] --code CODE [--as-job] [--times K]
    host fault hang STATE --method M [--class C] [--nth N] [--times K]
    host fault list STATE
    host fault clear STATE [--id N]
    host restart STATE

Faults are kept in the state file: a nova-compute using the same host meets them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperv_emulator import open_host

Guard = Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]


def register(sub: argparse._SubParsersAction, guard: Guard) -> None:
    fault = sub.add_parser("fault", help="inject faults: fail the Nth call of a method, hang "
                                         "its job; list and clear them")
    actions = fault.add_subparsers(dest="fault_command", metavar="ACTION", required=True)

    p = actions.add_parser("add", help="the Nth call of a method fails with an error code")
    _target(p)
    p.add_argument("--code", type=int, required=True,
                   help="the Hyper-V error code (e.g. 32768 failed, 32775 invalid state, "
                        "32778 out of memory)")
    p.add_argument("--as-job", action="store_true",
                   help="fail as Hyper-V fails jobs: 4096, then the job ends in state 10 with "
                        "the code (default: the code is the ReturnValue)")
    p.set_defaults(handler=guard(_add))

    p = actions.add_parser("hang", help="the job of the Nth call of a method never finishes "
                                        "(until a client kills it)")
    _target(p)
    p.set_defaults(handler=guard(_hang))

    p = actions.add_parser("list", help="the faults and how far they got")
    p.add_argument("state", type=Path)
    p.set_defaults(handler=guard(_list))

    p = actions.add_parser("clear", help="remove every fault (or one)")
    p.add_argument("state", type=Path)
    p.add_argument("--id", type=int, metavar="N", help="remove only fault #N")
    p.set_defaults(handler=guard(_clear))

    p = sub.add_parser("restart", help="restart the emulated Windows host: running VMs stop "
                                       "and start by their automatic actions")
    p.add_argument("state", type=Path)
    p.set_defaults(handler=guard(_restart))


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("state", type=Path)
    parser.add_argument("--method", required=True, help="the CIM method (e.g. DefineSystem)")
    parser.add_argument("--class", dest="class_name", metavar="CLASS",
                        help="only calls on this class (default: any class but jobs)")
    parser.add_argument("--nth", type=int, default=1, metavar="N",
                        help="which call, counted from now (default 1: the next one)")
    parser.add_argument("--times", type=int, default=1, metavar="K",
                        help="how many calls from the Nth on (0: all of them; default 1)")


def _add(args: argparse.Namespace) -> int:
    fault = open_host(args.state).faults.add(
        args.method, code=args.code, nth=args.nth, as_job=args.as_job,
        class_name=args.class_name, times=args.times)
    print(fault.describe())
    return 0


def _hang(args: argparse.Namespace) -> int:
    fault = open_host(args.state).faults.hang(
        args.method, nth=args.nth, class_name=args.class_name, times=args.times)
    print(fault.describe())
    return 0


def _list(args: argparse.Namespace) -> int:
    found = open_host(args.state).faults.list()
    for fault in found:
        print(fault.describe())
    if not found:
        print("no faults")
    return 0


def _clear(args: argparse.Namespace) -> int:
    faults = open_host(args.state).faults
    if args.id is not None:
        print(f"removed {faults.remove(args.id).describe()}")
    else:
        print(f"removed {faults.clear()} fault(s)")
    return 0


def _restart(args: argparse.Namespace) -> int:
    host = open_host(args.state)
    outcomes = host.restart()
    print(f"{host.hostname} restarted: {len(outcomes)} VM(s)")
    for outcome in outcomes:
        print("  " + describe_outcome(outcome))
    return 0


def describe_outcome(outcome: Any) -> str:
    line = f"{outcome.name}: {outcome.before} -> {outcome.after_shutdown} -> {outcome.after}"
    return line + (f" ({outcome.note})" if outcome.note else "")
