"""botocore's service models are shared by the runs of a process (`collector._aws.models`):
sound only while nothing writes into them."""

from __future__ import annotations

from botocore.loaders import Loader

from collector._aws import models
from collector.simulator import Simulator, generate_organization

from ..support import Cli

REGIONS = ("us-east-1", "eu-west-1")


def test_a_run_leaves_the_shared_models_as_botocore_reads_them(cli: Cli, sqlite_url: str) -> None:
    """After runs of every resource, through Organizations discovery, assumed roles and
    pages, each shared model still equals a fresh read of its file: no part of botocore,
    aiobotocore or the collector wrote into it."""
    org = generate_organization(seed=17, accounts=3, regions=REGIONS, flows_per_profile=1.0)
    with Simulator(org) as sim:
        assert cli.collect(sqlite_url, sim, "all").code == 0
        assert cli.collect(sqlite_url, sim, REGIONS).code == 0
    shared = {key: model for key, model in models._SHARED.items() if key[2] == "model"}
    services = {key[3] for key in shared}
    assert {"appflow", "organizations", "sts"} <= services, services
    for (paths, _, _, *args), model in shared.items():
        fresh = Loader(extra_search_paths=list(paths), include_default_search_paths=False)
        assert model == fresh.load_service_model(*args), args
