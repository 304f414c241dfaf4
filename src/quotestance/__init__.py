"""quotestance: stance toward foreign military presence, and sentiment, of quoted statements.

The public API: ``StancePredictor`` (load a model folder, ``predict``, ``predict_proba``),
``extract_quotes`` and ``Quote`` (quotes and speakers from article text), and the label sets.
"""
from quotestance.labels import DEFAULT_TARGET, SENTIMENT_LABELS, STANCE_LABELS, TASKS
from quotestance.predictor import StancePredictor
from quotestance.quotes import Quote, extract_quotes

__version__ = "0.1.0"
__all__ = ["StancePredictor", "extract_quotes", "Quote", "STANCE_LABELS", "SENTIMENT_LABELS", "TASKS",
           "DEFAULT_TARGET", "__version__"]
