"""A server configured for an inference engine that is down: the job fails with a reason, soon, and the
server keeps serving (a real uvicorn process on tiny models; nothing listens at the engine's address).
Condition guidance, which needs in-process decoding, is refused at creation."""

from __future__ import annotations

import httpx

from shared.services import free_port
from tests.server_node.api.test_jobs_http import SMALL_JOB, _auth, _terminal, _upload, _wait
from tests.utils.processes import create_tokens, running_server, tiny_server_env


def test_job_fails_cleanly_when_the_engine_is_down(tmp_path) -> None:
    env = {**tiny_server_env(tmp_path), "PRIVSYNTH_SERVER_INFERENCE_BACKEND": "engine",
           "PRIVSYNTH_SERVER_ENGINE_URL": f"http://127.0.0.1:{free_port()}", "PRIVSYNTH_SERVER_ENGINE_RETRIES": "2",
           "PRIVSYNTH_SERVER_ENGINE_BACKOFF_SECONDS": "0.1", "PRIVSYNTH_SERVER_ENGINE_CONNECT_TIMEOUT_SECONDS": "1"}
    token = create_tokens(env, "hospital")["hospital"]
    with running_server(env, log=tmp_path / "server.log") as url:
        adapter = _upload(url, token)
        guided = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "sampling": {"guidance": 1.5}}
        refused = httpx.post(f"{url}/v1/jobs", json=guided, headers=_auth(token))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "sampling_guidance_unsupported", refused.text
        assert httpx.get(f"{url}/v1/jobs", headers=_auth(token)).json()["count"] == 0  # nothing queued
        r = httpx.post(f"{url}/v1/jobs", json={**SMALL_JOB, "adapter_id": adapter["adapter_id"]}, headers=_auth(token))
        assert r.status_code == 202, r.text
        job = _wait(url, token, r.json()["job_id"], until=_terminal, timeout=60)
        assert job["state"] == "failed" and job["stage"] == "generating"
        assert job["error"]["code"] == "inference_engine_unavailable" and "3 tries" in job["error"]["message"]
        assert httpx.get(f"{url}/readyz").status_code == 200
    assert not any((tmp_path / "data" / "engine-adapters").glob("privsynth-*"))  # nothing left behind
