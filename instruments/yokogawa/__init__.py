"""Yokogawa drivers: AQ6370-series optical spectrum analysers."""

from instruments.yokogawa.aq6370 import AQ6370, SmsrResult, Spectrum

__all__ = ["AQ6370", "SmsrResult", "Spectrum"]
