"""Loss-threshold membership inference (Yeom et al., 2018): a record the model trained on tends to have a
lower loss. The attack's AUC over members and held-out non-members is 0.5 when it learns nothing."""

from __future__ import annotations

from collections.abc import Sequence


def loss_threshold_auc(member_losses: Sequence[float], nonmember_losses: Sequence[float]) -> float:
    """P(a random member's loss < a random non-member's loss), ties counted half (the ROC AUC of the
    score -loss), computed exactly by ranks."""
    if not member_losses or not nonmember_losses:
        raise ValueError("need members and non-members")
    scored = sorted([(loss, 1) for loss in member_losses] + [(loss, 0) for loss in nonmember_losses])
    # average ranks (1-based) over ties, ascending by loss; members should rank low
    ranks: list[float] = [0.0] * len(scored)
    i = 0
    while i < len(scored):
        j = i
        while j + 1 < len(scored) and scored[j + 1][0] == scored[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    n_m, n_n = len(member_losses), len(nonmember_losses)
    member_rank_sum = sum(r for r, (_, is_member) in zip(ranks, scored, strict=True) if is_member)
    # Mann-Whitney U of non-members having higher loss = pairs (member, non-member) with member lower
    u_members_higher = member_rank_sum - n_m * (n_m + 1) / 2
    return 1.0 - u_members_higher / (n_m * n_n)


def calibrated_auc(member_losses: Sequence[float], nonmember_losses: Sequence[float],
                   member_reference: Sequence[float], nonmember_reference: Sequence[float]) -> float:
    """The loss attack calibrated by a reference model (Carlini et al., "Membership Inference Attacks From
    First Principles", 2022, the offline LiRA baseline's idea; Watson et al., 2022): each record's loss minus
    its loss under the public base model, so a record that is simply easy does not look like a member."""
    if len(member_losses) != len(member_reference) or len(nonmember_losses) != len(nonmember_reference):
        raise ValueError("each record needs its reference loss")
    return loss_threshold_auc([a - b for a, b in zip(member_losses, member_reference, strict=True)],
                              [a - b for a, b in zip(nonmember_losses, nonmember_reference, strict=True)])
