"""``python -m socialdesk_runtime.config FILE``: the same as ``socialdesk config check FILE``."""

import sys

from socialdesk_runtime.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["config", "check", *sys.argv[1:]]))
