"""The floor for any Python tool built on botocore: `floor_botocore.py SECRET_ID...`, then exec `true`.

One botocore session, one client, one GetSecretValue per secret, nothing else (no boto3, no CLI framework).
"""

import json
import os
import sys

import botocore.session

client = botocore.session.get_session().create_client("secretsmanager")
for secret_id in sys.argv[1:]:
    os.environ.update(json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"]))
os.execvp("true", ["true"])
