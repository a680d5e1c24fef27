"""Secrets masked in any text: what botocore logs at DEBUG, what AWS's errors quote, URLs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from collector._aws.errors import translate
from collector._config import redact, redact_secrets

KEY_ID = "ASIAQWERTYUIOPASDFGH"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDNpYcD+abc/def==ghi"
SIGNATURE = "063bfd1d86bb6162e9ac322946abbc1019e0f6913747a3d91013993d7e009569"


@pytest.mark.parametrize(
    "text",
    [
        # STS AssumeRole's answer, as botocore's parser logs the body
        f"b'<Credentials><AccessKeyId>{KEY_ID}</AccessKeyId><SecretAccessKey>{SECRET}"
        f"</SecretAccessKey><SessionToken>{TOKEN}</SessionToken></Credentials>'",
        # the parsed answer, and a credentials object's repr
        f"{{'AccessKeyId': '{KEY_ID}', 'SecretAccessKey': '{SECRET}', 'SessionToken': '{TOKEN}'}}",
        f"ReadOnlyCredentials(access_key='{KEY_ID}', secret_key='{SECRET}', token='{TOKEN}')",
        f'{{"AccessKeyId": "{KEY_ID}", "SecretAccessKey": "{SECRET}", "SessionToken": "{TOKEN}"}}',
        # a signed request's headers, as botocore's endpoint logs them
        f"headers={{'X-Amz-Security-Token': b'{TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 "
        f"Credential={KEY_ID}/20261201/us-east-1/appflow/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={SIGNATURE}'}}",
        # the canonical request and signature botocore's signer logs
        f"CanonicalRequest:\nPOST\n/\n\nhost:sts.amazonaws.com\nx-amz-security-token:{TOKEN}\n",
        f"Signature:\n{SIGNATURE}",
        # a presigned URL, shell exports, a pasted key pair
        f"https://x/?X-Amz-Credential={KEY_ID}%2F&X-Amz-Security-Token={TOKEN}"
        f"&X-Amz-Signature={SIGNATURE}",
        f"export AWS_SECRET_ACCESS_KEY={SECRET} AWS_SESSION_TOKEN={TOKEN} # {KEY_ID}",
        f"aws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}",
        f"keys: {KEY_ID} {SECRET}",
    ],
)
def test_aws_credentials_are_masked(text: str) -> None:
    """Key ids, secret keys, session tokens and signatures are masked wherever they appear."""
    masked = redact_secrets(text)
    for secret in (KEY_ID, SECRET, TOKEN, SIGNATURE):
        assert secret not in masked
    assert "***" in masked


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("postgresql://inventory:s3cret@db.internal/inventory", "s3cret"),
        ("postgresql://inventory:pa55@word@db.internal:5432/inventory", "pa55@word"),
        ("postgresql://inventory@db/inventory?password=s3cret&sslmode=verify-full", "s3cret"),
        ("host=db user=inventory password=s3cret dbname=inventory", "s3cret"),
        ('{"PGPASSWORD": "s3cret"}', "s3cret"),
    ],
)
def test_database_passwords_are_masked(text: str, password: str) -> None:
    """A password in a URL (an unencoded `@` in it too), a parameter or a variable is masked."""
    masked = redact_secrets(text)
    assert password not in masked
    assert masked == text.replace(password, "***")


def test_ordinary_text_is_left_alone() -> None:
    """Names that merely contain `token` or `Authorization`, and plain URLs, are not masked."""
    text = (
        '{"nextToken": "abc", "isAuthorizationEnabled": false, "Authorization": false} '
        "postgresql://inventory@db.internal:5432/inventory "
        "arn:aws:iam::123456789012:role/AppFlowInventoryReader"
    )
    assert redact_secrets(text) == text


def test_redact_masks_the_whole_password_of_a_url() -> None:
    """`redact` masks a password with an unencoded `@` up to the host, and `password=`."""
    assert redact("postgresql://u:pa55@word@db/x") == "postgresql://u:***@db/x"
    assert redact("postgresql://u@db/x?password=s3cret") == "postgresql://u@db/x?password=***"


def test_aws_error_messages_are_masked_before_they_are_stored() -> None:
    """AWS's SignatureDoesNotMatch quotes the canonical request, session token included: the
    `AwsError` (stored in `collection_scopes.error_message`) holds it masked."""
    message = (
        "The request signature we calculated does not match the signature you provided.\n"
        f"The Canonical String for this request should have been\n'POST\n/\n\n"
        f"host:sts.us-east-1.amazonaws.com\nx-amz-security-token:{TOKEN}\n'"
    )
    error = ClientError(
        {
            "Error": {"Code": "SignatureDoesNotMatch", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "AssumeRole",
    )
    translated = translate(error)
    assert translated is not None
    assert TOKEN not in translated.message
    assert TOKEN not in str(translated)
    assert "x-amz-security-token:***" in translated.message
