"""moto_server, with Secrets Manager's and Parameter Store's IAM resources checked as AWS checks them. Run it
like ``moto_server``.

Three gaps in moto 5.2's IAM enforcement would make a least-privilege policy untestable:

- It turns a policy's Resource into a regular expression by replacing only ``*``, so the ``?`` wildcard that AWS
  documents (and that ``envinject policy`` uses for the six random characters of a secret's ARN) is a regex
  error and an HTTP 500. Here ``*`` and ``?`` are wildcards and every other character is literal, as in AWS.
- It authorizes every Secrets Manager call against the resource ``*``, so a policy naming one secret allows
  none. Here a call that names a secret (``SecretId``) is authorized against that secret's ARN, as in AWS.
  (BatchGetSecretValue is still checked only as an action, as moto does.)
- It lets BatchGetSecretValue with ``Filters`` through without ``secretsmanager:ListSecrets``, which AWS requires
  for filters. Here that call needs both actions.
- It authorizes every Parameter Store call against ``*`` too. Here GetParameter is authorized against the
  parameter's ARN, GetParameters against each name's, and GetParametersByPath against the path's.
"""

import re
import sys
from re import Match

from moto.iam import access_control
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main
from moto.ssm.responses import SimpleSystemManagerResponse


def _match(pattern: str, string: str) -> Match[str] | None:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.match(f"^{regex}$", string, re.DOTALL)


def _determine_resource(self: SecretsManagerResponse) -> str:
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    try:
        return str(self.backend.describe_secret(secret_id).arn)
    except Exception:  # noqa: BLE001 - an unknown secret: authorize against its would-be ARN
        if str(secret_id).startswith("arn:"):
            return str(secret_id)
        return f"arn:aws:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}"


def _parameter_arn(self: SimpleSystemManagerResponse, name: str) -> str:
    if name.startswith("arn:"):
        return name.rsplit(":", 1)[0] if name.count(":") > 5 else name
    name = name.split(":", 1)[0].rstrip("/")  # drop a version or label selector
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter{name if name.startswith('/') else '/' + name}"


def _ssm_resources(self: SimpleSystemManagerResponse) -> list[str]:
    names = self._get_param("Names") or [self._get_param("Name") or self._get_param("Path")]
    return [_parameter_arn(self, str(n)) for n in names if n] or ["*"]


def _ssm_authorize(self: SimpleSystemManagerResponse, resource: str = "*") -> None:
    for arn in _ssm_resources(self):  # every name of GetParameters, as AWS checks them
        _authorize(self, arn)


def _sm_authorize(self: SecretsManagerResponse, resource: str = "*") -> None:
    _authorize_sm(self, resource)
    if self._get_action() == "BatchGetSecretValue" and self._get_param("Filters"):
        self._get_action = lambda: "ListSecrets"  # type: ignore[method-assign] # this request's second check
        try:
            _authorize_sm(self, "*")
        finally:
            del self._get_action


_authorize = SimpleSystemManagerResponse._authenticate_and_authorize_normal_action
_authorize_sm = SecretsManagerResponse._authenticate_and_authorize_normal_action
access_control.IAMPolicyStatement._match = staticmethod(_match)  # type: ignore[method-assign]
SecretsManagerResponse._determine_resource = _determine_resource  # type: ignore[attr-defined]
SecretsManagerResponse._authenticate_and_authorize_normal_action = _sm_authorize  # type: ignore[method-assign]
SimpleSystemManagerResponse._authenticate_and_authorize_normal_action = _ssm_authorize  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
