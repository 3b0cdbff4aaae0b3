"""Snapshots of generated policies: names, ARNs, several regions, KMS keys, batch."""

from envinject.commands.policy import Account, build_policy, key_arn
from envinject.rules.refs import Locator
from envinject.sources.secretsmanager import secret_resource

HERE = Account("aws", "123456789012", "us-east-1")
ARN_EU = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"


def test_names_get_the_random_suffix_pattern() -> None:
    assert (
        secret_resource(Locator("APIKEYS"), HERE)
        == "arn:aws:secretsmanager:us-east-1:123456789012:secret:APIKEYS-??????"
    )
    assert secret_resource(Locator(ARN_EU), HERE) == ARN_EU
    partial = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"
    assert secret_resource(Locator(partial), HERE) == partial + "-??????"
    gov = Account("aws-us-gov", "111122223333", "us-gov-west-1")
    assert (
        secret_resource(Locator("x"), gov) == "arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:x-??????"
    )


def test_single_secret_policy() -> None:
    assert build_policy([Locator("APIKEYS")], HERE, batch=True) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:APIKEYS-??????"],
            }
        ],
    }


def test_several_regions_batch_and_kms() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    doc = build_policy(
        [Locator("a"), Locator("b"), Locator(ARN_EU), Locator("a", "AWSPREVIOUS")],
        HERE,
        batch=True,
        kms_keys={key: {"secretsmanager.eu-west-1.amazonaws.com"}},
    )
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [
                    ARN_EU,
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-??????",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:b-??????",
                ],
            },
            {"Sid": "BatchReadSecrets", "Effect": "Allow", "Action": "secretsmanager:BatchGetSecretValue",
             "Resource": "*"},
            {
                "Sid": "Decrypt2",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
            },
        ],
    }  # fmt: skip


def test_no_batch_statement_without_batching() -> None:
    # one secret per region, pinned versions, or --no-batch: a run never calls BatchGetSecretValue
    for locators, batch in (
        ([Locator("a"), Locator(ARN_EU)], True),
        ([Locator("a", "AWSPREVIOUS"), Locator("b", version_id="v")], True),
        ([Locator("a"), Locator("b")], False),
    ):
        actions = [s["Action"] for s in build_policy(locators, HERE, batch=batch)["Statement"]]
        assert actions == ["secretsmanager:GetSecretValue"]


def test_key_arn() -> None:
    assert key_arn("1234", HERE) == "arn:aws:kms:us-east-1:123456789012:key/1234"
    assert key_arn("arn:aws:kms:eu-west-1:1:key/x", HERE) == "arn:aws:kms:eu-west-1:1:key/x"


def test_parameters_and_paths() -> None:
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/shared/flag"
    locators = [Locator("/myapp/prod/", backend="ssm"), Locator("/myapp/db", "blue", backend="ssm"),
                Locator(arn, backend="ssm"), Locator("APIKEYS")]  # fmt: skip
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    via = {"ssm.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"}
    doc = build_policy(locators, HERE, batch=True, kms_keys={key: via})
    assert doc["Statement"] == [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:APIKEYS-??????"]},
        {"Sid": "ReadParameters", "Effect": "Allow",
         "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
         "Resource": [arn,
                      "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/db",
                      "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/prod",
                      "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/prod/*"]},
        {"Sid": "Decrypt2", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
         "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com",
                                                           "ssm.us-east-1.amazonaws.com"]}}},
    ]  # fmt: skip
    only = build_policy([Locator("plain", backend="ssm")], HERE, batch=True)["Statement"]
    assert [s["Sid"] for s in only] == ["ReadParameters"]
    assert only[0]["Resource"] == ["arn:aws:ssm:us-east-1:123456789012:parameter/plain"]


def test_a_name_prefix_grants_its_names_and_list_secrets() -> None:
    statements = build_policy([Locator("prod/app/*"), Locator("APIKEYS")], HERE, batch=True)["Statement"]
    assert statements == [
        {
            "Sid": "ReadSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:APIKEYS-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/*",
            ],
        },
        {"Sid": "BatchReadSecrets", "Effect": "Allow", "Action": "secretsmanager:BatchGetSecretValue", "Resource": "*"},
        {"Sid": "ListSecrets", "Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"},
    ]
    # Without batching, ListSecrets finds them and GetSecretValue reads them.
    no_batch = build_policy([Locator("prod/app/*")], HERE, batch=False)["Statement"]
    assert [s["Action"] for s in no_batch] == ["secretsmanager:GetSecretValue", "secretsmanager:ListSecrets"]


def test_a_tag_grants_reads_only_of_secrets_carrying_it() -> None:
    statements = build_policy([Locator("", tag=("app", "billing"))], HERE, batch=False)["Statement"]
    assert statements == [
        {
            "Sid": "ReadTagged0",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
            "Condition": {"StringEquals": {"secretsmanager:ResourceTag/app": "billing"}},
        },
        {"Sid": "ListSecrets", "Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"},
    ]
