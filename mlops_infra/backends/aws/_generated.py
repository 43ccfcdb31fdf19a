"""The generated secret's provider under the module path older stacks pickled.

Dynamic providers are pickled by reference (module and class name) into a stack's state
(``tests/unit/test_provider_contract.py``). Stacks created before the generated secret moved
to :mod:`._generated_secret` name ``mlops_infra.backends.aws._generated`` for its provider;
this alias keeps their ``refresh``, ``up`` and ``destroy`` working. Import nothing from here.
"""

from mlops_infra.backends.aws import _generated_secret

_GeneratedSecretProvider = _generated_secret._GeneratedSecretProvider  # pyright: ignore[reportPrivateUsage]

__all__: list[str] = []
