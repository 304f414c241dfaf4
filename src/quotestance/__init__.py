"""quotestance: stance toward foreign military presence, and sentiment, of quoted statements."""
from quotestance.labels import DEFAULT_TARGET, SENTIMENT_LABELS, STANCE_LABELS, TASKS
from quotestance.predictor import StancePredictor

__all__ = ["StancePredictor", "STANCE_LABELS", "SENTIMENT_LABELS", "TASKS", "DEFAULT_TARGET"]
__version__ = "0.1.0"
