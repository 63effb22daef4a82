"""PrivateLoraTrainer: the one façade for DP-SGD (opacus) LoRA fine-tuning of a causal LM on records.

Example:
    >>> from shared.training import PrivateLoraTrainer, TrainConfig
    >>> from shared.records import Record
    >>> from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
    >>> from shared.lora import LoraSpec
    >>> from shared.prompts import GenerationTemplate
    >>> records = [Record(instruction=f"q{i}", response=f"a{i}") for i in range(20)]
    >>> config = TrainConfig(epsilon=8, epochs=1, batch_size=5, lora=LoraSpec(r=2, target_modules=("q_proj",)), precision="fp32")
    >>> result = PrivateLoraTrainer(config=config, progress=False).train(
    ...     model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(), records=records,
    ...     template=GenerationTemplate.for_task("tests"))
    >>> result.certificate.epsilon <= 8.0 and result.certificate.steps == 4
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from shared.adapters.peft_io import attach_lora, lora_state_dict, set_lora_tensors
from shared.compute import Compute, resolve_compute
from shared.errors import TrainingConfigError
from shared.lora import LoraSpec
from shared.privacy import DPCertificate, Mechanism, round_record_count
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.training.accounting import HistoryEntry, add_steps, epsilon_of_history, noise_for_target
from shared.training.config import PerSampleMode, TrainConfig, tokens_per_pass_for
from shared.training.data import ExampleDataset, make_collate, physical_batches
from shared.training.examples import tokenize_examples
from shared.training.loss import per_sequence_loss_of


@dataclass(frozen=True)
class TrainPlan:
    """What a run will do, known before any training: the ledger checks it against the budget."""

    n_records: int
    sample_rate: float
    steps: int
    noise_multiplier: float
    delta: float
    epsilon: float
    private: bool
    # the run's releases before training (e.g. noisy condition counts: noise, sample rate 1, one step); the
    # training noise is calibrated so that they and the steps together spend ``epsilon``
    prior: tuple[HistoryEntry, ...] = ()

    def history(self) -> list[HistoryEntry]:
        """The accountant history the whole run will produce, its prior releases first."""
        return [*self.prior, (self.noise_multiplier, self.sample_rate, self.steps)] if self.private else []


@dataclass(frozen=True)
class StepInfo:
    """Progress of one optimizer step, given to ``on_step``."""

    step: int
    total_steps: int
    loss: float | None
    batch_size: int
    epsilon: float


@dataclass
class TrainResult:
    """What a run produced: LoRA tensors (float32, peft names), its certificate and its trace."""

    tensors: dict[str, torch.Tensor]
    certificate: DPCertificate
    lora: LoraSpec
    plan: TrainPlan
    history: list[HistoryEntry]
    losses: list[float] = field(default_factory=list)
    empty_batches: int = 0
    truncated_examples: int = 0
    seconds: float = 0.0
    compute: Compute | None = None
    model: Any = field(default=None, repr=False)


class PrivateLoraTrainer:
    """Trains a LoRA adapter under DP-SGD (or without DP when ``epsilon = inf``)."""

    def __init__(
        self,
        *,
        config: TrainConfig,
        progress: bool = True,
        before_step: Callable[[list[HistoryEntry]], None] | None = None,
        on_step: Callable[[StepInfo], None] | None = None,
        on_pass: Callable[[], None] | None = None,
    ) -> None:
        """
        Args:
            config: the run's settings.
            progress: show a progress bar with loss and epsilon spent.
            before_step: called with the accountant history *including* the step about to be taken,
                before it is taken, so a ledger can charge it first (a crash never under-charges).
            on_step: called after each step.
            on_pass: called before each forward pass (micro-batch): it may raise to abandon the step in
                progress, which is then neither charged nor taken (a prompt stop on CPUs where a step
                takes seconds).
        """
        self.config = config
        self.progress = progress
        self.before_step = before_step
        self.on_step = on_step
        self.on_pass = on_pass
        self._accountant: Any = None
        self._delta = 0.0
        self.compute: Compute | None = None  # the run's own choice, made in train()

    def plan(self, n_records: int, *, prior: Sequence[HistoryEntry] = ()) -> TrainPlan:
        """Sampling rate, steps and the noise that meets the target epsilon, for ``n_records`` records,
        after the run's ``prior`` releases (composed with the steps by the run's accountant).

        Raises:
            TrainingConfigError: no records, a batch larger than them, or a prior that spends the target.
        """
        cfg = self.config
        if n_records < 1:
            raise TrainingConfigError("no training records")
        if cfg.batch_size > n_records:
            raise TrainingConfigError(
                f"expected batch size {cfg.batch_size} is larger than the {n_records} training records; lower it",
                detail={"batch_size": cfg.batch_size, "records": n_records},
            )
        batches_per_epoch = math.ceil(n_records / cfg.batch_size)
        sample_rate = 1.0 / batches_per_epoch  # as opacus' DPDataLoader derives it
        steps = cfg.epochs * batches_per_epoch
        if cfg.max_steps is not None:
            steps = min(steps, cfg.max_steps)
        delta = cfg.delta_for(n_records)
        if not cfg.private:
            return TrainPlan(n_records, sample_rate, steps, 0.0, 0.0, math.inf, private=False)
        prior = tuple((float(s), float(q), int(n)) for s, q, n in prior)
        try:
            noise = noise_for_target(epsilon=cfg.epsilon, delta=delta, sample_rate=sample_rate, steps=steps,
                                     accountant=cfg.accountant, prior=prior)
        except ValueError as exc:
            raise TrainingConfigError(str(exc), detail={"epsilon": cfg.epsilon, "prior": [list(p) for p in prior]}) from None
        return TrainPlan(n_records, sample_rate, steps, noise, delta, cfg.epsilon, private=True, prior=prior)

    def epsilon_spent(self) -> float:
        """Epsilon spent so far by the current run, from its own accountant's history (0 before; inf without
        DP), converted as the ledger converts it (``epsilon_of_history``: the same RDP orders)."""
        if not self.config.private:
            return math.inf
        if self._accountant is None or not self._accountant.history:
            return 0.0
        return epsilon_of_history(self._accountant.history, delta=self._delta, accountant=self.config.accountant)

    def train(
        self,
        *,
        model: torch.nn.Module,
        tokenizer: Any,
        records: Sequence[Record],
        template: GenerationTemplate,
        plan: TrainPlan | None = None,
        initial: Mapping[str, torch.Tensor] | None = None,
    ) -> TrainResult:
        """Fine-tune LoRA on ``records`` (each a chat example under ``template``) and return the adapter.

        The base model is modified in place (LoRA modules are injected); ``result.model`` is the peft model.
        ``initial``: LoRA matrices of the config's shape to start from (a warm start) instead of peft's init.
        """
        cfg = self.config
        plan = plan or self.plan(len(records))
        compute = self.compute = resolve_compute(cfg.device, cfg.precision)
        torch.manual_seed(cfg.seed)
        examples, truncated = tokenize_examples(tokenizer, template, records, max_length=cfg.max_length)
        model = self._prepare_model(model, compute)
        if initial is not None:
            set_lora_tensors(model, initial)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer: Any = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
        loader = self._prepare_data_loader(examples, tokenizer)
        trained: Any = model
        ghost = plan.private and cfg.per_sample.for_device(compute.device) is PerSampleMode.GHOST
        if plan.private:
            trained, optimizer, loader = self._prepare_privacy(model, optimizer, loader, plan, ghost=ghost)
        if ghost:
            from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping

        result = TrainResult(tensors={}, certificate=None, lora=cfg.lora, plan=plan, history=[],  # type: ignore[arg-type]
                             truncated_examples=truncated, compute=compute)
        start = time.perf_counter()
        bar = tqdm(total=plan.steps, desc="DP-LoRA" if plan.private else "LoRA (no DP)", disable=not self.progress)
        tokens_per_pass = (tokens_per_pass_for(compute.precision) if cfg.max_tokens_per_pass is None
                           else cfg.max_tokens_per_pass or None)
        trained.train()
        step = 0
        for batch in self._batches(loader, plan.steps):
            step += 1
            optimizer.zero_grad(set_to_none=True)
            size = int(batch["input_ids"].shape[0])
            loss_value: float | None = None
            if size == 0:
                result.empty_batches += 1
                for p in params:  # noise-only step: still taken, still counted by the accountant
                    if ghost:
                        p.grad = torch.zeros_like(p)
                    else:
                        p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype, device=p.device)
            else:
                total = torch.zeros((), device=compute.device)
                chunks = physical_batches(batch, cfg.max_physical_batch, tokens_per_pass)
                for i, chunk in enumerate(chunks):
                    if self.on_pass is not None:
                        self.on_pass()
                    n = int(chunk["input_ids"].shape[0])
                    chunk = {k: v.to(compute.device, non_blocking=True) for k, v in chunk.items()}
                    if plan.private and i > 0:
                        optimizer.zero_grad(set_to_none=True)  # per-sample grads only; the clipped sum stays
                    with compute.autocast():  # the forward only; backward and the DP step stay float32
                        losses = per_sequence_loss_of(trained, chunk)
                    loss = losses.mean()
                    if ghost:  # two backward passes: per-sample norms, then the clip-weighted sum into .grad
                        DPTensorFastGradientClipping(trained, optimizer, losses, loss_reduction="mean").backward()
                    else:
                        # opacus scales a pass's per-sample gradients by its own size; without DP the chunk
                        # means are weighted into the batch mean
                        (loss if plan.private else loss * (n / size)).backward()
                    total += loss.detach().float() * n
                    if plan.private and i < len(chunks) - 1:
                        optimizer.signal_skip_step(do_skip=True)  # clip and add to the sum; no noise, no step
                        optimizer.step()
                loss_value = float(total) / size  # the one scalar brought back per step
                result.losses.append(loss_value)
            if plan.private and self.before_step is not None:
                self.before_step(add_steps(self._accountant.history, noise_multiplier=plan.noise_multiplier,
                                           sample_rate=plan.sample_rate))
            optimizer.step()
            epsilon = self.epsilon_spent()
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.3f}" if loss_value is not None else "-",
                            eps=f"{epsilon:.2f}" if math.isfinite(epsilon) else "inf")
            if self.on_step is not None:
                self.on_step(StepInfo(step, plan.steps, loss_value, size, epsilon))
        bar.close()
        trained.eval()
        result.seconds = time.perf_counter() - start
        result.history = [tuple(h) for h in self._accountant.history] if plan.private else []  # type: ignore[misc]
        result.certificate = self._certificate(plan, step)
        peft_model = trained._module if hasattr(trained, "_module") else trained
        result.tensors = lora_state_dict(peft_model, dtype=torch.float32)
        result.model = peft_model
        return result

    # --- the wrapped objects, one _prepare_* each (as opacus' PrivacyEngine does) ---------------------

    def _prepare_model(self, model: torch.nn.Module, compute: Compute) -> Any:
        dtype = torch.bfloat16 if compute.load_dtype == "bfloat16" else torch.float32
        if model.dtype != dtype or str(model.device) != compute.device:  # type: ignore[operator]
            model = model.to(device=compute.device, dtype=dtype)
        for p in model.parameters():
            p.requires_grad_(False)
        # peft keeps adapter weights in float32 over a bfloat16 base (autocast_adapter_dtype).
        return attach_lora(model, self.config.lora)

    def _prepare_data_loader(self, examples: list[Any], tokenizer: Any) -> DataLoader[Any]:
        generator = torch.Generator().manual_seed(self.config.seed)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return DataLoader(ExampleDataset(examples), batch_size=self.config.batch_size, shuffle=True,
                          collate_fn=make_collate(pad), generator=generator)

    def _prepare_privacy(self, model: Any, optimizer: Any, loader: Any, plan: TrainPlan, *,
                         ghost: bool) -> tuple[Any, Any, Any]:
        from opacus import PrivacyEngine

        engine = PrivacyEngine(accountant=self.config.accountant.value)
        made = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=plan.noise_multiplier,
            max_grad_norm=self.config.max_grad_norm, poisson_sampling=True,
            grad_sample_mode="ghost" if ghost else "hooks",
        )
        trained, optimizer, loader = (made[0], made[1], made[3]) if ghost else made  # ghost adds a criterion
        self._accountant = engine.accountant
        self._accountant.history = list(plan.prior)  # composed with every step, in the certificate too
        self._delta = plan.delta
        return trained, optimizer, loader

    @staticmethod
    def _batches(loader: Any, steps: int) -> Iterator[dict[str, torch.Tensor]]:
        """Exactly ``steps`` batches, cycling epochs (Poisson batches have no fixed epoch length)."""
        taken = 0
        while taken < steps:
            for batch in loader:
                if isinstance(batch, list) and not batch:  # opacus' empty first batch
                    batch = {"input_ids": torch.zeros(0, 1, dtype=torch.long)}
                yield batch
                taken += 1
                if taken >= steps:
                    return

    def _certificate(self, plan: TrainPlan, steps: int) -> DPCertificate:
        if not plan.private:
            return DPCertificate.non_private(steps=steps, sample_rate=plan.sample_rate, training_records=plan.n_records)
        return DPCertificate(
            epsilon=self.epsilon_spent(), delta=plan.delta, noise_multiplier=plan.noise_multiplier,
            max_grad_norm=self.config.max_grad_norm, sample_rate=plan.sample_rate, steps=steps,
            accountant=self.config.accountant, training_records=round_record_count(plan.n_records),
            mechanism=Mechanism.DP_SGD, history=[(float(s), float(q), int(n)) for s, q, n in self._accountant.history],
        )
