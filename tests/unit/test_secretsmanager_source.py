"""The Secrets Manager source against botocore's Stubber: no network, exact responses."""

import json
from collections.abc import Iterator
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore import exceptions as bx
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from envinject.errors import FetchError
from envinject.rules.refs import Locator
from envinject.sources.aws import LAST_FAILURES, denied_action, translate
from envinject.sources.secretsmanager import SecretsManagerSource

CANARY = "canary-Q7-secret"
ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf"
GET = "secretsmanager:GetSecretValue"


@pytest.fixture
def client() -> Any:
    session = botocore.session.get_session()
    return session.create_client(
        "secretsmanager", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as s:
        yield s
        s.assert_no_pending_responses()


def test_fetch_one_passes_version_selectors(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "get_secret_value",
        {
            "SecretString": CANARY,
            "VersionId": "v" * 32,
            "ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf",
            "Name": "db",
        },
        {"SecretId": "db", "VersionStage": "AWSPREVIOUS"},
    )
    payload = SecretsManagerSource.from_client(client).fetch_one(Locator("db", "AWSPREVIOUS"))
    assert payload.text == CANARY
    assert CANARY not in repr(payload)


def test_fetch_many_keeps_order_and_reports_the_first_failure(client: Any) -> None:
    calls: list[str] = []

    class Fake:
        meta = client.meta

        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            calls.append(SecretId)
            if SecretId.startswith("missing"):
                raise bx.ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": ""}}, "GetSecretValue")
            return {"SecretString": SecretId.upper()}

    source = SecretsManagerSource.from_client(Fake())
    locs = [Locator(f"s{i}") for i in range(10)]
    result = source.fetch_many(locs)
    assert [result[loc].text for loc in locs] == [f"S{i}" for i in range(10)]
    with pytest.raises(FetchError) as info:
        source.fetch_many([Locator("ok"), Locator("missing-1"), Locator("missing-2")])
    assert "missing-1" in str(info.value)


@pytest.mark.parametrize(
    ("code", "message", "status", "words"),
    [
        (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret.",
            400,
            ["'APIKEYS'", "not found", "eu-west-1"],
        ),
        (
            "AccessDeniedException",
            f"User: arn:aws:iam::1:user/bot is not authorized to perform: {GET} on resource: APIKEYS",
            400,
            ["access denied", "secretsmanager:GetSecretValue", "'APIKEYS'"],
        ),
        ("AccessDeniedException", "Access to KMS is not allowed", 400, ["kms:Decrypt", "'APIKEYS'"]),
        (
            "DecryptionFailure",
            "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
            400,
            ["kms:Decrypt"],
        ),
        ("403", "", 403, ["access denied", "secretsmanager:GetSecretValue"]),
        (
            "InvalidRequestException",
            "You can't perform this operation on the secret because it was marked for deletion.",
            400,
            ["scheduled for deletion", "restore-secret"],
        ),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            400,
            ["rejected the credentials"],
        ),
        ("ThrottlingException", "Rate exceeded", 400, ["throttled"]),
        ("InternalServiceError", "boom", 500, ["InternalServiceError"]),
    ],
)
def test_client_errors_become_one_line(
    client: Any, stub: Stubber, code: str, message: str, status: int, words: list[str]
) -> None:
    stub.add_client_error("get_secret_value", code, message, status)
    with pytest.raises(FetchError) as info:
        SecretsManagerSource.from_client(client).fetch_one(Locator("APIKEYS"))
    text = str(info.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text
    assert info.value.exit_code == 125


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (bx.NoCredentialsError(), ["no AWS credentials", "AWS_PROFILE"]),
        (bx.NoRegionError(), ["no AWS region"]),
        (bx.EndpointConnectionError(endpoint_url="https://x"), ["cannot connect to", "--endpoint-url"]),
        (bx.ConnectTimeoutError(endpoint_url="https://x"), ["timed out"]),
        (bx.ReadTimeoutError(endpoint_url="https://x"), ["timed out"]),
        (ResponseParserError(f"Unable to parse response b'{CANARY}'"), ["could not be read"]),
        (bx.TokenRetrievalError(provider="sso", error_msg="Token has expired"), ["sso", "aws sso login"]),
        (ValueError(CANARY), ["unexpected ValueError"]),
    ],
)
def test_other_failures(client: Any, exc: BaseException, words: list[str]) -> None:
    text = str(translate(exc, "secret 'APIKEYS'", client, GET))
    for w in words:
        assert w in text, text
    assert CANARY not in text


def test_denied_action_reads_the_action_from_the_message() -> None:
    msg = "is not authorized to perform: secretsmanager:BatchGetSecretValue on resource: kms-named-secret"
    assert denied_action("AccessDeniedException", msg, "x") == "secretsmanager:BatchGetSecretValue"
    assert (
        denied_action("AccessDeniedException", "", "secretsmanager:GetSecretValue") == "secretsmanager:GetSecretValue"
    )


def test_unknown_errors_stay_on_one_line(client: Any, stub: Stubber) -> None:
    stub.add_client_error("get_secret_value", "500", "<!doctype html>\n<title>500</title>\n<p>oops</p>", 500)
    with pytest.raises(FetchError) as info:
        SecretsManagerSource.from_client(client).fetch_one(Locator("APIKEYS"))
    assert "\n" not in str(info.value)
    assert "not an AWS error (HTTP 500)" in str(info.value)
    assert "oops" not in str(info.value)
    long = translate(
        bx.ClientError({"Error": {"Code": "X", "Message": "a\nb " * 300}}, "Op"), "secret 's'", client, GET
    )
    assert "\n" not in str(long)
    assert len(str(long)) < 300


@pytest.mark.parametrize("name", ["prod/app/\x1b[2Jx", "prod/app/a\nenvinject: forged", "prod/app/a\u202eb"])
def test_a_selection_answer_with_a_name_no_secret_can_have_is_one_clear_error(
    client: Any, stub: Stubber, name: object
) -> None:
    stub.add_response(
        "batch_get_secret_value",
        {"SecretValues": [{"Name": name, "ARN": ARN, "SecretString": CANARY, "VersionId": "v" * 32}], "Errors": []},
        {"Filters": [{"Key": "name", "Values": ["prod/app/"]}], "MaxResults": 20},
    )
    with pytest.raises(FetchError) as info:
        SecretsManagerSource.from_client(client).fetch_one(Locator("prod/app/*"))
    message = str(info.value)
    assert "secrets under 'prod/app/'" in message and "name that no secret can have" in message
    assert CANARY not in message and "\x1b" not in message and "\n" not in message


def test_a_tag_selection_pages_through_list_secrets_and_keeps_the_exact_pair(client: Any, stub: Stubber) -> None:
    filters = [{"Key": "tag-key", "Values": ["app"]}, {"Key": "tag-value", "Values": ["billing"]}]
    page = [
        {"Name": "a", "ARN": ARN, "Tags": [{"Key": "app", "Value": "billing"}]},
        {
            "Name": "b",
            "ARN": ARN + "b",
            "Tags": [{"Key": "app", "Value": "billing2"}, {"Key": "apps", "Value": "billing"}],
        },
    ]
    stub.add_response("list_secrets", {"SecretList": page, "NextToken": "t"}, {"Filters": filters, "MaxResults": 100})
    stub.add_response("list_secrets", {"SecretList": []}, {"Filters": filters, "MaxResults": 100, "NextToken": "t"})
    stub.add_response(
        "get_secret_value", {"Name": "a", "ARN": ARN, "SecretString": "{}", "VersionId": "v" * 32}, {"SecretId": ARN}
    )
    source = SecretsManagerSource.from_client(client)
    payload = source.fetch_one(Locator("", tag=("app", "billing")))
    assert [name for name, _ in payload.members or ()] == ["a"]
    assert source.requests == {"ListSecrets": 2, "GetSecretValue": 1}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"ARN": "arn:x", "SecretString": "{\\"token\\": \\"' + CANARY.encode() + b"-and-more"),  # cut off
        (502, b"upstream said: " + CANARY.encode()),  # not JSON at all
        (503, b'{"message": "' + CANARY.encode() + b'"}'),  # JSON, but no AWS error code in it
        (403, b"not authorized to perform: sk-" + CANARY.encode() + b":x1"),  # a denial without a document
    ],
)
def test_a_raw_error_body_is_never_shown(client: Any, status: int, body: bytes) -> None:
    # botocore's own parser puts a body that is no AWS error document into Error.Message, whole.
    parser = botocore.parsers.create_parser("json")
    op = client.meta.service_model.operation_model("GetSecretValue")
    headers = {"content-length": str(len(body))}
    parsed = parser.parse({"status_code": status, "headers": headers, "body": body}, op.output_shape)
    assert CANARY in str(parsed["Error"])
    text = str(translate(bx.ClientError(parsed, "GetSecretValue"), "secret 'APIKEYS'", client, GET))
    assert CANARY not in text
    assert "\n" not in text
    if status != 403:
        assert f"not an AWS error (HTTP {status}, {len(body)} bytes)" in text, text


def test_an_aws_error_document_is_shown(client: Any) -> None:
    parser = botocore.parsers.create_parser("json")
    op = client.meta.service_model.operation_model("GetSecretValue")
    body = b'{"__type": "InvalidParameterException", "message": "You provided an invalid value."}'
    parsed = parser.parse({"status_code": 400, "headers": {}, "body": body}, op.output_shape)
    text = str(translate(bx.ClientError(parsed, "GetSecretValue"), "secret 'APIKEYS'", client, GET))
    assert "InvalidParameterException: You provided an invalid value." in text


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, b"<oops " + CANARY.encode()), (403, b"<Foo>" + CANARY.encode() + b"</Foo>"), (500, CANARY.encode())],
)
def test_a_raw_xml_error_body_is_never_shown(status: int, body: bytes) -> None:
    # STS speaks the query protocol: its errors are XML documents, and anything else is no AWS error.
    sts = botocore.session.get_session().create_client(
        "sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    op = sts.meta.service_model.operation_model("GetCallerIdentity")
    response = {"status_code": status, "headers": {"content-length": str(len(body))}, "body": body}
    try:
        exc: BaseException = bx.ClientError(
            botocore.parsers.create_parser("query").parse(response, op.output_shape), "X"
        )
    except ResponseParserError as e:  # its text quotes the body
        exc = e
    text = str(translate(exc, "the caller's identity", sts, "sts:GetCallerIdentity"))
    assert CANARY not in text
    assert "\n" not in text


#: Bodies that are no AWS error document, each holding a value: cut off, not JSON, JSON without a code, a
#: PEM key's lines.
NOT_DOCUMENTS = [
    b'{"ARN": "arn:x", "SecretString": "{\\"token\\": \\"' + CANARY.encode(),
    b"upstream said: " + CANARY.encode(),
    b'{"message": "' + CANARY.encode() + b'"}',
    b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B" + CANARY.encode() + b"\n-----END PRIVATE KEY-----\n",
]
#: What an endpoint may put in x-amzn-query-error: a real code, one that asks for a retry or a denial, and text
#: that forges a line.
HEADER_CODES = st.one_of(
    st.sampled_from(["AWS.SimpleQueueService.NonExistentQueue", "ThrottlingException", "AccessDenied", "Forged"]),
    st.text(st.characters(codec="latin-1", exclude_characters=";\r\n"), min_size=1, max_size=40),
)


def _parsed(client: Any, status: int, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    parser = botocore.parsers.create_parser("json")
    op = client.meta.service_model.operation_model("GetSecretValue")
    response = {"status_code": status, "headers": {"content-length": str(len(body)), **headers}, "body": body}
    return dict(parser.parse(response, op.output_shape))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=HEADER_CODES, body=st.sampled_from(NOT_DOCUMENTS), status=st.sampled_from([400, 403, 404, 500, 503]))
@example(code="InvalidParameterValue", body=NOT_DOCUMENTS[1], status=400)
def test_a_query_error_header_never_vouches_for_a_body(client: Any, code: str, body: bytes, status: int) -> None:
    # botocore takes the header's code, and the raw body as the message, when the body is no error document.
    parsed = _parsed(client, status, body, {"x-amzn-query-error": f"{code};Sender"})
    text = str(translate(bx.ClientError(parsed, "GetSecretValue"), "secret 'APIKEYS'", client, GET))
    assert CANARY not in text and "\n" not in text
    if status != 403:  # a 403 is a denial, by its status alone
        assert f"not an AWS error (HTTP {status}, {len(body)} bytes)" in text, text
    LAST_FAILURES.clear()
    LAST_FAILURES.record(endpoint=None, response=(_Answer(status), parsed))
    failures = [str(f) for f in LAST_FAILURES.get()]
    assert failures == [f"the AWS endpoint answered HTTP {status}, {len(body)} bytes"], failures


#: Characters no AWS error code holds: controls, escapes, separators, quotes, bidirectional overrides.
NOT_IN_A_CODE = st.characters(exclude_categories=["Lu", "Ll", "Nd"], exclude_characters="_.-:#")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), odd=NOT_IN_A_CODE, status=st.sampled_from([400, 500]))
@example(head="X", odd="\x1b", status=500)
@example(head="X", odd="\r", status=500)
def test_a_code_that_is_no_name_makes_no_document(client: Any, head: str, odd: str, status: int) -> None:
    body = json.dumps({"__type": f"{head}{odd}envinject fetched", "message": "try again"}).encode()
    parsed = _parsed(client, status, body, {})
    text = str(translate(bx.ClientError(parsed, "GetSecretValue"), "secret 'APIKEYS'", client, GET))
    assert f"not an AWS error (HTTP {status}, {len(body)} bytes)" in text, text
    assert "envinject fetched" not in text
    LAST_FAILURES.clear()
    LAST_FAILURES.record(endpoint=None, response=(_Answer(status), parsed))
    assert [str(f) for f in LAST_FAILURES.get()] == [f"the AWS endpoint answered HTTP {status}, {len(body)} bytes"]


class _Answer:
    """The HTTP response botocore's needs-retry event carries: only its status is read."""

    def __init__(self, status: int) -> None:
        self.status_code = status
