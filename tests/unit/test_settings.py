"""Settings from flags, `COLLECTOR_*` variables and a TOML file; and the listing filter."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from collector._config import Settings, load_settings
from collector._config.options import FILE_ONLY_KEYS, OPTIONS
from collector._config.settings import ALL_REGIONS
from collector._errors import ConfigError
from collector._model.resource import ListingFilter
from collector._model.resources import PROFILES

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collector.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(flags: dict[str, Any] | None = None, **environ: str) -> Settings:
    """Load with only the given flags and variables: the real environment is ignored."""
    return load_settings(flags or {}, environ)


def config_error(flags: dict[str, Any] | None = None, **environ: str) -> str:
    """The one-line message of the ConfigError the given input raises."""
    with pytest.raises(ConfigError) as info:
        load(flags, **environ)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- sources and precedence --------------------------------------------------------------------


def test_defaults_without_any_source() -> None:
    """With no flag, variable or file, the documented defaults apply."""
    settings = load()
    assert settings.database_url == "sqlite:///collector.db"
    assert settings.accounts == ()
    assert settings.organization is False
    assert settings.role_name is None
    # All AppFlow regions of the caller's partition, resolved when the run starts.
    assert settings.regions == ALL_REGIONS
    assert settings.concurrency == 100
    assert settings.max_attempts == 5
    assert settings.filtered is False


def test_the_real_environment_is_not_read_when_environ_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An explicit `environ` mapping replaces `os.environ`."""
    monkeypatch.setenv("COLLECTOR_CONCURRENCY", "7")
    assert load().concurrency == 100


def test_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    """For each option a flag wins over `COLLECTOR_<OPTION>`, which wins over the file."""
    path = write_config(
        tmp_path,
        'concurrency = 10\nmax_attempts = 2\nregions = ["eu-west-1"]\n'
        'database_url = "sqlite:///from-file.db"\nrole_name = "FileRole"\n',
    )
    env = {
        "COLLECTOR_CONCURRENCY": "20",
        "COLLECTOR_MAX_ATTEMPTS": "3",
        "COLLECTOR_DATABASE_URL": "sqlite:///from-env.db",
    }
    settings = load_settings({"config": str(path), "concurrency": "30"}, env)
    assert settings.concurrency == 30
    assert settings.max_attempts == 3
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.regions == ("eu-west-1",)
    assert settings.role_name == "FileRole"


def test_environment_beats_file(tmp_path: Path) -> None:
    """Without a flag the variable wins over the file."""
    path = write_config(tmp_path, "concurrency = 10\n")
    assert load({"config": str(path)}, COLLECTOR_CONCURRENCY="20").concurrency == 20
    assert load({"config": str(path)}).concurrency == 10


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    """`COLLECTOR_CONFIG` names the file when `--config` is not given."""
    path = write_config(tmp_path, 'regions = ["us-west-2", "eu-central-1"]\n')
    assert load(COLLECTOR_CONFIG=str(path)).regions == ("us-west-2", "eu-central-1")


def test_config_flag_beats_config_variable(tmp_path: Path) -> None:
    """`--config` wins over `COLLECTOR_CONFIG`."""
    flag_file = write_config(tmp_path, "concurrency = 3\n")
    env_file = tmp_path / "other.toml"
    env_file.write_text("concurrency = 4\n", encoding="utf-8")
    assert load({"config": str(flag_file)}, COLLECTOR_CONFIG=str(env_file)).concurrency == 3


def test_config_file_with_a_collector_table_and_dashed_keys(tmp_path: Path) -> None:
    """Keys may sit in a `[collector]` table and be spelled like the flags, with dashes."""
    path = write_config(
        tmp_path,
        '[collector]\nmax-attempts = 2\nrole-name = "Inventory"\n'
        'accounts = ["111111111111", "222222222222"]\n',
    )
    settings = load({"config": str(path)})
    assert settings.max_attempts == 2
    assert settings.role_name == "Inventory"
    assert settings.accounts == (ACCOUNT_A, ACCOUNT_B)


def test_comma_separated_lists_from_flags_and_environment() -> None:
    """Lists given as text are split on commas and stripped."""
    settings = load(
        {"regions": "us-east-1, eu-west-1"},
        COLLECTOR_ACCOUNTS=f"{ACCOUNT_A}, {ACCOUNT_B}",
        COLLECTOR_ROLE_NAME="Inventory",
    )
    assert settings.regions == ("us-east-1", "eu-west-1")
    assert settings.accounts == (ACCOUNT_A, ACCOUNT_B)


def test_regions_all_and_duplicates() -> None:
    """`all` stays `all` until the partition is known; a region listed twice is listed once."""
    assert load({"regions": "all"}).regions == ALL_REGIONS
    assert load({"regions": "us-east-1,us-east-1"}).regions == ("us-east-1",)


def test_boolean_from_the_environment() -> None:
    """`COLLECTOR_ORGANIZATION=true` turns on account discovery."""
    assert load(COLLECTOR_ORGANIZATION="true", COLLECTOR_ROLE_NAME="Reader").organization is True
    assert load(COLLECTOR_ORGANIZATION="0").organization is False


def test_empty_variable_counts_as_unset() -> None:
    """An empty `COLLECTOR_*` variable is ignored rather than read as an empty value."""
    assert load(COLLECTOR_CONCURRENCY="").concurrency == 100


def test_allowed_limits_the_options_read() -> None:
    """A command that needs only the database ignores the other options' variables."""
    settings = load_settings(
        {},
        {"COLLECTOR_DATABASE_URL": "sqlite:///x.db", "COLLECTOR_CONCURRENCY": "not a number"},
        allowed=frozenset({"database_url"}),
    )
    assert settings.database_url == "sqlite:///x.db"
    assert settings.concurrency == 100


def test_targeted_refresh_flags_make_the_settings_filtered() -> None:
    """`--connector-type` or `--profile-name` marks the run as a filtered one."""
    assert load({"connector_type": "Salesforce"}).filtered is True
    settings = load({"profile_name": ["sales/prod", "hr+1"]})
    assert settings.profile_name == ("sales/prod", "hr+1")
    assert settings.filtered is True


# --- account ids -------------------------------------------------------------------------------


def test_leading_zero_account_id_is_kept_as_text(tmp_path: Path) -> None:
    """An account id with leading zeros is valid and kept as its 12-character string."""
    assert load({"accounts": "012345678901"}).accounts == ("012345678901",)
    assert load(COLLECTOR_ACCOUNTS="000000000042").accounts == ("000000000042",)
    path = write_config(tmp_path, 'accounts = ["001234567890"]\n')
    assert load({"config": str(path)}).accounts == ("001234567890",)


@pytest.mark.parametrize(
    "account",
    ["12345678901", "1234567890123", "12345678901a", "1234-5678-9012", "arn:aws:iam::1:root"],
)
def test_malformed_account_id(account: str) -> None:
    """An account id that is not 12 digits is refused, naming the id."""
    assert account in config_error({"accounts": account})


def test_account_id_of_non_ascii_digits_is_refused() -> None:
    """An account id is 12 ASCII digits: full-width or other Unicode digits are refused."""
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in "123456789012")
    assert full_width.isdigit()
    assert full_width in config_error({"accounts": full_width})


def test_duplicate_accounts() -> None:
    """The same account twice is refused."""
    message = config_error({"accounts": f"{ACCOUNT_A},{ACCOUNT_A}", "role_name": "Inventory"})
    assert "more than once" in message


@pytest.mark.parametrize("accounts", ["", ",", " , "])
def test_empty_account_list(accounts: str) -> None:
    """An account list with no account in it is refused."""
    assert "empty" in config_error({"accounts": accounts})


def test_empty_account_list_in_file(tmp_path: Path) -> None:
    """`accounts = []` in the file is refused too."""
    path = write_config(tmp_path, "accounts = []\n")
    assert "empty" in config_error({"config": str(path)})


def test_accounts_and_organization_together() -> None:
    """Explicit accounts and organization discovery exclude each other."""
    message = config_error({"accounts": ACCOUNT_A, "organization": True})
    assert "--accounts" in message
    assert "--organization" in message


def test_several_accounts_need_a_role_name() -> None:
    """More than one account without a role to assume is refused."""
    assert "--role-name" in config_error({"accounts": f"{ACCOUNT_A},{ACCOUNT_B}"})
    assert load({"accounts": ACCOUNT_A}).accounts == (ACCOUNT_A,)


# --- regions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["moon-1", "US-EAST-1", "us_east_1", "us-east", "east-1-us"])
def test_region_that_is_not_a_region_name(region: str) -> None:
    """A value that cannot be a region name is refused offline, naming it (whether AppFlow
    runs in a well-formed region is checked at run start, against the caller's partition)."""
    assert repr(region) in config_error({"regions": f"us-east-1,{region}"})


@pytest.mark.parametrize("region", ["us-east-7", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"])
def test_well_formed_regions_pass_the_offline_check(region: str) -> None:
    """Any well-formed region name passes settings; membership is the AWS adapter's check."""
    assert load({"regions": f"us-east-1,{region}"}).regions == ("us-east-1", region)


def test_all_mixed_with_regions() -> None:
    """`all` cannot be combined with named regions."""
    assert "all" in config_error({"regions": "all,us-east-1"})


def test_empty_region_list() -> None:
    """A region list with no region is refused."""
    assert "empty" in config_error({"regions": ","})


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "-100"])
def test_concurrency_must_be_positive(value: str) -> None:
    """Concurrency 0 or negative is refused."""
    message = config_error({"concurrency": value})
    assert "concurrency" in message
    assert value in message


def test_max_attempts_zero() -> None:
    """Zero attempts is refused."""
    assert "max-attempts" in config_error({"max_attempts": "0"})


def test_non_numeric_concurrency_in_environment() -> None:
    """A non-numeric `COLLECTOR_CONCURRENCY` is refused, naming the variable and value."""
    message = config_error(COLLECTOR_CONCURRENCY="lots")
    assert "COLLECTOR_CONCURRENCY" in message
    assert "lots" in message


def test_non_numeric_flag() -> None:
    """A non-numeric `--max-attempts` is refused, naming the flag."""
    assert "--max-attempts" in config_error({"max_attempts": "2.5"})


def test_timeout_must_be_positive() -> None:
    """A zero or negative timeout is refused."""
    assert "--read-timeout" in config_error({"read_timeout": "0"})
    assert "--connect-timeout" in config_error({"connect_timeout": "-1"})


@pytest.mark.parametrize("name", ["read_timeout", "connect_timeout"])
def test_timeout_must_be_a_number(name: str) -> None:
    """A timeout of NaN is refused rather than handed to the HTTP client."""
    assert "timeout" in config_error({name: "nan"})


# --- file problems -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('concurrency = "x"\n', "concurrency"),
        ("accounts = 5\n", "accounts"),
        ("accounts = [123456789012]\n", "accounts"),
        ("organization = 3\n", "organization"),
        ("database_url = 5\n", "database_url"),
        ("max_attempts = true\n", "max_attempts"),
        ('regions = {name = "us-east-1"}\n', "regions"),
    ],
)
def test_wrong_types_in_file(tmp_path: Path, text: str, key: str) -> None:
    """A value of the wrong type in the file is refused, naming the file and the key."""
    path = write_config(tmp_path, text)
    message = config_error({"config": str(path)})
    assert key in message
    assert str(path) in message


def test_fractional_integer_in_file_is_refused(tmp_path: Path) -> None:
    """`concurrency = 2.5` is not an integer and is refused rather than truncated."""
    path = write_config(tmp_path, "concurrency = 2.5\n")
    assert "concurrency" in config_error({"config": str(path)})


def test_unknown_keys_in_file(tmp_path: Path) -> None:
    """Unknown keys in the file are refused, each named in the message."""
    path = write_config(tmp_path, 'concurency = 5\ncolour = "blue"\nregions = ["us-east-1"]\n')
    message = config_error({"config": str(path)})
    assert "concurency" in message
    assert "colour" in message
    assert "regions" not in message


def test_missing_config_file(tmp_path: Path) -> None:
    """A config file that does not exist is refused, naming it."""
    path = tmp_path / "nope.toml"
    message = config_error({"config": str(path)})
    assert str(path) in message
    assert "does not exist" in message


def test_invalid_toml(tmp_path: Path) -> None:
    """A file that is not TOML is refused, naming it."""
    path = write_config(tmp_path, "concurrency = = 3\n[collector\n")
    message = config_error({"config": str(path)})
    assert str(path) in message
    assert "TOML" in message


def test_config_file_not_utf8(tmp_path: Path) -> None:
    """A file that cannot be decoded is refused, naming it."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'role_name = "R\xf4le"\n')
    message = config_error({"config": str(path)})
    assert str(path) in message
    assert "cannot be read" in message


def test_config_path_is_a_directory(tmp_path: Path) -> None:
    """A config path that names a directory is refused, naming it."""
    message = config_error({"config": str(tmp_path)})
    assert str(tmp_path) in message


# --- database URL ------------------------------------------------------------------------------


def test_unsupported_database_dialect() -> None:
    """A MySQL URL is refused, naming the dialect and not leaking the password."""
    message = config_error({"database_url": "mysql://app:s3cr3t@db.internal/inventory"})
    assert "mysql" in message
    assert "s3cr3t" not in message


@pytest.mark.parametrize("url", ["not a url", "://nothing", "postgresql://u:p@h:port/db"])
def test_malformed_database_url(url: str) -> None:
    """A URL that cannot be parsed is refused with a message about the database URL."""
    assert "database URL" in config_error({"database_url": url})


def test_malformed_database_url_from_environment() -> None:
    """A malformed `COLLECTOR_DATABASE_URL` is refused too."""
    assert "database URL" in config_error(COLLECTOR_DATABASE_URL="postgresql//host/db")


def test_supported_database_urls() -> None:
    """Plain SQLite and PostgreSQL URLs as users write them are accepted unchanged."""
    for url in ("sqlite:///inventory.db", "postgresql://user:pw@host/db"):
        assert load({"database_url": url}).database_url == url


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["my profile", "a" * 257, "name;drop", "prof:1"])
def test_bad_profile_name(name: str) -> None:
    """A profile name outside the API's pattern is refused, naming it."""
    assert name in config_error({"profile_name": ["ok-name", name]})


def test_empty_profile_name_is_refused() -> None:
    """An empty `--profile-name` is refused instead of silently making the run unfiltered."""
    with pytest.raises(ConfigError):
        load({"profile_name": [""]})


@pytest.mark.parametrize(
    "name",
    [
        "my role",
        "a" * 65,
        "//Role",
        "path//Role",
        "path/",
        "path/role*",
        "role*",
        "",
        "team/my role",
        "p" * 600 + "/R",
    ],
)
def test_bad_role_name(name: str) -> None:
    """A role name that IAM would refuse is refused."""
    with pytest.raises(ConfigError, match="role name"):
        load({"role_name": name})


def test_role_name_may_start_with_the_role_path() -> None:
    """A role deployed under an IAM path is named `path/NAME` (the ARN's form, without the
    leading slash), as member-role.yaml's RolePath needs."""
    assert load({"role_name": "inventory/AppFlowInventoryReader"}).role_name == (
        "inventory/AppFlowInventoryReader"
    )


def test_role_name_must_be_ascii() -> None:
    """IAM role names are ASCII: a name with an accented letter is refused."""
    with pytest.raises(ConfigError, match="role name"):
        load({"role_name": "Rôle"})


@pytest.mark.parametrize("name", ["team/AppFlowReader", "/a/b/AppFlowReader", "ops-1/Reader"])
def test_role_name_may_carry_an_iam_path(name: str) -> None:
    """`PATH/NAME` is accepted: IAM roles may live under a path."""
    assert load({"role_name": name}).role_name == name


def test_valid_role_name_with_all_allowed_punctuation() -> None:
    """A role name using every character IAM allows is accepted."""
    name = "Inventory_Role+=,.@-1"
    assert load({"role_name": name}).role_name == name


def test_bad_external_id() -> None:
    """An external id shorter than two characters is refused."""
    assert "external id" in config_error({"external_id": "x"})


def test_bad_connector_type() -> None:
    """A connector type that is not a plain name is refused, naming it."""
    assert "Sales force" in config_error({"connector_type": "Sales force"})


# --- ListingFilter -----------------------------------------------------------------------------


def test_no_filter_is_one_full_listing() -> None:
    """Without a filter there is one listing of 100-item pages and the filter is inactive."""
    listing = ListingFilter()
    assert listing.active is False
    assert PROFILES.api.listing_requests(listing) == [{"maxResults": 100}]


def test_connector_type_and_label_filters() -> None:
    """A connector type or label is passed to the API and makes the filter active."""
    by_type = ListingFilter(connector_type="Salesforce")
    assert by_type.active is True
    assert PROFILES.api.listing_requests(by_type) == [
        {"maxResults": 100, "connectorType": "Salesforce"}
    ]
    by_label = ListingFilter(connector_type="CustomConnector", connector_label="Acme")
    assert by_label.active is True
    assert PROFILES.api.listing_requests(by_label) == [
        {"maxResults": 100, "connectorType": "CustomConnector", "connectorLabel": "Acme"}
    ]


def test_profile_names_are_split_into_chunks_of_100() -> None:
    """More than 100 profile names become several requests of at most 100 names each."""
    names = tuple(f"profile-{i:03d}" for i in range(250))
    listing = ListingFilter(connector_type="Slack", profile_names=names)
    assert listing.active is True
    requests = PROFILES.api.listing_requests(listing)
    assert [len(r["connectorProfileNames"]) for r in requests] == [100, 100, 50]
    assert [n for r in requests for n in r["connectorProfileNames"]] == list(names)
    for request in requests:
        assert request["connectorType"] == "Slack"
        assert 1 <= request["maxResults"] <= 100


@pytest.mark.parametrize(("count", "chunks"), [(1, [1]), (100, [100]), (101, [100, 1])])
def test_chunk_boundaries(count: int, chunks: list[int]) -> None:
    """Exactly 100 names fit in one request; the 101st starts another."""
    names = tuple(f"p{i}" for i in range(count))
    requests = PROFILES.api.listing_requests(ListingFilter(profile_names=names))
    assert [len(r["connectorProfileNames"]) for r in requests] == chunks


def test_repeated_profile_names_are_asked_for_once() -> None:
    """A name given twice is requested once."""
    requests = PROFILES.api.listing_requests(ListingFilter(profile_names=("a", "b", "a")))
    assert requests == [{"maxResults": 100, "connectorProfileNames": ["a", "b"]}]


# --- organization scoping ----------------------------------------------------------------------

OU_PROD = "ou-ab12-prod1234"
OU_DEV = "ou-ab12-dev12345"


def test_scoping_options_from_flags_environment_and_file(tmp_path: Path) -> None:
    """The exclusion and OU lists come from flags, variables or the file like other lists."""
    path = write_config(
        tmp_path,
        f'organization = true\nrole-name = "Reader"\nexclude-organizational-units = ["{OU_DEV}"]\n',
    )
    settings = load(
        {"config": str(path), "organizational_units": f"{OU_PROD}, r-ab12"},
        COLLECTOR_EXCLUDE_ACCOUNTS=f"{ACCOUNT_A},{ACCOUNT_B}",
    )
    assert settings.organizational_units == (OU_PROD, "r-ab12")
    assert settings.exclude_organizational_units == (OU_DEV,)
    assert settings.exclude_accounts == (ACCOUNT_A, ACCOUNT_B)


@pytest.mark.parametrize(
    "ou", ["ou-ab12", "ou-AB12-abcdefgh", "ou-ab12-abcdefg", "r-ab1", "o-abcdefghij", "ab12"]
)
def test_malformed_ou_id(ou: str) -> None:
    """An OU id that is neither ou-xxxx-xxxxxxxx nor a root r-xxxx is refused, naming it."""
    message = config_error({"organization": True, "organizational_units": ou})
    assert repr(ou) in message
    assert "--organizational-units" in message


@pytest.mark.parametrize("name", ["organizational_units", "exclude_organizational_units"])
def test_ou_options_need_organization(name: str) -> None:
    """The OU options narrow organization discovery, so without it they are refused."""
    flag = "--" + name.replace("_", "-")
    assert f"{flag} needs --organization" == config_error({name: OU_PROD})


@pytest.mark.parametrize(
    "name", ["exclude_accounts", "organizational_units", "exclude_organizational_units"]
)
def test_empty_scoping_list(name: str) -> None:
    """A scoping list given with nothing in it is refused rather than ignored."""
    assert "is empty" in config_error({"organization": True, name: " , "})


def test_malformed_excluded_account() -> None:
    """An excluded account id that is not 12 digits is refused, naming it."""
    message = config_error({"organization": True, "exclude_accounts": "1234"})
    assert "--exclude-accounts" in message
    assert "'1234'" in message


def test_account_regions_from_the_file(tmp_path: Path) -> None:
    """`[account_regions]` maps accounts to regions or "all"; others keep `regions`."""
    path = write_config(
        tmp_path,
        'regions = ["us-east-1"]\n[account_regions]\n'
        f'"{ACCOUNT_B}" = ["eu-west-1", "us-west-2", "eu-west-1"]\n'
        f'"{ACCOUNT_A}" = "all"\n'
        '"012345678901" = "ap-south-1, ca-central-1"\n',
    )
    settings = load({"config": str(path)})
    assert settings.account_regions == (
        ("012345678901", ("ap-south-1", "ca-central-1")),
        (ACCOUNT_A, ALL_REGIONS),
        (ACCOUNT_B, ("eu-west-1", "us-west-2")),
    )
    assert settings.regions_for(ACCOUNT_B) == ("eu-west-1", "us-west-2")
    assert settings.regions_for(ACCOUNT_A) == ALL_REGIONS
    assert settings.regions_for("333333333333") == ("us-east-1",)
    assert hash(settings) == hash(load({"config": str(path)}))


def test_account_regions_in_a_collector_table(tmp_path: Path) -> None:
    """Inside a `[collector]` table the overrides are `[collector.account_regions]`."""
    path = write_config(
        tmp_path,
        '[collector]\nregions = "all"\n'
        f'[collector.account_regions]\n"{ACCOUNT_A}" = ["sa-east-1"]\n',
    )
    assert load({"config": str(path)}).regions_for(ACCOUNT_A) == ("sa-east-1",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('account_regions = ["us-east-1"]', "must be a table"),
        ('[account_regions]\n"1234" = ["us-east-1"]', "account id '1234' is not 12 digits"),
        (f'[account_regions]\n"{ACCOUNT_A}" = ["mars-1"]', "'mars-1' is not a region name"),
        (f'[account_regions]\n"{ACCOUNT_A}" = []', f'account_regions."{ACCOUNT_A}" is empty'),
        (f'[account_regions]\n"{ACCOUNT_A}" = ["all", "us-east-1"]', "all cannot be combined"),
        (f'[account_regions]\n"{ACCOUNT_A}" = [1]', 'must be a list of regions or "all"'),
    ],
)
def test_bad_account_regions(tmp_path: Path, text: str, message: str) -> None:
    """A bad override is refused with one line naming the file, the account and the problem."""
    path = write_config(tmp_path, text + "\n")
    error = config_error({"config": str(path)})
    assert message in error
    assert str(path) in error


def test_account_regions_are_ignored_by_commands_that_do_not_read_them(tmp_path: Path) -> None:
    """`db upgrade` reads only the database URL from a file that also holds overrides."""
    path = write_config(
        tmp_path, f'database_url = "sqlite:///x.db"\n[account_regions]\n"{ACCOUNT_A}" = ["x"]\n'
    )
    settings = load_settings({"config": str(path)}, {}, allowed=frozenset({"database_url"}))
    assert settings.database_url == "sqlite:///x.db"
    assert settings.account_regions == ()


def test_every_setting_has_an_option_or_a_file_key() -> None:
    """Each `Settings` field is reachable: a flag, variable and TOML key, or a file-only key."""
    assert set(OPTIONS) | FILE_ONLY_KEYS == {f.name for f in fields(Settings)}
    assert not set(OPTIONS) & FILE_ONLY_KEYS


def test_organization_needs_a_role() -> None:
    """--organization without --role-name is refused: one set of credentials reaches one account."""
    with pytest.raises(ConfigError, match="--organization needs --role-name"):
        load_settings({"organization": True}, environ={})
    assert load_settings({"organization": True, "role_name": "Reader"}, environ={}).organization


# --- the deployment kit: Pushgateway, schema, organization role ----------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://pushgateway:9091",
        "https://push.example.com/prefix",
        "http://127.0.0.1:9091/",
        "http://[::1]:9091",
        "https://push.example.com:443/a/b",
        "http://prometheus-pushgateway.monitoring.svc:9091",
    ],
)
def test_pushgateway_url_accepts_http_and_https(url: str) -> None:
    """A Pushgateway URL is http:// or https://, host, optional port and path."""
    assert load({"pushgateway_url": url}).pushgateway_url == url


@pytest.mark.parametrize(
    "url", ["pushgateway:9091", "ftp://host", "http://user:secret@host:9091", "http://"]
)
def test_bad_pushgateway_url_is_one_line_without_credentials(url: str) -> None:
    """Anything else is refused with one line; a URL carrying credentials is refused too,
    since URLs are logged."""
    message = config_error({"pushgateway_url": url})
    assert "--pushgateway-url" in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://gateway:abc", "port must be a number"),
        ("http://gateway:99999", "port must be a number"),
        ("http://gateway:0", "port must be a number"),
        ("http://gateway:9091:1", "not a host name"),
        ("http://gate way:9091", "printable ASCII"),
        ("http://gateway:9091/\x00", "printable ASCII"),
        ("http://gateway\r\nX-Injected: 1", "printable ASCII"),
        ("http://gatewäy", "printable ASCII"),
        ("http://gateway:9091?x=1", "no query or fragment"),
        ("http://gateway:9091/#top", "no query or fragment"),
        ("http://gateway_1:9091", "not a host name"),
        ("http://:9091", "not a host name"),
        ("http:gateway", "must be http://host"),
        ("http://gateway/a b", "printable ASCII"),
        ("http://gateway/<script>", "the path holds"),
    ],
)
def test_pushgateway_url_is_checked_whole_at_configuration_time(url: str, reason: str) -> None:
    """Scheme, host, a numeric port from 1 to 65535, a plain path and nothing else: what
    would only fail at the push, at the end of a run, is refused at the start."""
    message = config_error({"pushgateway_url": url})
    assert "--pushgateway-url" in message
    assert reason in message
    assert all(c.isprintable() for c in message)


def test_pushgateway_credentials_come_from_one_file_over_https(tmp_path: Path) -> None:
    """A bearer token or USER:PASSWORD is read from a file, only for an https URL, one kind
    at a time; a missing, empty or malformed file is refused before the run, without
    showing what it holds."""
    token = tmp_path / "token"
    token.write_text("abc\n")
    https = {"pushgateway_url": "https://gateway:9091"}
    settings = load({**https, "pushgateway_token_file": str(token)})
    assert settings.pushgateway_token_file == str(token)
    assert "needs an https://" in config_error(
        {"pushgateway_url": "http://gateway:9091", "pushgateway_token_file": str(token)}
    )
    assert "cannot be used together" in config_error(
        {**https, "pushgateway_token_file": str(token), "pushgateway_basic_auth_file": str(token)}
    )
    assert "needs --pushgateway-url" in config_error({"pushgateway_token_file": str(token)})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "is empty" in config_error({**https, "pushgateway_token_file": str(empty)})
    two = tmp_path / "two"
    two.write_text("secret-one\nsecret-two\n")
    message = config_error({**https, "pushgateway_token_file": str(two)})
    assert "one line" in message
    assert "secret" not in message.replace(str(two), "")
    no_colon = tmp_path / "pair"
    no_colon.write_text("userpassword\n")
    message = config_error({**https, "pushgateway_basic_auth_file": str(no_colon)})
    assert "not USER:PASSWORD" in message
    assert "userpassword" not in message.replace(str(no_colon), "")
    from_env = load(
        COLLECTOR_PUSHGATEWAY_URL="https://gateway", COLLECTOR_PUSHGATEWAY_TOKEN_FILE=str(token)
    )
    assert from_env.pushgateway_token_file == str(token)


def test_schema_needs_postgresql_and_a_plain_name() -> None:
    """--schema is a lower-case identifier, and only for PostgreSQL."""
    postgres = "postgresql://u@db/inventory"
    assert load({"schema": "inventory_2", "database_url": postgres}).schema == "inventory_2"
    assert "PostgreSQL" in config_error({"schema": "inventory"})
    for bad in ("Inventory", "2nd", "a-b", "x" * 64, 'a"b'):
        assert "--schema must be" in config_error({"schema": bad, "database_url": postgres})


def test_organization_role_arn_needs_organization_and_an_arn() -> None:
    """--organization-role-arn takes an IAM role ARN (path allowed) and needs --organization."""
    arn = "arn:aws:iam::111122223333:role/org/AppFlowInventoryOrganizationReader"
    role = {"organization": True, "role_name": "Reader"}
    assert load({**role, "organization_role_arn": arn}).organization_role_arn == arn
    assert "needs --organization" in config_error({"organization_role_arn": arn})
    for bad in (
        "AppFlowInventoryOrganizationReader",
        "arn:aws:iam::1111:role/R",
        "arn:aws:iam::111122223333:user/R",
    ):
        assert "not an IAM role ARN" in config_error({**role, "organization_role_arn": bad})


def test_deployment_options_come_from_the_environment() -> None:
    """The new options are variables too: COLLECTOR_PUSHGATEWAY_URL, COLLECTOR_SCHEMA,
    COLLECTOR_ORGANIZATION_ROLE_ARN."""
    settings = load(
        COLLECTOR_DATABASE_URL="postgresql://u@db/inventory",
        COLLECTOR_ORGANIZATION="true",
        COLLECTOR_ROLE_NAME="Reader",
        COLLECTOR_PUSHGATEWAY_URL="http://pushgateway:9091",
        COLLECTOR_SCHEMA="inventory",
        COLLECTOR_ORGANIZATION_ROLE_ARN="arn:aws:iam::111122223333:role/OrgReader",
    )
    assert settings.pushgateway_url == "http://pushgateway:9091"
    assert settings.schema == "inventory"
    assert settings.organization_role_arn == "arn:aws:iam::111122223333:role/OrgReader"


# --- durations and suggestions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("90", 90.0),
        ("2.5", 2.5),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1h30m", 5400.0),
    ],
)
def test_durations_take_one_syntax_everywhere(given: str, seconds: float, tmp_path: Path) -> None:
    """`--deadline`, `--connect-timeout` and `--read-timeout` take a bare number of seconds
    or numbers with units, from a flag, a variable or the file alike."""
    assert load({"deadline": given}).deadline == seconds
    assert load(COLLECTOR_READ_TIMEOUT=given).read_timeout == seconds
    path = write_config(tmp_path, f'connect_timeout = "{given}"\n')
    assert load({"config": str(path)}).connect_timeout == seconds


def test_a_toml_number_is_a_duration_in_seconds(tmp_path: Path) -> None:
    """In the file, a plain number is seconds, as on the command line."""
    path = write_config(tmp_path, "deadline = 600\nread_timeout = 2.5\n")
    settings = load({"config": str(path)})
    assert (settings.deadline, settings.read_timeout) == (600.0, 2.5)


@pytest.mark.parametrize("given", ["1x", "h", "1.5h", "-1", "nan", "inf", "1 h", "1d-2h"])
def test_a_bad_duration_names_the_forms(given: str) -> None:
    """A duration in none of the forms is refused, naming the option and the forms."""
    message = config_error({"deadline": given})
    assert "--deadline must be a duration" in message
    assert "15m" in message


def test_an_unknown_toml_key_suggests_the_one_meant(tmp_path: Path) -> None:
    """A key one typo away from an option's names it; a key like no option names none."""
    path = write_config(tmp_path, 'concurency = 5\nrole-nam = "x"\ncolour = "blue"\n')
    message = config_error({"config": str(path)})
    assert "concurency (did you mean concurrency?)" in message
    assert "role-nam (did you mean role_name?)" in message
    assert "unknown key(s): colour, concurency" in message


@pytest.mark.parametrize(
    ("url", "meant"),
    [
        ("sqlit:///x.db", "sqlite:///"),
        ("postgresq://h/db", "postgresql://"),
        ("postgress://h/d", "postgresql://"),
    ],
)
def test_a_misspelt_url_scheme_suggests_the_one_meant(url: str, meant: str) -> None:
    """A database URL whose scheme is a typo of a supported one names the supported one."""
    assert f"(did you mean {meant}?)" in config_error({"database_url": url})


def test_an_unsupported_scheme_suggests_nothing() -> None:
    """A scheme like no supported one is refused without a guess."""
    assert "did you mean" not in config_error({"database_url": "oracle://db/x"})
