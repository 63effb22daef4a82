"""LoRA fine-tuning of a causal LM on records: DP-SGD (opacus) on the client, plain on the server.

Both nodes train the same way (records -> chat examples -> per-sequence loss -> LoRA); only the client
adds DP-SGD. Heavy (imports torch); ``import shared`` does not load it.
"""

from shared.training.config import Precision, TrainConfig
from shared.training.engine import PrivateLoraTrainer, StepInfo, TrainPlan, TrainResult

__all__ = ["Precision", "PrivateLoraTrainer", "StepInfo", "TrainConfig", "TrainPlan", "TrainResult"]
