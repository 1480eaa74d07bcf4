"""`python -m scripts.seed [--models N]`: migrate, seed the demo world, then N bulk models (tqdm)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect


async def _community(models: int) -> None:
    try:
        module = importlib.import_module("scripts.seed.community")
    except ModuleNotFoundError as exc:
        if exc.name != "scripts.seed.community":
            raise
        return
    seed_community = module.seed_community
    params = inspect.signature(seed_community).parameters
    kwargs = {"models": models} if "models" in params else {}
    await seed_community(**kwargs)


async def run(models: int) -> dict:
    from scripts.seed.bulk import seed_models
    from scripts.seed.demo import seed_demo
    from shared.db.pool import close_pools

    try:
        demo = await seed_demo()
        added = await seed_models(models) if models else {"models": 0}
        await _community(models)
    finally:
        await close_pools()
    return {"demo": demo, "bulk": added}


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed the catalogue (demo world + N models)")
    parser.add_argument("--models", type=int, default=1000, help="bulk models to have (default 1000)")
    args = parser.parse_args()
    from shared.config import get_settings
    from shared.db.pool import database_url
    from shared.migrate import apply_migrations

    apply_migrations(database_url(get_settings()))
    result = asyncio.run(run(args.models))
    print(f"models added: {result['bulk']['models']}")
    for login in result["demo"]["logins"]:
        print(f"  {login['role']:<9} {login['email']} / {login['password']}")


if __name__ == "__main__":
    main()
