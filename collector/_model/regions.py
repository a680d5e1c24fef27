"""The regions where AppFlow runs, and which regions accounts must opt in to.

botocore's endpoint resolver builds a host name for any region string, so a typo in a region
would only show up as a connection error. At run start the collector checks regions against
botocore's endpoint data for the caller's partition; `APPFLOW_REGIONS` is the fallback when
that data names none, and `REGION_SYNTAX` the check that settings can make offline.
"""

from __future__ import annotations

import re

APPFLOW_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

# What a region name looks like in any partition: us-east-1, us-gov-west-1, cn-north-1,
# eu-isoe-west-1, eusc-de-east-1.
REGION_SYNTAX = re.compile(r"[a-z]{2,4}(-[a-z]+){1,3}-[0-9]{1,2}", re.ASCII)

# The commercial regions enabled in every account. Every region launched since March 2019
# is opt-in, so any region not named here is treated as one.
DEFAULT_ENABLED_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)


def is_opt_in(region: str) -> bool:
    """Whether accounts must opt in to `region`: every region launched since 2019."""
    return region not in DEFAULT_ENABLED_REGIONS
