from tests.unit.audit.conftest import rig

__all__ = ["rig"]
