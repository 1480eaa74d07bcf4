"""Demo and benchmark data for the catalogue.

    python -m scripts.seed [--models N]     dictionaries, brands with logos, N models (COPY), demo world
    await seed_demo()                        idempotent small demo world + demo accounts (used by `make run`)

Images and archives are stored once per run and shared by every bulk model (their keys are reused),
so 100,000 models take seconds of storage work, not hours.
"""

from scripts.seed.bulk import seed_models
from scripts.seed.demo import DEMO_PASSWORD, seed_demo

__all__ = ["DEMO_PASSWORD", "seed_demo", "seed_models"]
