"""One training-free DP generation run: plan, admit under the ledger, vote token by token, certify.

The records never leave this process; what comes out is the DP samples and their certificate, which a
run may send to the server for grading and rewriting like samples from a DP adapter.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from client_node.ledger.ledger import BudgetStatus, PrivacyLedger
from client_node.voting.decoder import BudgetSpent, VotingPrompts
from client_node.voting.partition import Groups, condition_stratum, label_stratum, partition_records
from client_node.voting.plan import VoteNoise, VotePlan, plan_votes
from client_node.voting.prompts import group_messages, render_prompt
from shared.conditions import Conditions, ConditionSpace
from shared.errors import TrainingConfigError
from shared.mechanisms import VoteKind
from shared.privacy import DPCertificate, round_record_count
from shared.prompts import GenerationTemplate, parse_record, record_format_of
from shared.records import Record
from shared.training.config import default_delta


class VoteConfig(BaseModel):
    """Settings of a training-free DP generation run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epsilon: float = Field(8.0, gt=0, description="the run's whole budget")
    delta: float | None = Field(None, gt=0, lt=1, description="Gaussian only; default 1 / (10 N)")
    noise: VoteNoise = VoteNoise.GAUSSIAN
    noise_multiplier: float | None = Field(None, gt=0, description=(
        "Gaussian noise per count over sqrt(2); given, the budget decides how many tokens; default: calibrated "
        "so that n_samples samples of max_new_tokens fit the budget"))
    n_samples: int = Field(20, ge=1, le=100_000)
    max_new_tokens: int = Field(64, ge=1, le=1024)
    groups: int = Field(64, ge=1, le=4096, description="disjoint groups (voters) per stratum")
    shots: int = Field(1, ge=1, le=32, description="records a group's prompt shows")
    candidates: int = Field(8, ge=1, le=1000, description="the public prompt's top tokens that are voted on")
    vote: VoteKind = VoteKind.HARD
    labels: list[str] | None = Field(None, min_length=2, max_length=20, description=(
        "the task's public labels: records are split by the label their instruction names, and each sample "
        "is written for one label by that label's groups only"))
    prefix: str | None = Field(None, max_length=500, description=(
        "public start of every sample after the layout header; '{label}' becomes the sample's label"))
    seed: int | None = Field(None, description="noise seed (tests only; default: fresh randomness)")


@dataclass
class VoteRun:
    run_id: str
    samples: list[dict[str, Any]]
    certificate: DPCertificate
    plan: VotePlan
    tokens_spent: dict[str, int]
    counts: dict[str, int]
    budget: BudgetStatus
    groups: dict[str, int] = field(default_factory=dict)


def certificate_of(plan: VotePlan, *, records: int) -> DPCertificate:
    """The run's certificate: the plan's guarantee (a filter's budget, whatever was actually spent)."""
    multiplier = plan.noise_multiplier if plan.noise_multiplier is not None else 1.0 / plan.epsilon_per_token
    return DPCertificate(epsilon=plan.epsilon, delta=plan.delta, noise_multiplier=multiplier, max_grad_norm=math.inf,
                         sample_rate=1.0, steps=plan.tokens_per_stratum, accountant=plan.accountant,
                         training_records=round_record_count(records), mechanism=plan.mechanism)


def run_vote_generation(
    *, dataset_id: str, task: str, records: Sequence[Record], ledger: PrivacyLedger, config: VoteConfig, model: Any,
    tokenizer: Any, run_id: str | None = None, on_sample: Callable[[int, int], None] | None = None,
    conditions: ConditionSpace | None = None,
) -> VoteRun:
    """Generate DP samples from ``records`` without training, every token charged before it is chosen.
    With declared ``conditions`` each combination is a stratum: its records' groups vote for samples
    written for it (every prompt states it), in parallel with the other strata (disjoint records).

    Raises:
        PrivacyBudgetExceededError: the plan does not fit the dataset's budget; nothing was spent.
        TrainingConfigError: the settings buy no token, or no group has a record.
    """
    run_id = run_id or uuid.uuid4().hex
    template = GenerationTemplate.for_task(task, record_format=record_format_of(records), conditions=conditions)
    combos: dict[str | None, Conditions] = {}
    if conditions is not None:
        combos = {conditions.describe(c): c for c in conditions.combinations()}
        names, stratum_of = list(combos), condition_stratum(conditions)
    else:
        names, stratum_of = list(config.labels or []), label_stratum(config.labels) if config.labels else None
    strata: list[str | None] = list(names) if names else [None]
    groups = partition_records(records, groups=config.groups, shots=config.shots, salt=secrets.token_bytes(32),
                               strata=names or None, stratum_of=stratum_of)
    per_stratum = math.ceil(config.n_samples / len(strata))
    delta = config.delta if config.delta is not None else default_delta(len(records))
    plan = plan_votes(epsilon=config.epsilon, delta=delta, noise=config.noise, samples_per_stratum=per_stratum,
                      max_new_tokens=config.max_new_tokens, noise_multiplier=config.noise_multiplier)
    if not any(groups.by_stratum.values()):
        raise TrainingConfigError("no group has a record (do the records name the labels?)",
                                  detail={"labels": config.labels})
    ledger.open_run(dataset_id, run_id=run_id, planned_epsilon=plan.epsilon, delta=plan.delta,
                    planned_history=plan.history(plan.tokens_per_stratum), accountant=plan.accountant.value,
                    mechanism=plan.mechanism.value)
    try:
        samples, spent, counts = _generate(model, tokenizer, template, groups, strata, plan, config, ledger, run_id,
                                           on_sample, combos)
    except BaseException as exc:
        ledger.fail(run_id, note=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish(run_id, history=plan.history(plan.tokens_per_stratum), epsilon=plan.epsilon)
    return VoteRun(run_id, samples, certificate_of(plan, records=len(records)), plan,
                   {str(s): n for s, n in spent.items()}, counts, ledger.status(dataset_id),
                   {str(s): len(g) for s, g in groups.by_stratum.items()})


def _generate(
    model: Any, tokenizer: Any, template: GenerationTemplate, groups: Groups, strata: list[str | None],
    plan: VotePlan, config: VoteConfig, ledger: PrivacyLedger, run_id: str,
    on_sample: Callable[[int, int], None] | None, combos: dict[str | None, Conditions],
) -> tuple[list[dict[str, Any]], dict[str | None, int], dict[str, int]]:
    aggregator = plan.aggregator()
    spent: dict[str | None, int] = {s: 0 for s in strata}
    counts = {"attempts": 0, "generated": 0, "malformed": 0, "cut_by_budget": 0}
    samples: list[dict[str, Any]] = []
    prompts: dict[str | None, VotingPrompts] = {}

    def charge(stratum: str | None) -> Callable[[], None]:
        def before_token() -> None:
            if spent[stratum] >= plan.tokens_per_stratum:
                raise BudgetSpent
            spent[stratum] += 1
            most = max(spent.values())
            history = plan.history(most)
            if history is None:
                ledger.charge_pure(run_id, epsilon=plan.epsilon_of(most), steps=most)
            else:
                ledger.charge(run_id, history)
        return before_token

    for index in range(config.n_samples):
        stratum = strata[index % len(strata)]
        if not groups.by_stratum.get(stratum) or spent[stratum] >= plan.tokens_per_stratum:
            if all(spent[s] >= plan.tokens_per_stratum or not groups.by_stratum.get(s) for s in strata):
                break
            continue
        given = combos.get(stratum, ())
        label = dict(given).get("label") if given else stratum
        start = template.assistant_prefix() + (config.prefix.format(label=label or "") if config.prefix else "")
        if stratum not in prompts:
            prompts[stratum] = VotingPrompts(
                model, tokenizer, group_prompts=[render_prompt(tokenizer, group_messages(template, g, given), start="")
                                                 for g in groups.by_stratum[stratum]],
                public_prompt=render_prompt(tokenizer, template.messages(given), start=""))
        counts["attempts"] += 1
        out = prompts[stratum].decode(start=start, aggregator=aggregator, max_new_tokens=config.max_new_tokens,
                                      candidates=config.candidates, vote=config.vote, before_token=charge(stratum))
        if not out.finished and out.tokens < config.max_new_tokens:
            counts["cut_by_budget"] += 1
        else:
            fields = parse_record(template, start + out.text)
            if fields is None:
                counts["malformed"] += 1
            else:
                counts["generated"] += 1
                extra = {"conditions": dict(given)} if given else {}
                samples.append({**fields, **extra, "label": label, "tokens": out.tokens, "finished": out.finished})
        if on_sample is not None:
            on_sample(index + 1, config.n_samples)
    return samples, spent, counts
