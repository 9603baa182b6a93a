"""mlpkit: deep neural networks from scratch in vectorized NumPy, in the course's notation."""

from .gradcheck import gradient_check
from .network import Network
from .training import History

__version__ = "0.1.0"

__all__ = ["History", "Network", "gradient_check", "__version__"]
