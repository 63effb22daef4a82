"""schemathesis against the live client service (tiny base model): bounded examples per operation."""

from __future__ import annotations

import pytest

from client_node.main import create_app
from tests.utils.fuzz import fuzz_settings, problems_with, schema_of
from tests.utils.processes import start_server, tiny_server_env

schema = schema_of(create_app())
OPERATOR = "fuzz-operator"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-client")
    tiny_server_env(root)  # writes the tiny model the client trains
    env = {"PRIVSYNTH_CLIENT_DATA_DIR": str(root / "client"), "PRIVSYNTH_CLIENT_BASE_MODEL": str(root / "tiny-base"),
           "PRIVSYNTH_CLIENT_SERVER_URL": "http://127.0.0.1:9", "PRIVSYNTH_CLIENT_API_TOKEN": OPERATOR}
    client = start_server(env, log=root / "client.log", node="client-node")
    try:
        yield client.url, {"Authorization": f"Bearer {OPERATOR}"}
    finally:
        client.stop()


@schema.parametrize()
@fuzz_settings
def test_no_5xx_and_every_4xx_has_a_declared_code(case, live) -> None:
    url, headers = live
    assert problems_with(case, url, headers) == []
