"""python -m emulator --host 127.0.0.1 --port 8077 [--auto-approve] [--set name=value ...]"""
import argparse
import sys

from .server import Emulator


def _switches(pairs):
    switches = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects name=value, got {pair!r}")
        switches[name.strip()] = value
    return switches


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator",
                                     description="Local Clover emulator (see emulator/README.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--auto-approve", action="store_true",
                        help="the OAuth authorize page redirects at once")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="set a switch (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = parser.parse_args(argv)
    try:
        switches = _switches(args.set)
        if args.auto_approve:
            switches["auto_approve"] = True
        emulator = Emulator(args.host, args.port, log=not args.quiet, **switches)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    print(emulator.base_url, flush=True)
    identity = emulator.store.identity()
    sys.stderr.write(f"merchant {identity['merchant_id']} ({identity['merchant_name']}), "
                     f"app {identity['app_id']}; GET {emulator.base_url}/_emulator/state\n")
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
