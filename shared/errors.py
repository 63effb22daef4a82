"""One error tree for all three packages; each class carries the machine-readable code and HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar


class SynthError(Exception):
    """Root of every error this project raises on purpose.

    ``code`` is the stable machine-readable code sent in the error body, ``http_status`` the status the
    HTTP layer answers with. Domain code raises these; only the web layer turns them into responses.
    """

    code: ClassVar[str] = "synth_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_body(self) -> dict[str, Any]:
        """The wire error body ``{"error": {"code", "message", "detail"}}``."""
        return {"error": {"code": self.code, "message": self.message, "detail": self.detail}}


# --- adapter files -------------------------------------------------------------------------------


class AdapterFormatError(SynthError, ValueError):
    """The adapter bytes are not a well-formed safetensors file we accept."""

    code = "adapter_malformed"
    http_status = 400


class AdapterNotSafetensorsError(AdapterFormatError):
    """The bytes are a pickle or zip (torch.save) file or otherwise not safetensors; never unpickled."""

    code = "adapter_not_safetensors"
    http_status = 415


class AdapterTruncatedError(AdapterFormatError):
    """The file ends before its header or tensor data does."""

    code = "adapter_truncated"


class AdapterHeaderTooLargeError(AdapterFormatError):
    """The safetensors JSON header is larger than the allowed limit."""

    code = "adapter_header_too_large"


class AdapterTooLargeError(AdapterFormatError):
    """The adapter file is larger than the allowed total size."""

    code = "adapter_too_large"
    http_status = 413


class AdapterDtypeError(AdapterFormatError):
    """A tensor has a dtype outside the allow-list (float32, bfloat16, float16)."""

    code = "adapter_dtype_not_allowed"
    http_status = 422


class AdapterNonFiniteError(AdapterFormatError):
    """A tensor holds NaN or infinite values."""

    code = "adapter_non_finite"
    http_status = 422


class AdapterUnknownTensorError(AdapterFormatError):
    """A tensor name is not a LoRA weight of a target module of the named base model."""

    code = "adapter_unknown_tensor"
    http_status = 422


class AdapterShapeError(AdapterFormatError):
    """A tensor's shape does not match the base model's module and the adapter's rank."""

    code = "adapter_shape_mismatch"
    http_status = 422


class AdapterMissingTensorError(AdapterFormatError):
    """A target module has lora_A without lora_B (or the reverse), or the file holds no tensors."""

    code = "adapter_missing_tensor"
    http_status = 422


class AdapterRankError(AdapterFormatError):
    """The LoRA rank is above the allowed limit."""

    code = "adapter_rank_too_high"
    http_status = 422


class AdapterMetadataError(AdapterFormatError):
    """Required adapter metadata (format version, base model, LoRA config, template) is missing or bad."""

    code = "adapter_metadata_invalid"
    http_status = 422


class CertificateMissingError(AdapterFormatError):
    """The adapter carries no DP certificate."""

    code = "certificate_missing"
    http_status = 422


class CertificateMalformedError(AdapterFormatError):
    """The DP certificate is present but not well-formed (bad JSON, missing fields, bad values)."""

    code = "certificate_malformed"
    http_status = 422


class BaseModelMismatchError(AdapterFormatError):
    """The adapter names a base model (id or weights sha256) other than the one it is checked against."""

    code = "base_model_mismatch"
    http_status = 422


# --- models ----------------------------------------------------------------------------------------


class UnsupportedModelError(SynthError, ValueError):
    """A model spec names nothing we can resolve: no bundled default, no local directory, no hub id."""

    code = "model_unsupported"
    http_status = 400


class DatasetUnavailableError(SynthError, RuntimeError):
    """A public dataset's package is neither installed nor downloadable from the package index."""

    code = "dataset_unavailable"
    http_status = 503


class DatasetIntegrityError(SynthError, RuntimeError):
    """A public dataset file does not have the sha256 it is pinned to."""

    code = "dataset_integrity"
    http_status = 500


class ModelUnavailableError(SynthError, RuntimeError):
    """A model exists by name but its weights are not here (not prepared, or the hub is unreachable)."""

    code = "model_unavailable"
    http_status = 503


class ModelIntegrityError(SynthError, RuntimeError):
    """Downloaded or extracted model bytes do not match their pinned sha256."""

    code = "model_integrity"
    http_status = 500




# --- datasets and privacy budget -----------------------------------------------------------------------


class DatasetValidationError(SynthError, ValueError):
    """A private dataset file cannot be used: empty, not UTF-8, bad JSON/CSV, missing fields, too long.

    ``detail["problems"]`` lists the first problems found, each with its line number.
    """

    code = "dataset_invalid"
    http_status = 422


class TableSchemaError(SynthError, ValueError):
    """A table's schema cannot be used: an override names no column, the label column is missing or has
    fewer than two values, a declared kind does not fit, too many columns."""

    code = "table_schema_invalid"
    http_status = 422


class TableNeighboursError(SynthError, ValueError):
    """A DP table run was asked to take its example rows from the private rows (only non-private runs may)."""

    code = "table_neighbours_not_private"
    http_status = 422


class DatasetNotFoundError(SynthError, LookupError):
    """No stored dataset has this id."""

    code = "dataset_not_found"
    http_status = 404


class PrivacyBudgetExceededError(SynthError):
    """A run would spend more epsilon (or delta) than the dataset's remaining budget; nothing was trained."""

    code = "privacy_budget_exceeded"
    http_status = 409


class TrainingConfigError(SynthError, ValueError):
    """Training settings that cannot work together (e.g. a batch larger than the dataset)."""

    code = "training_config_invalid"
    http_status = 422



# --- services: authentication, tenancy, policy ---------------------------------------------------------


class RunNotFoundError(SynthError, LookupError):
    """The ledger has no run with this id."""

    code = "ledger_run_not_found"
    http_status = 404


class BaseModelNotHostedError(SynthError, LookupError):
    """An adapter names a base model (by weights sha256) that this server does not host."""

    code = "base_model_not_hosted"
    http_status = 422


class AuthenticationError(SynthError):
    """No bearer token, or one this server did not issue."""

    code = "unauthenticated"
    http_status = 401


class TokenNameTakenError(SynthError, ValueError):
    """A token with this client name already exists."""

    code = "token_name_taken"
    http_status = 409


class CertificatePolicyError(SynthError, ValueError):
    """The adapter's DP certificate claims more epsilon than this server accepts (or none at all)."""

    code = "certificate_above_policy"
    http_status = 422


class CertificateInconsistentError(CertificatePolicyError):
    """The certificate's own accountant history composes to more epsilon than it states."""

    code = "certificate_inconsistent"
    http_status = 422


class AdapterNotFoundError(SynthError, LookupError):
    """No adapter with this id belongs to the caller."""

    code = "adapter_not_found"
    http_status = 404


class SampleSetNotFoundError(SynthError, LookupError):
    """No sample set with this id belongs to the caller."""

    code = "sample_set_not_found"
    http_status = 404


class SampleSetInvalidError(SynthError, ValueError):
    """A sample set the server cannot use as sent (a mechanism that is not DP, a LoRA shape it refuses)."""

    code = "sample_set_invalid"
    http_status = 422


class JobNotFoundError(SynthError, LookupError):
    """No job with this id belongs to the caller (other tenants' jobs look the same: absent)."""

    code = "job_not_found"
    http_status = 404


class JobNotReadyError(SynthError):
    """The job's result is not there (yet, or not at all: it failed, was cancelled, or was not asked for)."""

    code = "job_result_unavailable"
    http_status = 409


class JobFinishedError(SynthError):
    """The job already ended; it cannot be cancelled."""

    code = "job_already_finished"
    http_status = 409


class JobCancelledError(SynthError):
    """Raised inside a running job's pipeline when its owner cancelled it."""

    code = "job_cancelled"
    http_status = 409


class JobInterruptedError(SynthError, RuntimeError):
    """A job was interrupted (the server stopped) more often than it may be resumed."""

    code = "job_interrupted"
    http_status = 500


class StageInterruptedError(SynthError, RuntimeError):
    """An at-most-once stage (one that spends privacy budget) was interrupted: running it again would spend
    more than was charged, so the work fails, charged what it recorded."""

    code = "stage_interrupted"
    http_status = 409


class PipelineError(SynthError, RuntimeError):
    """A pipeline stage could not produce its output (e.g. every generated sample was malformed)."""

    code = "pipeline_failed"
    http_status = 500


class SamplingGuidanceError(PipelineError):
    """A job asks for condition guidance where it cannot run: an adapter without declared conditions, or an
    inference engine (guidance needs token-level control of decoding, which runs in this process)."""

    code = "sampling_guidance_unsupported"
    http_status = 422


class ConditionSharesError(PipelineError):
    """A job's condition shares do not fit its adapter: conditions it does not declare, or none at all."""

    code = "condition_shares_invalid"
    http_status = 422


class ExampleRowsError(PipelineError):
    """A table job's example rows do not fit its adapter: rows for a text adapter, or a row its table forbids."""

    code = "example_rows_invalid"
    http_status = 422


class ServerUnavailableError(SynthError, ConnectionError):
    """The server node did not answer (down, unreachable, or overloaded) after the retries."""

    code = "server_unavailable"
    http_status = 503


class ServerRequestError(SynthError):
    """The server node refused a request (4xx); ``detail`` carries its status and error code."""

    code = "server_refused"
    http_status = 502


class RequestTooLargeError(SynthError, ValueError):
    """A request body is larger than the endpoint accepts."""

    code = "request_too_large"
    http_status = 413


class RequestInvalidError(SynthError, ValueError):
    """A parameter or body field fails the endpoint's schema (``detail.errors`` lists each, with its location)."""

    code = "request_invalid"
    http_status = 422


class RequestMalformedError(SynthError, ValueError):
    """The body cannot be parsed at all (it is not what its content type says)."""

    code = "request_malformed"
    http_status = 400


class RouteNotFoundError(SynthError, LookupError):
    """No route has this path (an unknown id is reported with its own ``*_not_found`` code)."""

    code = "not_found"
    http_status = 404


class MethodNotAllowedError(SynthError):
    """The path exists but not with this HTTP method."""

    code = "method_not_allowed"
    http_status = 405


class HttpError(SynthError):
    """Any other HTTP-level refusal by the web framework (answered with its own status)."""

    code = "http_error"
    http_status = 400


class InternalError(SynthError):
    """A bug: the message says nothing more, the service log has the traceback."""

    code = "internal_error"
    http_status = 500


# --- hardware ----------------------------------------------------------------------------------------


class DeviceUnavailableError(SynthError, ValueError):
    """A run asked for a device this machine does not have (``cuda`` without a GPU, ``cuda:3`` with two)."""

    code = "device_unavailable"
    http_status = 422


# --- inference engines (the server's scale-out backend) --------------------------------------------


class InferenceEngineUnavailableError(SynthError, ConnectionError):
    """The OpenAI-compatible inference engine did not answer (down, unreachable, overloaded) after the retries."""

    code = "inference_engine_unavailable"
    http_status = 503


class InferenceEngineRequestError(SynthError):
    """The inference engine refused a request (e.g. an unknown model or adapter name)."""

    code = "inference_engine_refused"
    http_status = 502


class EngineAdapterRejectedError(InferenceEngineRequestError):
    """The inference engine would not load a client's adapter (rank above its maximum, unknown modules...)."""

    code = "engine_adapter_rejected"
    http_status = 502


__all__ = [
    "AdapterDtypeError",
    "AdapterFormatError",
    "AdapterHeaderTooLargeError",
    "AdapterMetadataError",
    "AdapterMissingTensorError",
    "AdapterNonFiniteError",
    "AdapterNotFoundError",
    "AdapterNotSafetensorsError",
    "AdapterRankError",
    "AdapterShapeError",
    "AdapterTooLargeError",
    "AdapterTruncatedError",
    "AdapterUnknownTensorError",
    "AuthenticationError",
    "BaseModelMismatchError",
    "BaseModelNotHostedError",
    "CertificateInconsistentError",
    "CertificateMalformedError",
    "CertificateMissingError",
    "CertificatePolicyError",
    "ConditionSharesError",
    "DatasetIntegrityError",
    "DatasetNotFoundError",
    "DatasetUnavailableError",
    "DatasetValidationError",
    "DeviceUnavailableError",
    "EngineAdapterRejectedError",
    "ExampleRowsError",
    "HttpError",
    "InferenceEngineRequestError",
    "InferenceEngineUnavailableError",
    "InternalError",
    "JobCancelledError",
    "JobFinishedError",
    "JobInterruptedError",
    "JobNotFoundError",
    "JobNotReadyError",
    "MethodNotAllowedError",
    "ModelIntegrityError",
    "ModelUnavailableError",
    "PipelineError",
    "PrivacyBudgetExceededError",
    "RequestInvalidError",
    "RequestMalformedError",
    "RequestTooLargeError",
    "RouteNotFoundError",
    "RunNotFoundError",
    "SampleSetInvalidError",
    "SampleSetNotFoundError",
    "SamplingGuidanceError",
    "ServerRequestError",
    "ServerUnavailableError",
    "StageInterruptedError",
    "SynthError",
    "TableNeighboursError",
    "TableSchemaError",
    "TokenNameTakenError",
    "TrainingConfigError",
    "UnsupportedModelError",
]

