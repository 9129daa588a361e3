"""Test-only query command: prints $PROBE_DUMP for `-dump`, to check what Kong refuses."""

import os
import sys

if __name__ == "__main__":
    sys.stdout.write(os.environ.get("PROBE_DUMP", ""))
