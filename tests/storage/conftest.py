"""Gives the storage tests the private redis-server fixtures from ``tests.redis_server``.

Once the root conftest lists ``tests.redis_server`` in ``pytest_plugins`` this file is
redundant (it then does nothing) and can be deleted.
"""

import pytest

_PLUGIN = "tests.redis_server"


def pytest_configure(config: pytest.Config) -> None:
    # Registering the module as a plugin, rather than importing its fixtures here,
    # keeps a single session-wide server when the root conftest registers it too.
    if not config.pluginmanager.has_plugin(_PLUGIN):
        config.pluginmanager.import_plugin(_PLUGIN)
