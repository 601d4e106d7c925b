"""End-of-life column of optics budget: the aged lasers' bias, power and margin against closed forms."""

import dataclasses
import json
import math

import pytest

from models.aging import LaserAging, aged_module
from models.presets import preset
from models.thermal import chip_temperature_c
from optics.budget import END_OF_LIFE_METHOD, ClosedFormPhysics, EndOfLife, link_budget
from optics.budget.model_physics import ModelPhysics
from optics.errors import InvalidParameter, InvalidType


def _by_hand(laser, t_chip, delta, t_age):
    """APC laser aged by a bias rise ``delta`` at ``t_age``, seen at ``t_chip``: (I_BOL, I_EOL, P_EOL) from
    the L-I equations I_th(T) = I_th,ref e^((T-T_ref)/T0), eta(T) = eta_ref e^(-(T-T_ref)/T1)."""
    def ith(t):
        return laser.threshold_current_a * math.exp((t - laser.temperature_ref_c) / laser.t0_k)

    def eta(t):
        return laser.slope_efficiency_w_per_a * math.exp(-(t - laser.temperature_ref_c) / laser.t1_k)

    i0_age = ith(t_age) + laser.apc_power_w / eta(t_age)
    ith_eol = ith(t_chip) + delta * i0_age * math.exp((t_chip - t_age) / laser.t0_k)
    i_bol = ith(t_chip) + laser.apc_power_w / eta(t_chip)
    needed = ith_eol + laser.apc_power_w / eta(t_chip)
    limit = laser.max_bias_current_a
    i_eol = needed if limit is None else min(needed, limit)
    return i_bol, i_eol, eta(t_chip) * (i_eol - ith_eol)


def _aged_chip_c(module, t_case, hours, t_age):
    """Die temperature (°C) of ``module`` aged ``hours`` at ``t_age``, at case ``t_case``: the aged lasers
    dissipate more, so its die runs warmer than the new module's (models.chip_temperature's fixed point)."""
    return chip_temperature_c(aged_module(module, hours, temperature_c=t_age), t_case)


def _static_mzm_oma_w(module, t_chip):
    """Static OMA (per W of light) of lane 0's MZM at ``t_chip``: its transfer at the outer drive +-swing/2."""
    tx = module.lanes[0].transmitter
    mod = tx.modulator.at_temperature(t_chip, tx.laser.wavelength_at(t_chip))
    v = tx.driver.swing_v / 2.0
    return float(mod.power_transfer(v) - mod.power_transfer(-v))


def _limited_budget_at_70c():
    """400GBASE-DR4 with a 200 mA laser driver limit budgeted at 70 °C case with an end-of-life column:
    ``(module, lane-0 laser, its ModelPhysics, the budget, new die °C, aged die °C)``."""
    limited = _current_limited(preset("400GBASE-DR4"), 0.2)
    mp = ModelPhysics(module=limited, sensitivity="closed-form")
    b = link_budget("400GBASE-DR4", temperature_c=70.0, physics=mp, end_of_life=EndOfLife())
    t_chip = chip_temperature_c(limited, 70.0)
    t_eol = _aged_chip_c(limited, 70.0, LaserAging().hours_to_end_of_life(t_chip), t_chip)
    return limited, limited.lanes[0].transmitter.laser, mp, b, t_chip, t_eol


def _current_limited(module, max_bias_current_a):
    """``module`` with every laser's driver current limit set to ``max_bias_current_a`` (A)."""
    lanes = [dataclasses.replace(ln, transmitter=dataclasses.replace(
        ln.transmitter, laser=dataclasses.replace(ln.transmitter.laser, max_bias_current_a=max_bias_current_a)))
        for ln in module.lanes]
    return dataclasses.replace(module, lanes=lanes)


def test_apc_holds_power_to_the_end_of_life_criterion():
    # default: aged to +20 % bias at the budget's own chip temperature (70 °C case, the die's solved
    # temperature, models.chip_temperature): the APC still has
    # headroom below its 250 mA limit, so the launch power and the margin hold, the bias is 1.2 x
    m = preset("400GBASE-DR4")
    laser = m.lanes[0].transmitter.laser
    b = link_budget("400GBASE-DR4", temperature_c=70.0, physics=ModelPhysics(sensitivity="closed-form"),
                    end_of_life=EndOfLife())
    eol = b.end_of_life
    assert eol.method == END_OF_LIFE_METHOD
    t_chip = chip_temperature_c(m, 70.0)
    i_bol, i_crit, _ = _by_hand(laser, t_chip, 0.2, t_chip)
    assert i_crit == pytest.approx(1.2 * i_bol, rel=1e-12)   # the criterion: +20 % at the aging temperature
    # at end of life the aged die runs warmer (the lasers dissipate more): the bias there
    t_eol = _aged_chip_c(m, 70.0, LaserAging().hours_to_end_of_life(t_chip), t_chip)
    assert 1.0 < t_eol - t_chip < 3.0     # about 2.1 K (+20 % bias on every laser)
    assert eol.item("chip_temperature_bol").value == t_chip and eol.item("chip_temperature_eol").value == t_eol
    _, i_eol, p_eol = _by_hand(laser, t_eol, 0.2, t_chip)
    assert eol.item("laser_bias_bol").value == pytest.approx(i_bol * 1e3, rel=1e-9)
    assert eol.item("laser_bias_eol").value == pytest.approx(i_eol * 1e3, rel=1e-9)
    assert i_eol < laser.max_bias_current_a and p_eol == pytest.approx(laser.apc_power_w, rel=1e-9)
    # the power holds; what remains is the MZM's static OMA change on the warmer aged die (~2e-3 dB)
    d_mzm = 10 * math.log10(_static_mzm_oma_w(m, t_chip) / _static_mzm_oma_w(m, t_eol))
    assert eol.item("aging_penalty").value == pytest.approx(d_mzm, abs=2e-4)
    assert eol.margin_db == pytest.approx(b.physics.margin_db - d_mzm, abs=2e-4)
    # the aged lasers draw more: module power rises by the extra laser current's electrical power
    assert eol.item("module_power_eol").value > eol.item("module_power_bol").value
    # hours to the criterion at the chip temperature from the closed form t_ref (EOL/delta_ref)^(1/m) / AF
    af = math.exp(0.5 / 8.617333262e-5 * (1 / 328.15 - 1 / (t_chip + 273.15)))
    hours = LaserAging().hours_to_end_of_life(t_chip)
    assert hours == pytest.approx(1e5 * (0.2 / 0.08) ** 2 / af, rel=1e-12)
    assert f"{hours:.4g} h at a {t_chip:g} °C chip" in " ".join(eol.notes)


def test_current_limit_costs_launch_power_closed_form():
    # a driver limit of 200 mA: the +20 % bias an 80 °C chip needs at end of life (220 mA) is beyond it,
    # the power falls to eta (I_max - I_th,EOL) and the margin by 10 log10(P_set / P_EOL)
    limited, laser, mp, b, t_chip, t_eol = _limited_budget_at_70c()
    _, i_eol, p_eol = _by_hand(laser, t_eol, 0.2, t_chip)
    assert i_eol == 0.2 and p_eol < laser.apc_power_w
    cost = 10 * math.log10(laser.apc_power_w / p_eol)
    assert cost > 0.3     # about 0.5 dB
    assert b.physics.margin_db - b.end_of_life.margin_db == pytest.approx(
        b.end_of_life.item("aging_penalty").value, abs=1e-6)
    assert 10 ** (b.end_of_life.item("laser_power_eol").value / 10) * 1e-3 == pytest.approx(p_eol, rel=1e-9)
    assert b.end_of_life.item("laser_bias_eol").value == pytest.approx(200.0, rel=1e-12)
    # stated hours at a stated temperature: 10^5 h at a 55 °C chip is delta_ref = 8 % there, seen at 80 °C
    # (its threshold rise grows by exp(25 K / T0) from 55 to 80 °C: the 200 mA limit is reached again)
    b2 = link_budget("400GBASE-DR4", temperature_c=70.0, physics=mp,
                     end_of_life=EndOfLife(hours=1e5, temperature_c=55.0))
    # (at the aged die's solved temperature the aged bias stays just below the 200 mA limit: no power lost)
    t_eol2 = _aged_chip_c(limited, 70.0, 1e5, 55.0)
    _, i_eol2, p_eol2 = _by_hand(laser, t_eol2, 0.08, 55.0)
    assert i_eol2 < 0.2 and p_eol2 == pytest.approx(laser.apc_power_w, rel=1e-12)
    # what remains is the MZM's static OMA change on the warmer aged die
    d_mzm2 = 10 * math.log10(_static_mzm_oma_w(limited, t_chip) / _static_mzm_oma_w(limited, t_eol2))
    assert b2.end_of_life.item("aging_penalty").value == pytest.approx(
        10 * math.log10(laser.apc_power_w / p_eol2) + d_mzm2, abs=2e-4)
    # the preset's 250 mA limit leaves headroom for it
    b3 = link_budget("400GBASE-DR4", temperature_c=70.0, physics=ModelPhysics(sensitivity="closed-form"),
                     end_of_life=EndOfLife(hours=1e5, temperature_c=55.0))
    m = preset("400GBASE-DR4")
    laser = m.lanes[0].transmitter.laser
    _, i_eol3, _ = _by_hand(laser, _aged_chip_c(m, 70.0, 1e5, 55.0), 0.08, 55.0)
    assert i_eol3 < 0.25
    assert b3.end_of_life.item("laser_bias_eol").value == pytest.approx(i_eol3 * 1e3, rel=1e-9)
    assert b3.end_of_life.item("aging_penalty").value == pytest.approx(0.0, abs=2e-3)  # the aged die runs a little warmer (MZM)


def test_end_of_life_bad_input():
    with pytest.raises(InvalidParameter):
        EndOfLife(hours=-1.0)
    with pytest.raises(InvalidParameter):
        EndOfLife(temperature_c=400.0)
    with pytest.raises(InvalidType):
        EndOfLife(aging="fast")
    with pytest.raises(InvalidType, match="ModelPhysics"):
        link_budget("400GBASE-DR4", physics=ClosedFormPhysics(), end_of_life=EndOfLife())
    with pytest.raises(InvalidParameter):
        link_budget("400GBASE-DR4", end_of_life=100000.0)


def test_cli_budget_end_of_life(capsys):
    from optics.cli import main

    assert main(["budget", "--phy", "400GBASE-DR4", "--eol-hours", "100000", "--eol-temperature-c", "55",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    eol = {i["name"]: i["value"] for i in d["end_of_life"]["items"]}
    laser = preset("400GBASE-DR4").lanes[0].transmitter.laser
    _, i_eol, _ = _by_hand(laser, _aged_chip_c(preset("400GBASE-DR4"), 25.0, 1e5, 55.0), 0.08, 55.0)
    assert eol["laser_bias_eol"] == pytest.approx(i_eol * 1e3, rel=1e-9)
    assert d["end_of_life"]["method"] == END_OF_LIFE_METHOD
    assert main(["budget", "--phy", "400GBASE-DR4", "--physics", "closed-form", "--json"]) == 0
    assert "end_of_life" not in json.loads(capsys.readouterr().out)
    assert main(["budget", "--phy", "400GBASE-DR4", "--physics", "closed-form", "--eol-hours", "10"]) == 2
    assert main(["budget", "--phy", "400GBASE-DR4", "--no-eol", "--json"]) == 0
    assert "end_of_life" not in json.loads(capsys.readouterr().out)


def test_current_limit_aging_penalty_is_the_laser_power_ratio():
    # the simulated aged transmitter's OMA falls by the laser power ratio (OMA is linear in it), each at
    # its own die temperature (new: 76.6 °C; aged, its lasers at the 200 mA limit dissipating more: 77.7 °C),
    # plus the MZM's own static OMA change between the two (Vπ(T), bias loop: about 1e-3 dB)
    limited, laser, mp, b, t_chip, t_eol = _limited_budget_at_70c()
    _, _, p_eol = _by_hand(laser, t_eol, 0.2, t_chip)
    cost = 10 * math.log10(laser.apc_power_w / p_eol)
    d_mzm = 10 * math.log10(_static_mzm_oma_w(limited, t_chip) / _static_mzm_oma_w(limited, t_eol))
    assert b.end_of_life.item("aging_penalty").value == pytest.approx(cost + d_mzm, abs=2e-4)
    # the begin-of-life column simulates the lane on the whole module's die (not a one-lane module's,
    # whose die would carry one laser share only: 71.6 °C)
    assert b.physics.item("tx_oma").basis.startswith("simulated")
    lane0 = dataclasses.replace(limited, lanes=[limited.lanes[0]])
    assert chip_temperature_c(lane0, 70.0) < t_chip - 3.0
