"""The load benchmark at a bounded size: 8 tenants for 20 s against one real server (tiny model): no 5xx,
nothing visible across tenants, /healthz p99 under 50 ms."""

from __future__ import annotations

from bench.load import run_load


def test_eight_tenants_at_once(tmp_path) -> None:
    result = run_load(tenants=8, seconds=20, workdir=tmp_path)
    assert result["server_errors"] == 0, result["statuses"]
    assert result["leaks"] == []
    assert result["jobs_created"] >= 8 and result["requests"] > 100
    assert result["healthz_ms"]["n"] > 100 and result["healthz_ms"]["p99"] < 50, result["healthz_ms"]
