"""The AWS adapter: the only code that imports aiobotocore, botocore or aiohttp.

It hands the rest of the collector plain values (each resource's records, normalized from
the decoded JSON; account lists) and raises only `AwsError` and `ConfigError`;
`errors.translate` is the one place where botocore's and the transport's exceptions are
mapped.
"""

from .aws import Aws, open_aws
from .clients import AwsClients, AwsOptions
from .credentials import acting_as
from .listing import KnownRecords, ListingPlan, list_resource
from .organizations import OrganizationCalls, organization_accounts
from .probe import probe_listing
from .retry import Attempts, RetryPolicy, call_with_retries

__all__ = [
    "Attempts",
    "Aws",
    "AwsClients",
    "AwsOptions",
    "KnownRecords",
    "ListingPlan",
    "OrganizationCalls",
    "RetryPolicy",
    "acting_as",
    "call_with_retries",
    "list_resource",
    "open_aws",
    "organization_accounts",
    "probe_listing",
]
