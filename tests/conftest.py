"""Hypothesis profiles. `ci` (the default) is derandomized: every run draws the same examples, so a
red CI run is a code change, never a lucky draw. `explore` draws fresh examples and remembers failures in
.hypothesis/: `HYPOTHESIS_PROFILE=explore make test`."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
