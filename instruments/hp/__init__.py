"""HP/Agilent legacy drivers: 8156A attenuator."""

from instruments.hp.hp8156a import HP8156A

__all__ = ["HP8156A"]
