"""InferenceBackend: where a job's sampling (base + the client's DP adapter), grading and rewriting run.

``LocalBackend`` runs them in this process (the embedded default): a fresh base model with the adapter
merged, and the expert loaded once. ``EngineBackend`` hands them to OpenAI-compatible engines (vLLM):
the client's adapter is written as a peft directory the engine can read, registered with
``/v1/load_lora_adapter`` under a name made of its sha256 (an engine may serve stale cache blocks for a
reused name with new weights), used by name, and unloaded when the last job using it leaves the
``sampler`` block, whether the job succeeded or failed. Ray Serve LLM has no load endpoint: with
``adapter_loading="by-path"`` the adapter is only written to the folder its ``dynamic_lora_loading_path``
names and requested as ``<base>:<name>`` (Ray loads it on first use and evicts it when cold); the files
are removed when the last job is done. Knowledge-adapter training and table rows
(which need token-level control of decoding) stay in this process.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from server_node.hosting import HostedModel, HostedModels
from server_node.inference.engine_client import EngineClient
from server_node.inference.engine_model import EngineTextModel
from server_node.inference.text_model import LocalTextModel, TextModel
from server_node.pipeline.pool import ModelPool
from shared.adapters.codec import DecodedAdapter
from shared.errors import EngineAdapterRejectedError, InferenceEngineRequestError
from shared.models.resolve import ResolvedModel

logger = logging.getLogger(__name__)
ADAPTER_PREFIX = "privsynth-"


class InferenceBackend(Protocol):
    name: str
    token_level: bool  # decoding runs here, token by token (condition guidance needs it)

    def sampler(self, hosted: HostedModel, adapter: DecodedAdapter) -> AbstractContextManager[TextModel]:
        """The base model with the client's adapter, for the duration of the block."""
        ...

    def expert(self) -> TextModel:
        ...

    def close(self) -> None:
        ...


class LocalBackend:
    name = "local"
    token_level = True

    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool

    @contextmanager
    def sampler(self, hosted: HostedModel, adapter: DecodedAdapter) -> Iterator[TextModel]:
        model, tokenizer = self.pool.base_with_adapter(hosted, adapter)
        yield LocalTextModel(model, tokenizer)

    def expert(self) -> TextModel:
        loaded = self.pool.expert()
        return LocalTextModel(loaded.model, loaded.tokenizer)

    def close(self) -> None:
        pass


class EngineBackend:
    """One engine serves the base model (and the clients' adapters on it); the expert is served by the
    same engine or a second one."""

    name = "engine"
    token_level = False

    def __init__(self, *, base: HostedModel, base_client: EngineClient, base_name: str | None,
                 expert: ResolvedModel | None, expert_client: EngineClient, expert_name: str | None,
                 adapter_dir: Path, adapter_dir_on_engine: str | None = None,
                 adapter_loading: str = "runtime-api") -> None:
        if adapter_loading not in ("runtime-api", "by-path"):
            raise ValueError(f"adapter_loading must be runtime-api or by-path, not {adapter_loading!r}")
        self.adapter_loading = adapter_loading
        self.base, self.base_client, self._base_name = base, base_client, base_name
        self._expert, self.expert_client, self._expert_name = expert, expert_client, expert_name
        self.adapter_dir, self.adapter_dir_on_engine = adapter_dir, adapter_dir_on_engine or str(adapter_dir)
        self._lock = threading.Lock()
        self._users: dict[str, int] = {}
        self._tokenizers: dict[Path, Any] = {}

    # --- the pipeline's view ----------------------------------------------------------------------

    @contextmanager
    def sampler(self, hosted: HostedModel, adapter: DecodedAdapter) -> Iterator[TextModel]:
        if hosted.signature.weights_sha256 != self.base.signature.weights_sha256:
            raise InferenceEngineRequestError(
                f"the inference engine serves base model {self.base.signature.model_id!r}, not "
                f"{hosted.signature.model_id!r}", detail={"engine_base": self.base.signature.model_id})
        name = self.acquire(adapter)
        served = name if self.adapter_loading == "runtime-api" else f"{self._served_base()}:{name}"
        try:
            yield EngineTextModel(self.base_client, served, self._tokenizer(hosted.resolved), prompt_logprobs=False)
        finally:
            self.release(name)

    def expert(self) -> TextModel:
        if self._expert is None:
            raise ValueError("this server hosts no expert model (PRIVSYNTH_SERVER_EXPERT_MODEL is empty)")
        if self._expert_name is None:
            self._expert_name = served_model(self.expert_client)
        return EngineTextModel(self.expert_client, self._expert_name, self._tokenizer(self._expert))

    def base_model(self) -> TextModel:
        """The base model as the engine serves it, without any adapter."""
        return EngineTextModel(self.base_client, self._served_base(), self._tokenizer(self.base.resolved))

    def _served_base(self) -> str:
        if self._base_name is None:
            self._base_name = served_model(self.base_client)
        return self._base_name

    def close(self) -> None:
        self.base_client.close()
        if self.expert_client is not self.base_client:
            self.expert_client.close()

    # --- adapters on the engine -------------------------------------------------------------------

    @staticmethod
    def adapter_name(adapter: DecodedAdapter) -> str:
        return ADAPTER_PREFIX + adapter.sha256

    def acquire(self, adapter: DecodedAdapter) -> str:
        """Load the adapter on the engine (once however many jobs use it); its served name."""
        name = self.adapter_name(adapter)
        with self._lock:
            if self._users.get(name, 0) == 0:
                self._load(name, adapter)
            self._users[name] = self._users.get(name, 0) + 1
        return name

    def release(self, name: str) -> None:
        """One job is done with the adapter; the last one unloads it and removes its files."""
        with self._lock:
            self._users[name] = self._users.get(name, 1) - 1
            if self._users[name] > 0:
                return
            del self._users[name]
            if self.adapter_loading == "by-path":
                shutil.rmtree(self.adapter_dir / name, ignore_errors=True)
                return
            try:
                self.base_client.post("/v1/unload_lora_adapter", {"lora_name": name})
            except Exception as exc:  # the job's outcome stands; the engine may be down (it forgets adapters then)
                logger.warning("could not unload adapter %s from the engine: %s", name, exc)
            shutil.rmtree(self.adapter_dir / name, ignore_errors=True)

    def loaded(self) -> dict[str, int]:
        """Adapter names this server has on the engine, with the jobs using each."""
        with self._lock:
            return dict(self._users)

    def _load(self, name: str, adapter: DecodedAdapter) -> None:
        write_peft_dir(adapter, self.adapter_dir / name)
        if self.adapter_loading == "by-path":  # the engine reads it from the folder on first use
            return
        try:
            self.base_client.post("/v1/load_lora_adapter",
                                  {"lora_name": name, "lora_path": f"{self.adapter_dir_on_engine.rstrip('/')}/{name}"})
        except InferenceEngineRequestError as exc:
            body = str((exc.detail or {}).get("body", ""))
            if "already" in body and "loaded" in body:  # left by an interrupted job: same name, same bytes
                return
            shutil.rmtree(self.adapter_dir / name, ignore_errors=True)
            raise EngineAdapterRejectedError(f"the inference engine would not load the client's adapter: {exc.message}",
                                             detail=exc.detail) from None
        except Exception:
            shutil.rmtree(self.adapter_dir / name, ignore_errors=True)
            raise

    def _tokenizer(self, model: ResolvedModel) -> Any:
        """The served model's tokenizer, loaded here once: prompts go to the engine as token ids."""
        with self._lock:
            if model.path not in self._tokenizers:
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(str(model.path))
                if tokenizer.pad_token is None:
                    tokenizer.pad_token = tokenizer.eos_token
                self._tokenizers[model.path] = tokenizer
            return self._tokenizers[model.path]


def served_model(client: EngineClient) -> str:
    """The first model an engine lists (a vLLM process serves one base model)."""
    answer = client.get("/v1/models")
    models = [m["id"] for m in answer.get("data", []) if not str(m.get("id", "")).startswith(ADAPTER_PREFIX)] \
        if isinstance(answer, dict) else []
    if not models:
        raise InferenceEngineRequestError(f"the engine at {client.base_url} lists no model", detail={"answer": str(answer)[:500]})
    return str(models[0])


def write_peft_dir(adapter: DecodedAdapter, path: Path) -> None:
    """The adapter as a peft directory (adapter_model.safetensors + adapter_config.json), as engines load them."""
    from safetensors.torch import save_file

    path.mkdir(parents=True, exist_ok=True)
    config = adapter.metadata.lora.to_peft_config()
    config.base_model_name_or_path = adapter.metadata.base_model
    config.save_pretrained(str(path))
    save_file({k: v.contiguous() for k, v in adapter.tensors.items()}, str(path / "adapter_model.safetensors"))


def make_backend(settings: Any, hosted: HostedModels, pool: ModelPool) -> InferenceBackend:
    """The backend the settings name (``PRIVSYNTH_SERVER_INFERENCE_BACKEND``)."""
    if settings.inference_backend == "local":
        return LocalBackend(pool)
    if not settings.engine_url:
        raise ValueError("PRIVSYNTH_SERVER_INFERENCE_BACKEND=engine needs PRIVSYNTH_SERVER_ENGINE_URL")

    def client(url: str) -> EngineClient:
        key = settings.engine_api_key.get_secret_value() if settings.engine_api_key else None
        return EngineClient(url, api_key=key, timeout=settings.engine_timeout_seconds,
                            connect_timeout=settings.engine_connect_timeout_seconds,
                            max_concurrency=settings.engine_max_concurrency, retries=settings.engine_retries,
                            backoff=settings.engine_backoff_seconds)

    base_client = client(settings.engine_url)
    expert_url = settings.engine_expert_url or settings.engine_url
    expert_client = base_client if expert_url == settings.engine_url else client(expert_url)
    if expert_client is base_client and settings.expert_model:
        logger.warning("the expert is served by the LoRA engine (%s): grading's prompt log-probabilities can crash or "
                       "be wrong there (vLLM issues 29955, 16668); set PRIVSYNTH_SERVER_ENGINE_EXPERT_URL to an "
                       "engine without --enable-lora", settings.engine_url)
    base = next(iter(hosted.base.values()))  # the server's default base model: what the engine serves
    return EngineBackend(base=base, base_client=base_client, base_name=settings.engine_base_model, expert=hosted.expert,
                         expert_client=expert_client, expert_name=settings.engine_expert_model,
                         adapter_dir=settings.engine_adapter_dir or settings.data_dir / "engine-adapters",
                         adapter_dir_on_engine=settings.engine_adapter_dir_on_engine,
                         adapter_loading=settings.engine_adapter_loading)
