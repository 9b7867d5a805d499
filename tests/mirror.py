"""The data mirror the tests may use: the folder named by LOSSBOOK_DATA, and nothing guessed.

``scripts/test.sh`` runs the suite twice, once with LOSSBOOK_DATA set to the mirror and once with it unset
(the bundled data only, as a user who downloads lossbook has). Tests that need the mirror's real rows are
marked ``@needs_mirror`` and skip, with the reason, in the second run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MIRROR: Path | None = Path(os.environ["LOSSBOOK_DATA"]).expanduser() if os.environ.get("LOSSBOOK_DATA") else None
HAS_MIRROR = MIRROR is not None and (MIRROR / "README.md").is_file()
needs_mirror = pytest.mark.skipif(
    not HAS_MIRROR,
    reason=f"needs the real rows of a data mirror; LOSSBOOK_DATA is {str(MIRROR) if MIRROR else 'unset'}",
)
