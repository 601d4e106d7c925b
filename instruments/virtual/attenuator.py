"""Virtual Keysight N7764A variable optical attenuator (4 channels: 1, 3, 5, 7; power monitor).

Commands (N776xA programming guide, ``reference/instruments-scpi-and-stations.md`` §1.4 and
its appendix; the 8163A/B attenuator command set of the Keysight 816x programming guide):
``:INPut#:ATTenuation`` (dB, MIN/MAX), ``:INPut#:ATTenuation:SPEed`` (dB/s),
``:INPut#:OFFSet`` (dB), ``:INPut#:WAVelength`` (m), ``:OUTPut#[:STATe]`` (shutter, ON =
open), ``:OUTPut#:APOWeron`` (power-on shutter state), ``:OUTPut#:POWer`` (set point in the
``:OUTPut#:POWer:UNit`` unit, ``DBM``/``W`` suffixes accepted), ``:OUTPut#:POWer:CONTRol``
(power control: ON moves the attenuation until the monitored output equals the set point,
and keeps it there), ``:OUTPut#:POWer:OFFSet`` (dB), ``:OUTPut#:POWer:UNit 0|1|DBM|W``,
``:OUTPut#:ATIMe`` (s), ``:READ#[:SCALar]:POWer[:DC]?`` / ``:FETCh#...?`` (output power
monitor), and ``:OUTPut#:APMode 0|1`` kept for 8156A compatibility: setting it has no effect,
its query answers whether the power set point (1) or the attenuation (0) was changed last.

Channel 1 is the bench link.  The attenuation shown is ``A = A_excess + offset`` where
``A_excess`` (0..45 dB) is the attenuation above the insertion loss; with power control on
the channel chooses ``A_excess`` so that the monitored output equals the set point (clipped
to 0..45 dB, as the instrument's range allows), and an attenuation setting is refused
(-221) while it is on.  With power control off a set point is only stored.
"""

from __future__ import annotations

import dataclasses
import math

from instruments.virtual.grammar import CommandError, boolean, nr1, nr3
from instruments.virtual.physics import dbm_to_w, w_to_dbm
from instruments.virtual.server import Request, VirtualInstrument

#: Excess attenuation range of the N7764A, dB.
MAX_ATTENUATION_DB = 45.0


@dataclasses.dataclass
class _Channel:
    excess_db: float = 0.0
    offset_db: float = 0.0
    speed_db_per_s: float = 12.0
    wavelength_m: float = 1550e-9
    shutter_open: bool = False
    power_on_open: bool = False
    power_changed_last: bool = False
    setpoint_dbm: float = 0.0
    control: bool = False
    power_offset_db: float = 0.0
    unit_watt: bool = False
    averaging_time_s: float = 0.1


class N7764A(VirtualInstrument):
    """Virtual Keysight N7764A 4-channel attenuator with power monitors (channel 1 on the link).

    Parameters
    ----------
    link : BenchLink
        The shared physics; channel 1's attenuation and shutter drive it.
    """

    idn = "Keysight Technologies,N7764A,MY00000004,V1.0.0-virtual"
    #: Channel numbers of the 4-channel model.
    CHANNELS: tuple[int, ...] = (1, 3, 5, 7)

    def reset(self) -> None:
        """Every channel: 0 dB, shutter closed, power control off, dBm."""
        self._channels = {n: _Channel() for n in self.CHANNELS}
        self._apply(1)

    def build(self) -> None:
        """Register the attenuator commands."""
        self.add(":INPut#:ATTenuation", set=self._set_att, query=lambda r: nr3(self._attenuation(r)))
        self.add(":INPut#:ATTenuation:SPEed", set=self._set_speed, query=lambda r: nr3(self._ch(r).speed_db_per_s))
        self.add(":INPut#:OFFSet", set=self._set_offset, query=lambda r: nr3(self._ch(r).offset_db))
        self.add(":INPut#:WAVelength", set=self._set_wav, query=lambda r: nr3(self._ch(r).wavelength_m))
        self.add(":OUTPut#[:STATe]", set=self._set_shutter, query=lambda r: boolean(self._ch(r).shutter_open))
        self.add(":OUTPut#:APOWeron", set=self._set_apow, query=lambda r: boolean(self._ch(r).power_on_open))
        self.add(":OUTPut#:APMode", set=self._set_mode, query=lambda r: nr1(int(self._ch(r).power_changed_last)))
        self.add(":OUTPut#:POWer", set=self._set_power, query=self._power_setpoint)
        self.add(":OUTPut#:POWer:CONTRol", set=self._set_control, query=lambda r: boolean(self._ch(r).control))
        self.add(":OUTPut#:POWer:OFFSet", set=self._set_power_offset, query=lambda r: nr3(self._ch(r).power_offset_db))
        self.add(":OUTPut#:POWer:UNit", set=self._set_unit, query=lambda r: nr1(int(self._ch(r).unit_watt)))
        self.add(":OUTPut#:ATIMe", set=self._set_atim, query=lambda r: nr3(self._ch(r).averaging_time_s))
        self.add(":READ#[:SCALar]:POWer[:DC]", query=self._monitor)
        self.add(":FETCh#[:SCALar]:POWer[:DC]", query=self._monitor)

    # --- physics ----------------------------------------------------------------------
    def _ch(self, req: Request) -> _Channel:
        n = int(req.suffix(0))
        ch = self._channels.get(n)
        if ch is None:
            raise CommandError(-114, f"channel {n} does not exist; channels {self.CHANNELS}")
        return ch

    def _input_w(self, n: int) -> float:
        return self.link.attenuator_input_w() if (self.link is not None and n == 1) else 0.0

    def _insertion_loss_db(self) -> float:
        return self.link.params.path.attenuator_insertion_loss_db if self.link is not None else 1.5

    def _apply(self, n: int) -> None:
        """Recompute a channel under power control and push channel 1's state into the link."""
        ch = self._channels[n]
        if ch.control:
            p_in = self._input_w(n)
            if p_in > 0:
                target_dbm = ch.setpoint_dbm - ch.power_offset_db
                want = w_to_dbm(p_in) - self._insertion_loss_db() - target_dbm
                ch.excess_db = min(MAX_ATTENUATION_DB, max(0.0, want))
        if n == 1 and self.link is not None:
            self.link.set_attenuation(ch.excess_db)
            self.link.set_shutter(ch.shutter_open)

    def _output_w(self, n: int) -> float:
        ch = self._channels[n]
        if not ch.shutter_open:
            return 0.0
        return self._input_w(n) * 10.0 ** (-(ch.excess_db + self._insertion_loss_db()) / 10.0)

    def _attenuation(self, req: Request) -> float:
        ch = self._ch(req)
        if ch.control:
            self._apply(int(req.suffix(0)))
        return ch.excess_db + ch.offset_db

    # --- handlers -------------------------------------------------------------------------
    def _set_att(self, req: Request) -> None:
        req.args.expect(1)
        ch = self._ch(req)
        low, high = ch.offset_db, ch.offset_db + MAX_ATTENUATION_DB
        value = req.args.number(0, units="DB", low=low, high=high)
        if ch.control:
            raise CommandError(-221, "power control is on (:OUTPut:POWer:CONTRol ON)")
        ch.excess_db = value - ch.offset_db
        ch.power_changed_last = False
        self._apply(int(req.suffix(0)))

    def _set_speed(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).speed_db_per_s = req.args.number(0, low=0.1, high=1000.0)

    def _set_offset(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).offset_db = req.args.number(0, units="DB", low=-200.0, high=200.0)

    def _set_wav(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).wavelength_m = req.args.number(0, units="M", low=1260e-9, high=1640e-9)

    def _set_shutter(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).shutter_open = req.args.boolean(0)
        self._apply(int(req.suffix(0)))

    def _set_apow(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).power_on_open = req.args.boolean(0)

    def _set_mode(self, req: Request) -> None:
        """``:OUTPut:APMode`` is accepted for 8156A compatibility and changes nothing."""
        req.args.expect(1)
        req.args.boolean(0)
        self._ch(req)

    def _set_power(self, req: Request) -> None:
        req.args.expect(1)
        ch = self._ch(req)
        value, unit = req.args.quantity(0, units=("DBM", "W"))
        watts = unit == "W" or (unit is None and ch.unit_watt)
        if watts:
            if not 1e-9 <= value <= 0.2:
                raise CommandError(-222, f"power set point {value:g} W outside [1e-9, 0.2] W")
            value = w_to_dbm(value)
        if not -60.0 <= value <= 23.0:
            raise CommandError(-222, f"power set point {value:g} dBm outside [-60, 23] dBm")
        ch.setpoint_dbm = value
        ch.power_changed_last = True
        self._apply(int(req.suffix(0)))

    def _power_setpoint(self, req: Request) -> str:
        ch = self._ch(req)
        return nr3(dbm_to_w(ch.setpoint_dbm) if ch.unit_watt else ch.setpoint_dbm)

    def _set_control(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).control = req.args.boolean(0)
        self._apply(int(req.suffix(0)))

    def _set_power_offset(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).power_offset_db = req.args.number(0, units="DB", low=-200.0, high=200.0)
        self._apply(int(req.suffix(0)))

    def _set_unit(self, req: Request) -> None:
        req.args.expect(1)
        token = req.args.token(0).upper()
        if token not in ("0", "1", "DBM", "W", "WATT"):
            raise CommandError(-224, f"unit {req.args.token(0)!r}: 0|1|DBM|W")
        self._ch(req).unit_watt = token in ("1", "W", "WATT")

    def _set_atim(self, req: Request) -> None:
        req.args.expect(1)
        self._ch(req).averaging_time_s = req.args.number(0, units="S", low=2e-3, high=1.0)

    def _monitor(self, req: Request) -> str:
        ch = self._ch(req)
        n = int(req.suffix(0))
        if ch.control:
            self._apply(n)
        p = self._output_w(n) * 10.0 ** (ch.power_offset_db / 10.0)
        if ch.unit_watt:
            return nr3(p)
        return nr3(math.inf) if p <= 0 else nr3(w_to_dbm(p))


__all__ = ["MAX_ATTENUATION_DB", "N7764A"]
