#!/usr/bin/env bash
# The GPU checks of docs/hardware.md in one short script, for a lent CUDA machine (the device tool):
# what auto picks there, the tests marked gpu, then the GPU benchmark (bench/gpu.py; its JSON lands in $OUT). Missing pure-Python packages travel as wheels in .whl
# (opacus, pydantic-settings, sqlalchemy, fastapi, uvicorn, httpx as that image lacks them; see the device
# tool's README for the pip download line). Prints everything; writes the log under $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
log="${OUT:-/tmp}/gpu_smoke.log"
{
  nvidia-smi --query-gpu=name,memory.total --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
  python3 -c "import json; from shared.compute import resolve_compute; print(json.dumps(resolve_compute().as_dict()))"
  timeout 300 python3 -m pytest -m gpu tests/gpu tests/shared/compute -q -p no:cacheprovider -o addopts="" -rs
  timeout 360 python3 -m bench.gpu && cp bench/results/gpu.json "${OUT:-/tmp}/"
} 2>&1 | tee "$log"
