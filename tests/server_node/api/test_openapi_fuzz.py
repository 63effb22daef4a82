"""schemathesis against the live server (tiny models): bounded examples per operation from its spec."""

from __future__ import annotations

import pytest

from server_node.main import create_app
from tests.utils.fuzz import fuzz_settings, problems_with, schema_of
from tests.utils.processes import create_tokens, running_server, tiny_server_env

schema = schema_of(create_app())


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-server")
    env = tiny_server_env(root)
    token = create_tokens(env, "fuzzer")["fuzzer"]
    with running_server(env, log=root / "server.log") as url:
        yield url, {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@fuzz_settings
def test_no_5xx_and_every_4xx_has_a_declared_code(case, live) -> None:
    url, headers = live
    assert problems_with(case, url, headers) == []
