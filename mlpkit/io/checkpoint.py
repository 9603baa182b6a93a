"""Checkpoints: a training callback that saves the model, with its training state, as it trains."""

from ..nn.checks import check_int
from .model_files import save


class Checkpoint:
    """Save `model` to `path` (atomically, with the network's training state) every `every`
    epochs, so that `Network.fit(..., resume=True)` or `mlpkit train --resume` can continue from
    the last one. metadata(loop) gives the file's metadata at that moment (a dict)."""

    def __init__(self, model, path, every, metadata=None):
        self.model, self.path = model, path
        self.every = check_int(every, "checkpoint every", 1)
        self.metadata = metadata or (lambda loop: {})
        self.saved_at = None  # epochs done at the last checkpoint

    def on_epoch_end(self, loop):
        if loop.state.epoch % self.every == 0:
            self.save(loop)
        return False

    def save(self, loop):
        """Write the checkpoint now (the network's training state is the loop's)."""
        loop.net.training_state = loop.state
        save(self.model, self.path, metadata=self.metadata(loop))
        self.saved_at = loop.state.epoch
