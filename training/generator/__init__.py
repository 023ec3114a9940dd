"""The labelled synthetic corpus: scenario families written against `builder.Run`, labelled by
the risk policy in `data/risk_policy.yaml`."""

from cbm_training.generator.builder import DOMAINS, FAMILIES, VARIANTS, Family, Run, family

__all__ = ["DOMAINS", "FAMILIES", "VARIANTS", "Family", "Run", "family", "load_families"]


def load_families() -> dict[str, Family]:
    """Import every family module so that all families are registered."""
    import importlib
    import pkgutil

    from cbm_training.generator import families

    for module in pkgutil.iter_modules(families.__path__):
        importlib.import_module(f"cbm_training.generator.families.{module.name}")
    return FAMILIES
