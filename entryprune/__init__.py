"""EntryPrune (Zimmer, Okanovic, Hoefler, arXiv 2410.02344) as scikit-learn selectors."""

from entryprune.flex import EntryPruneFlexSelector
from entryprune.selector import EntryPruneSelector

__all__ = ["EntryPruneFlexSelector", "EntryPruneSelector"]
