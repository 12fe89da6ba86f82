"""Container healthcheck without curl: exit 0 when the service answers 2xx on a path.

python /app/deploy/bin/healthcheck.py 8084 /readyz
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: healthcheck.py PORT [PATH]", file=sys.stderr)
        return 2
    port, path = argv[1], argv[2] if len(argv) == 3 else "/readyz"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
