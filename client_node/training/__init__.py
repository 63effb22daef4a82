"""DP-LoRA training: records -> chat examples -> opacus DP-SGD on peft LoRA -> adapter + certificate."""

from client_node.training.config import Precision, TrainConfig
from client_node.training.engine import PrivateLoraTrainer, StepInfo, TrainPlan, TrainResult

__all__ = ["Precision", "PrivateLoraTrainer", "StepInfo", "TrainConfig", "TrainPlan", "TrainResult"]
