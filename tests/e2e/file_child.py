"""A child for the file-secret tests. argv: VAR [VAR...]; prints JSON.

For each VAR it opens the path VAR holds, reads it, seeks back and reads again, opens it a second time, and
has a subprocess that inherits no descriptor open it too. It also reports its own pid and VAR's path.
"""

import base64
import json
import os
import subprocess
import sys

out: dict[str, object] = {"pid": os.getpid()}
for name in sys.argv[1:]:
    path = os.environ[name]
    with open(path, "rb") as f:
        first = f.read()
        f.seek(0)
        again = f.read()
    with open(path, "rb") as f:
        third = f.read()
    code = f"import sys; sys.stdout.write(open({path!r}, 'rb').read().hex())"
    sub = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, close_fds=True, check=True)
    out[name] = {
        "path": path,
        "content": base64.b64encode(first).decode(),
        "rereads": first == again == third,
        "subprocess": bytes.fromhex(sub.stdout) == first,
    }
print(json.dumps(out))
