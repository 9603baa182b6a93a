"""The course's math: activations, costs, initializers, the layers' forward and backward steps,
the L-layer `Network` with its packed parameters theta, and gradient checking.

Imports NumPy only, and nothing of mlpkit's other subpackages, with two exceptions made when
they are used: `Network.fit` calls `mlpkit.training.fit` (the loop lives above the math), and
`Network.score` calls scikit-learn's metrics.
"""

from .gradcheck import gradient_check
from .network import Network
from .packed import Packed

__all__ = ["Network", "Packed", "gradient_check"]
