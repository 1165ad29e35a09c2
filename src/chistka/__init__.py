"""chistka: an agent-based simulator of the Soviet party purges and the Great Terror.

One-line use::

    from chistka import Sim
    results = Sim.from_scenario("party-purges-1921-1936", seed=1).run()
    results.to_frame()
"""

from __future__ import annotations

__version__ = "0.1.0"

from chistka.engine import Sim  # noqa: E402
from chistka.results import Results  # noqa: E402
from chistka.scenario import Scenario, builtin_scenarios, load_scenario  # noqa: E402

__all__ = ["Results", "Scenario", "Sim", "__version__", "builtin_scenarios", "load_scenario"]
