"""axe-core (vendored as axe.min.js, MPL-2.0, see axe.LICENSE) run inside a page: the
serious and critical accessibility problems it finds, named for a readable failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = (Path(__file__).parent / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


def serious_problems(page: Any) -> list[str]:
    """Run axe on the page as it is now; one line per serious or critical violation."""
    page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
