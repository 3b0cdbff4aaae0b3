"""The seed: the boto3 script a user would write by hand. `seed_boto3.py SECRET_ID...`, then exec `true`.

Deliberately naive (no batching, no error handling): it is the baseline envinject replaces.
"""

import json
import os
import sys

import boto3

c = boto3.client("secretsmanager")
for secret_id in sys.argv[1:]:
    os.environ.update(json.loads(c.get_secret_value(SecretId=secret_id)["SecretString"]))
os.execvp("true", ["true"])
