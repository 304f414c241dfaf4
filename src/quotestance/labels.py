"""The label sets and their order: the one source of truth.

Every saved model stores these lists in its config, so a model trained with one order keeps
predicting in that order even if this module changes later.
"""
from __future__ import annotations

STANCE_LABELS: tuple[str, ...] = ("pro-withdrawal", "pro-presence", "neutral")
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

#: task name -> label order; the two heads of the model, in this order.
TASKS: dict[str, tuple[str, ...]] = {"stance": STANCE_LABELS, "sentiment": SENTIMENT_LABELS}

#: The target used when a record names no deployment.
DEFAULT_TARGET = "foreign military presence"


def check_label(task: str, value: object, where: str = "") -> str | None:
    """Return ``value`` if it is a valid label for ``task`` (or None), else raise naming the place."""
    if value is None:
        return None
    if value not in TASKS[task]:
        place = f"{where}: " if where else ""
        raise ValueError(f"{place}field '{task}' has {value!r}; expected one of {list(TASKS[task])}")
    return value  # type: ignore[return-value]
