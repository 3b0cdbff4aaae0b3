"""A child for end-to-end tests: prints the environment it received as JSON, then exits with argv[1] (or 0)."""

import json
import os
import sys

print(json.dumps(dict(os.environ)))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
