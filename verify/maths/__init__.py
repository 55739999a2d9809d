"""Mathematics: losses, fields, optimiser maps, modified equations, stability operators, networks.

The submodules load on first use (``theorycheck.maths.constants`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "adaptive", "autograd_model", "callable_loss", "constants", "datasets", "deep_networks", "fields", "gradient_field",
    "jax_model", "jets", "lie", "losses", "minima", "models", "modified", "modified_loss", "momentum",
    "networks", "numbers", "optimisers", "optimizer_field", "output_losses", "programs", "protocol", "sampling",
    "scalar", "series", "sgd_modified", "sgd_momentum", "slow_manifold", "stability", "torch_model",
])
