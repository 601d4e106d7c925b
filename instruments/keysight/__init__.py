"""Keysight drivers: FlexDCA sampling scope, N774xA/8163B power meters, N776xA attenuators,
M8040A BERT, E36312A supply, N773x optical switches."""

from instruments.keysight.e36312a import E36312A
from instruments.keysight.flexdca import FlexDCA
from instruments.keysight.m8040a import BerResult, M8040A
from instruments.keysight.n77xx import N7744A, N7745A, Keysight8163B
from instruments.keysight.n773x import N7731C, N7734A, OpticalSwitch
from instruments.keysight.n776x import N7762A, N7764A

__all__ = ["BerResult", "E36312A", "FlexDCA", "Keysight8163B", "M8040A", "N7731C", "N7734A", "N7744A", "N7745A",
           "N7762A", "N7764A", "OpticalSwitch"]
