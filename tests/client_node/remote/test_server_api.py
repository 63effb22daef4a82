"""ServerApi against a real server process on tiny models, and against a port nobody listens on."""

from __future__ import annotations

import time

import pytest

from client_node.remote.server_api import RetryPolicy, ServerApi
from shared.adapters import decode_adapter, encode_adapter
from shared.errors import ServerRequestError, ServerUnavailableError
from shared.protocol import JobCreateRequest, SamplingParams, TaskSpec
from tests.utils.adapters import make_tiny_adapter
from tests.utils.processes import create_tokens, free_port, running_server, tiny_server_env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    env = tiny_server_env(root)
    token = create_tokens(env, "clinic")["clinic"]
    with running_server(env, log=root / "server.log") as url:
        yield url, token


def test_upload_job_poll_and_download(server) -> None:
    url, token = server
    with ServerApi(url, token) as api:
        assert [m.role for m in api.models().data] == ["base", "expert"]
        tensors, metadata, _ = make_tiny_adapter(text=True)
        uploaded = api.upload_adapter(encode_adapter(tensors, metadata))
        job = api.create_job(JobCreateRequest(adapter_id=uploaded.adapter_id, n_samples=3, min_grade=0.0,
                                              task=TaskSpec(domain="clinic", description="clinic notes"),
                                              sampling=SamplingParams(max_new_tokens=8)))
        deadline = time.monotonic() + 120
        while not job.state.terminal:
            assert time.monotonic() < deadline
            time.sleep(0.2)
            job = api.job(job.job_id)
        assert job.state == "succeeded"
        assert len(api.samples(job.job_id)) == 3
        knowledge = decode_adapter(api.knowledge_adapter(job.job_id))
        assert knowledge.metadata.certificate.inherited_from == uploaded.sha256


def test_a_refusal_carries_the_server_code_and_is_not_retried(server) -> None:
    url, token = server
    sleeps: list[float] = []
    with ServerApi(url, token, sleep=sleeps.append) as api:
        with pytest.raises(ServerRequestError) as info:
            api.upload_adapter(b"not an adapter")
    assert info.value.detail["code"] == "adapter_header_too_large" and info.value.detail["status"] == 400
    assert sleeps == []
    with ServerApi(url, "pst_wrong") as api, pytest.raises(ServerRequestError, match="unauthenticated"):
        api.models()


def test_a_server_that_is_down_is_retried_with_backoff_then_a_clear_error() -> None:
    sleeps: list[float] = []
    api = ServerApi(f"http://127.0.0.1:{free_port()}", "pst_x", retry=RetryPolicy(attempts=4, backoff_seconds=0.5),
                    sleep=sleeps.append, timeout=2)
    with pytest.raises(ServerUnavailableError, match="after 4 attempts") as info:
        api.models()
    assert sleeps == [0.5, 1.0, 2.0]
    assert info.value.code == "server_unavailable" and "ConnectError" in info.value.detail["last_error"]


def test_creating_a_job_is_not_retried_once_the_request_may_have_arrived() -> None:
    """A server that accepts the connection but never answers: the job request is sent once."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: [accepted.append(listener.accept()[0]) for _ in range(3)], daemon=True).start()
    sleeps: list[float] = []
    api = ServerApi(f"http://127.0.0.1:{listener.getsockname()[1]}", "pst_x", timeout=0.5, sleep=sleeps.append)
    request = JobCreateRequest(adapter_id="a", task=TaskSpec(domain="d", description="x"))
    with pytest.raises(ServerUnavailableError, match="after 1 attempts"):
        api.create_job(request)
    assert sleeps == [] and len(accepted) == 1
    listener.close()
