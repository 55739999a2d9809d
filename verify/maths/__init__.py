"""Mathematics: losses, fields, optimiser maps, modified equations, stability operators, networks.

The submodules load on first use (``theorycheck.maths.constants`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "adaptive", "callable_loss", "constants", "datasets", "fields", "gradient_field", "jets", "lie", "losses", "models",
    "modified", "modified_loss", "momentum",
    "networks", "numbers", "optimisers", "output_losses", "autograd_model", "jax_model", "torch_model", "sampling", "sgd_modified", "sgd_momentum", "stability",
])
