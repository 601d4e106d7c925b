"""Link-model physics of a link budget (:class:`ModelPhysics`).

Tx OMA and power, the dispersion penalty (TDECQ through the worst-case fibre minus back-to-back)
and the receiver sensitivity (a simulated search for the BER limit, or the closed form of the
model receiver's noise, :func:`receiver_sensitivity_oma_dbm`) come from simulating the PHY's
preset module with :func:`models.link.simulate` and measuring it with ``optics``; channel loss
and MPI from the model ``Channel``.  This is the ``optics budget`` default where
``models.presets`` has the PHY (:func:`has_model_preset`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from optics import validate
from optics.budget.closed_form import mpi_relative_variance, noise_penalty_db, q_for_ber
from optics.budget.conditions import LinkConditions
from optics.budget.ledger import BudgetColumn, BudgetItem, _margin
from optics.errors import InvalidParameter, InvalidType, SpecError
from optics.phy import PhySpec
from optics.phy.dispersion import dispersion_limits


#: ``BudgetColumn.method`` of :class:`ModelPhysics`.
MODEL_PHYSICS_METHOD = "link-model physics"


def receiver_sensitivity_oma_dbm(receiver: Any, ber: float) -> float:
    """OMA_outer at which a thermal-noise-limited model receiver reaches ``ber``, dBm.

    With the TIA's input-referred rms noise σ = i_n·sqrt(ENBW) (``receiver.tia.noise_rms_a()``,
    the noise the model adds, filtered by the TIA response only), photodiode responsivity R and
    four equally spaced levels (half spacing R·OMA/6 at the decision):

        OMA_sens = 6·Q·σ/R,   0.75·Q(Q) = BER.

    Shot noise, dark current and inter-symbol interference are neglected (the simulated search of
    :class:`ModelPhysics` includes them).  Source: Agrawal, *Fiber-Optic Communication Systems*,
    §4.5, in its PAM4 form.

    Parameters
    ----------
    receiver : models.receiver.Receiver
        The model receiver (photodiode + TIA).
    ber : float
        Pre-FEC BER limit, 0 < BER < 0.375.

    Raises
    ------
    InvalidType
        ``receiver`` is not a model Receiver.
    InvalidParameter
        BER out of range, or a noiseless TIA (no finite sensitivity).

    Examples
    --------
    >>> from models.receiver import Receiver
    >>> round(receiver_sensitivity_oma_dbm(Receiver(), 2.4e-4), 2)
    -12.28
    """
    from models.receiver import Receiver

    if not isinstance(receiver, Receiver):
        raise InvalidType(f"receiver must be a models.receiver.Receiver, got {type(receiver).__name__}")
    sigma = receiver.tia.noise_rms_a()
    if sigma <= 0.0:
        raise InvalidParameter("receiver TIA input_noise_density_a_per_rthz = 0: a noiseless receiver has no sensitivity")
    oma_w = 6.0 * q_for_ber(ber) * sigma / receiver.photodiode.responsivity_a_per_w
    return 10.0 * math.log10(oma_w / 1e-3)


def has_model_preset(phy: str | PhySpec) -> bool:
    """True when ``models.presets`` has a link module for the PHY (name compared case-insensitively)."""
    from models.presets import list_presets

    name = phy.name if isinstance(phy, PhySpec) else str(phy)
    return name.strip().upper() in {p.upper() for p in list_presets()}


def _lambda0_for_dispersion_m(wavelength_m: float, d_ps_per_nm_km: float, s0: float) -> float:
    """λ0 with D(λ; λ0) = d for the 802.3 fibre model: λ0⁴ = λ³·(λ − 4d/S0) (λ in nm)."""
    lam = wavelength_m * 1e9
    inner = lam - 4.0 * d_ps_per_nm_km / s0
    if inner <= 0.0:
        raise InvalidParameter(f"dispersion {d_ps_per_nm_km:g} ps/(nm km) at {lam:.1f} nm cannot be made with S0 = {s0:g}")
    return (lam**3 * inner) ** 0.25 * 1e-9


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelPhysics:
    """Physics budget provider backed by the link models (callable ``(spec, conditions) -> BudgetColumn``).

    Pluggable like :class:`ClosedFormPhysics` (``link_budget(..., physics=ModelPhysics())``).  Every
    number comes from :func:`models.link.simulate` of the PHY's preset module (or ``module``),
    measured with :mod:`optics`, on a short pattern:

    * **Tx OMA_outer and average power**: the module simulated at the case temperature; the
      lane with the lowest OMA_outer is budgeted (its ER and back-to-back TDECQ shown as info).
    * **Channel**: fibre attenuation × reach with the model ``Fiber``'s dB/km, and the model
      ``Channel``'s connections (or ``connectors`` × the PHY's per-connection loss).
    * **Dispersion penalty**: TDECQ (121.8.5, :func:`optics.tdecq.tdecq`) of the optical signal
      after a fibre with the PHY's worst-case dispersion at that reach (802.3 fibre model: most
      negative D on the shortest-wavelength lane, most positive on the longest; the fibre's λ0 is
      chosen so that D·L equals it at the lane's laser wavelength) minus TDECQ back-to-back, the
      worse of the two.  The optical signal is read through an ideal probe receiver (1 A/W,
      1 Ω, 300 GHz, noiseless) and no receiver DSP.
    * **MPI**: the Gaussian beat-noise penalty of the model ``Channel``'s MPI ratio ε = R²
      (:func:`mpi_relative_variance`, :func:`noise_penalty_db`); 0 without reflectors.
    * **Rx sensitivity** (OMA_outer at the PHY's pre-FEC BER limit): ``sensitivity="search"``
      simulates the budgeted lane back-to-back (no fibre, no connections) at a set received
      average power (``SimulationSettings.rx_power_dbm``) and finds, by secant steps on
      10·log10 Q(BER) vs power, the power where the statistical BER estimate
      (:func:`optics.ber.estimate_ber`, including the receiver DSP FFE of 200 G lanes) equals
      the limit; the OMA is that power plus the lane's OMA/P_ave ratio.  It includes shot noise,
      RIN and the lane's own ISI.  ``sensitivity="closed-form"`` uses
      :func:`receiver_sensitivity_oma_dbm` (thermal noise only).  The other is shown as info
      (search mode only).

    margin = OMA_tx − fibre − connections − dispersion penalty − MPI penalty − sensitivity.

    Results that do not depend on the reach (Tx metrics, back-to-back TDECQ, sensitivity) are
    cached per temperature in the instance, so a reach sweep with one instance simulates them
    once.  Cost per budget point about 0.5-3 s (PRBS13Q, 16 samples/UI; 4 CWDM lanes cost most).

    Parameters
    ----------
    module : models.link.LinkModule or None
        The module to budget [None: ``models.presets.preset(PHY name)``].
    sensitivity : str
        ``"search"`` [default] or ``"closed-form"``.
    pattern : str
        Test pattern of the simulations ["PRBS13Q"].
    samples_per_symbol : int
        8..64 [16].
    seed : int
        Seed of every simulation (same noise draws at every reach and power) [1].
    search_tolerance_db : float
        Stop the sensitivity search when 10·log10 Q is this close to the target, dB [0.01].

    Raises
    ------
    InvalidParameter, InvalidType
        Bad parameters.  Calling it on a PHY without a preset (and no ``module``) raises SpecError.

    Examples
    --------
    >>> from optics.budget import link_budget
    >>> b = link_budget("400GBASE-DR4", physics=ModelPhysics())   # about 1.5 s
    >>> b.physics.method, round(b.physics.item("fiber_loss").value, 3)
    ('link-model physics', 0.2)
    """

    module: Any = None
    sensitivity: str = "search"
    pattern: str = "PRBS13Q"
    samples_per_symbol: int = 16
    seed: int = 1
    search_tolerance_db: float = 0.01
    _cache: dict[Any, Any] = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from models.link import LinkModule

        if self.module is not None and not isinstance(self.module, LinkModule):
            raise InvalidType(f"module must be a models.link.LinkModule or None, got {type(self.module).__name__}")
        if self.sensitivity not in ("search", "closed-form"):
            raise InvalidParameter(f"sensitivity = {self.sensitivity!r}; allowed: 'search', 'closed-form'")
        if not isinstance(self.pattern, str):
            raise InvalidType(f"pattern must be a pattern name, got {type(self.pattern).__name__}")
        validate.integer("samples_per_symbol", self.samples_per_symbol, 8, 64)
        validate.integer("seed", self.seed, 0, 2**63 - 1)
        validate.in_range("search_tolerance_db", self.search_tolerance_db, 1e-4, 0.5, unit="dB")

    # ---------------------------------------------------------------- model access
    def module_for(self, spec: PhySpec) -> Any:
        """The link module budgeted for ``spec`` (``module`` or the PHY's preset).

        Raises
        ------
        SpecError
            No preset for the PHY and no ``module`` given.
        """
        if self.module is not None:
            return self.module
        key = ("module", spec.name)
        if key not in self._cache:
            from models.presets import list_presets, preset

            if not has_model_preset(spec):
                raise SpecError(f"{spec.name}: no link-model preset (presets: {', '.join(list_presets())}); "
                                "use the closed-form physics or pass ModelPhysics(module=...)")
            self._cache[key] = preset(spec.name)
        return self._cache[key]

    def _settings(self, temperature_c: float, **kw: Any) -> Any:
        from models.link import SimulationSettings

        return SimulationSettings(pattern=self.pattern, samples_per_symbol=self.samples_per_symbol,
                                  temperature_c=temperature_c, count_errors=False, **kw)

    def tx_lanes(self, spec: PhySpec, temperature_c: float) -> list[dict[str, Any]]:
        """Tx metrics of each distinct lane at ``temperature_c`` (simulated once, cached).

        Lanes with equal transmitter and receiver are simulated once, each on its own (same seed,
        so the same noise draws as its dispersion probes) back-to-back into the probe receiver.
        Each dict holds ``index`` (lane number in the module), ``name`` and the lane's
        :func:`models.link.simulate` metrics (Tx metrics measured by ``optics``).
        """
        key = ("tx", spec.name, float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        module = self.module_for(spec)
        index: list[int] = []
        for i, lane in enumerate(module.lanes):
            if not any(_same_parts(lane, module.lanes[j]) for j in index):
                index.append(i)
        out = []
        for i in index:
            res = self._probe(spec, i, None, temperature_c, metrics=True)
            out.append({"index": i, "name": res.name, "metrics": dict(res.metrics)})
            # the back-to-back probe waveform, for its TDECQ if asked (probe_tdecq_db)
            self._cache[("probe wf", spec.name, i, float(temperature_c))] = res.rx_waveform
        self._cache[key] = out
        return out

    def _lane_module(self, spec: PhySpec, lane_index: int, temperature_c: float, *, channel: Any,
                     receiver: Any = None, rx_ffe: bool = True) -> Any:
        """Lane ``lane_index`` of the budgeted module alone, on ``channel`` (and ``receiver``), its
        die held at the whole module's chip temperature at case ``temperature_c``.

        The die temperature is solved from the heat of all the module's lanes
        (:func:`models.thermal.chip_temperature_c`); a one-lane module would solve it from one
        lane's share only (400GBASE-DR4 at 70 °C case: 71.6 instead of 76.6 °C), so the
        one-lane module fixes its rise to the whole module's.
        """
        from models.thermal import chip_temperature_c

        module = self.module_for(spec)
        lane = module.lanes[lane_index]
        lane = dataclasses.replace(lane, channel=channel, receiver=lane.receiver if receiver is None else receiver)
        rise = chip_temperature_c(module, temperature_c) - float(temperature_c)
        return dataclasses.replace(module, lanes=[lane], rx_ffe_taps=module.rx_ffe_taps if rx_ffe else 0,
                                   chip_temperature_rise_k=rise)

    def _probe(self, spec: PhySpec, lane_index: int, fiber: Any, temperature_c: float, *, metrics: bool) -> Any:
        """Simulate one lane into the ideal probe receiver (optical power in V = W), no Rx DSP."""
        from models.fiber import Channel, Fiber
        from models.link import simulate
        from models.receiver import Photodiode, Receiver, Tia

        probe = Receiver(
            photodiode=Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=300e9, shot_noise=False),
            tia=Tia(transimpedance_ohm=1.0, input_noise_density_a_per_rthz=0.0, bandwidth_hz=300e9, overload_current_a=1.0),
        )
        fib = Fiber(length_m=0.0, attenuation_db_per_km=0.0) if fiber is None else fiber
        mod = self._lane_module(spec, lane_index, temperature_c, channel=Channel(fiber=fib, n_connectors=0), receiver=probe,
                                rx_ffe=False)
        return simulate(mod, self._settings(temperature_c, compute_tdecq=False), seed=self.seed, metrics=metrics).lanes[0]

    def probe_tdecq_db(self, spec: PhySpec, lane_index: int, dispersion_ps_per_nm: float, reach_m: float,
                       temperature_c: float, wavelength_m: float) -> float | None:
        """TDECQ (dB) of lane ``lane_index``'s optical signal after ``dispersion_ps_per_nm`` over ``reach_m``.

        The fibre's λ0 is set so that D·L equals the target at ``wavelength_m`` (802.3 fibre
        model, S0 of the model fibre); zero dispersion or reach is back-to-back.  The optical
        power is read through an ideal probe receiver (1 A/W, 1 Ω, 300 GHz, noiseless) without
        receiver DSP.  None if the eye is closed.  Cached per lane, dispersion, reach, temperature.
        """
        from models.fiber import S0_IEEE_PS_PER_NM2_KM, Fiber

        from optics.errors import InvalidWaveform
        from optics.tdecq import tdecq

        b2b = dispersion_ps_per_nm == 0.0 or reach_m == 0.0
        key = ("probe", spec.name, lane_index, 0.0 if b2b else round(dispersion_ps_per_nm, 9),
               0.0 if b2b else float(reach_m), float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        wkey = ("probe wf", spec.name, lane_index, float(temperature_c))
        if b2b and wkey in self._cache:
            wf = self._cache.pop(wkey)
        else:
            fib = None
            if not b2b:
                d_km = dispersion_ps_per_nm / (reach_m / 1000.0)
                fib = Fiber(length_m=reach_m, attenuation_db_per_km=0.0,
                            zero_dispersion_wavelength_m=_lambda0_for_dispersion_m(wavelength_m, d_km, S0_IEEE_PS_PER_NM2_KM))
            wf = self._probe(spec, lane_index, fib, temperature_c, metrics=False).rx_waveform
        value: float | None
        if wf is None:
            value = None
        else:
            try:
                value = float(tdecq(wf.replace(quantity="optical_power")).tdecq_db)
            except InvalidWaveform:
                value = None
        self._cache[key] = value
        return value

    def ber_limit(self, spec: PhySpec) -> float:
        """The PHY's pre-FEC BER limit (``ber_limit``, else SER target / 2, else 2.4e-4)."""
        if spec.ber_limit is not None:
            return float(spec.ber_limit)
        if spec.ser_target is not None:
            return float(spec.ser_target) / 2.0
        return 2.4e-4

    def closed_form_sensitivity_oma_dbm(self, spec: PhySpec, lane_index: int = 0) -> float:
        """:func:`receiver_sensitivity_oma_dbm` of the lane's model receiver at the PHY's BER limit."""
        return receiver_sensitivity_oma_dbm(self.module_for(spec).lanes[lane_index].receiver, self.ber_limit(spec))

    def search_sensitivity(self, spec: PhySpec, lane_index: int, temperature_c: float) -> dict[str, Any]:
        """Received OMA_outer (dBm) at which lane ``lane_index`` back-to-back reaches the BER limit.

        Returns a dict with ``oma_dbm``, ``rx_power_dbm`` (average power at that point),
        ``ber`` (the statistical estimate there), ``n_simulations`` and ``converged``.
        Cached per lane and temperature.

        Raises
        ------
        InvalidParameter
            The search leaves the simulator's −40..20 dBm range (an error floor above the limit).
        """
        key = ("sens", spec.name, lane_index, float(temperature_c))
        if key in self._cache:
            return self._cache[key]
        from models.fiber import Channel, Fiber
        from models.link import simulate

        tx = next(t for t in self.tx_lanes(spec, temperature_c) if t["index"] == lane_index)["metrics"]
        ratio_db = tx["oma_outer_dbm"] - tx["average_power_dbm"]
        ber_t = self.ber_limit(spec)
        target = 10.0 * math.log10(q_for_ber(ber_t))
        mod = self._lane_module(spec, lane_index, temperature_c, channel=Channel(fiber=Fiber(length_m=0.0), n_connectors=0))
        # start near the answer: this lane's result at the nearest temperature searched, else the closed form
        done = [(abs(k[3] - temperature_c), v["rx_power_dbm"]) for k, v in self._cache.items()
                if k[0] == "sens" and k[1] == spec.name and k[2] == lane_index]
        p = min(done)[1] if done else self.closed_form_sensitivity_oma_dbm(spec, lane_index) - ratio_db + 0.5
        pts: list[tuple[float, float]] = []
        best: tuple[float, float, float] | None = None  # (|f|, p, ber)
        n = 0
        for n in range(1, 16):
            if not -40.0 <= p <= 20.0:
                raise InvalidParameter(f"{spec.name}: Rx sensitivity search left -40..20 dBm (at {p:.1f} dBm); "
                                       f"the BER limit {ber_t:g} may be below an error floor")
            res = simulate(mod, self._settings(temperature_c, compute_tdecq=False, rx_power_dbm=p), seed=self.seed)
            ber = res.lanes[0].metrics.get("ber_estimate")
            if ber is None or ber >= 0.3:
                p += 3.0
                continue
            if ber <= 1e-200:
                p -= 3.0
                continue
            f = 10.0 * math.log10(q_for_ber(ber)) - target
            if best is None or abs(f) < best[0]:
                best = (abs(f), p, ber)
            if abs(f) <= self.search_tolerance_db:
                break
            slope = 1.0
            if pts and p != pts[-1][0] and f != pts[-1][1]:
                slope = min(3.0, max(0.3, (f - pts[-1][1]) / (p - pts[-1][0])))
            pts.append((p, f))
            p -= f / slope
        if best is None:
            raise InvalidParameter(f"{spec.name}: Rx sensitivity search found no open eye between -40 and 20 dBm")
        out = {"oma_dbm": best[1] + ratio_db, "rx_power_dbm": best[1], "ber": best[2], "n_simulations": n,
               "converged": best[0] <= self.search_tolerance_db}
        self._cache[key] = out
        return out

    # ---------------------------------------------------------------- ledger
    def __call__(self, spec: PhySpec, cond: LinkConditions) -> BudgetColumn:
        """The link-model ledger for ``spec`` under ``cond`` (see class docstring)."""
        module = self.module_for(spec)
        t_c = cond.temperature_c
        lanes = self.tx_lanes(spec, t_c)
        failed = [t for t in lanes if t["metrics"].get("link_failed") or t["metrics"].get("tx_eye_closed")
                  or t["metrics"].get("oma_outer_dbm") is None]
        notes = [f"link models: {module.name} ({module.n_lanes} lanes, {len(lanes)} distinct), {self.pattern}, "
                 f"{self.samples_per_symbol} samples/UI, seed {self.seed}, case {t_c:g} °C"]
        if failed:
            why = "; ".join(f"{t['name']}: {t['metrics'].get('failure') or t['metrics'].get('tx_error') or 'eye closed'}"
                            for t in failed)
            notes.append(f"no budget: {why}")
            items = (BudgetItem("tx_oma", "Tx OMA_outer (model)", None, "dBm", +1, f"link failed ({why})"),)
            return BudgetColumn(MODEL_PHYSICS_METHOD, items, None, tuple(notes))
        worst = min(lanes, key=lambda t: t["metrics"]["oma_outer_dbm"])
        wm, wi = worst["metrics"], worst["index"]
        lane = module.lanes[wi]
        ch = lane.channel
        # channel: the model Fiber's attenuation, the model Channel's connections
        att = ch.fiber.attenuation_db_per_km if cond.fiber_attenuation_db_per_km is None else cond.fiber_attenuation_db_per_km
        fibre = att * cond.reach_m / 1000.0
        if cond.connectors is None:
            conn = ch.connector_loss_db * ch.n_connectors + ch.splice_loss_db * ch.n_splices
            conn_basis = (f"model Channel: {ch.n_connectors} x {ch.connector_loss_db:g} dB"
                          + (f" + {ch.n_splices} x {ch.splice_loss_db:g} dB splices" if ch.n_splices else ""))
        else:
            if cond.connector_loss_db is not None:
                per = cond.connector_loss_db
            elif spec.budget is not None:
                per = spec.budget.connector_loss_db
            else:
                per = ch.connector_loss_db
            conn, conn_basis = cond.connectors * per, f"{cond.connectors} x {per:g} dB per connection"
        # dispersion: worst-case D of the PHY at this reach, through the model, TDECQ - B2B
        disp, disp_basis = self._dispersion_penalty(spec, lanes, cond)
        # MPI from the model channel
        eps = ch.mpi_ratio
        q_b = q_for_ber(self.ber_limit(spec))
        er_db = wm.get("extinction_ratio_db")
        if eps > 0.0 and er_db is not None and er_db > 0.0:
            mpi = noise_penalty_db(mpi_relative_variance(10.0 * math.log10(eps), er_db), q_b)
            mpi_basis = (f"model Channel MPI ratio {10.0 * math.log10(eps):.1f} dB (reflectance {ch.reflectance_db:g} dB x 2), "
                         f"-5 log10(1 - 36 Q^2 v), v = 2X (ER/(ER-1))^2, ER {er_db:.2f} dB")
        else:
            mpi, mpi_basis = 0.0, "model Channel has no reflectors (reflectance_db None)"
        # receiver sensitivity
        cf = self.closed_form_sensitivity_oma_dbm(spec, wi)
        rx = lane.receiver
        cf_basis = (f"6 Q sigma/R, Q {q_b:.4f} (BER {self.ber_limit(spec):g}), sigma = i_n sqrt(ENBW) "
                    f"{rx.tia.noise_rms_a() * 1e6:.3g} uA, R {rx.photodiode.responsivity_a_per_w:g} A/W; thermal noise only")
        sens_items: list[BudgetItem] = []
        if self.sensitivity == "search":
            s = self.search_sensitivity(spec, wi, t_c)
            sens_items.append(BudgetItem(
                "rx_sensitivity", "Rx sensitivity OMA_outer (simulated search)", s["oma_dbm"], "dBm", -1,
                f"B2B {worst['name']} at BER estimate {s['ber']:.3g} (limit {self.ber_limit(spec):g}), "
                f"P_ave {s['rx_power_dbm']:.2f} dBm, {s['n_simulations']} simulations"))
            sens_items.append(BudgetItem("rx_sensitivity_closed_form", "Rx sensitivity OMA_outer, closed form (info)",
                                         cf, "dBm", 0, cf_basis))
            if not s["converged"]:
                notes.append("Rx sensitivity search did not reach its tolerance; the closest point is used")
        else:
            sens_items.append(BudgetItem("rx_sensitivity", "Rx sensitivity OMA_outer (closed form)", cf, "dBm", -1, cf_basis))
        items = [
            BudgetItem("tx_oma", "Tx OMA_outer (model, lowest lane)", wm["oma_outer_dbm"], "dBm", +1,
                       f"simulated {worst['name']} at case {t_c:g} °C, measured by optics.levels"),
            BudgetItem("tx_average_power", "Tx average power (model, info)", wm["average_power_dbm"], "dBm", 0,
                       "same lane"),
            BudgetItem("tx_extinction_ratio", "Tx extinction ratio (model, info)", er_db, "dB", 0, "same lane"),
            BudgetItem("tx_tdecq", "Tx TDECQ back-to-back (model, info)",
                       self.probe_tdecq_db(spec, wi, 0.0, 0.0, t_c, wm["wavelength_m"]), "dB", 0,
                       "optics.tdecq of the Tx output (probe receiver); its closure is inside the simulated sensitivity"),
            BudgetItem("fiber_loss", "Fibre attenuation", fibre, "dB", -1, f"{att:g} dB/km x {cond.reach_m:g} m"),
            BudgetItem("connection_loss", "Connections and splices", conn, "dB", -1, conn_basis),
            BudgetItem("dispersion_penalty", "Dispersion penalty (TDECQ - B2B)", disp, "dB", -1, disp_basis),
            BudgetItem("mpi_penalty", "MPI penalty", mpi, "dB", -1, mpi_basis),
            BudgetItem("rin_penalty", "RIN penalty", 0.0, "dB", -1,
                       "inside the simulation (laser RIN in the Tx waveform)"
                       + (" and so in the searched sensitivity" if self.sensitivity == "search"
                          else "; NOT in the closed-form sensitivity")),
            *sens_items,
        ]
        notes.append("Rx sensitivity: " + ("simulated search (statistical BER estimate; shot noise, RIN, ISI, Rx FFE "
                                           "included), closed form shown as info" if self.sensitivity == "search"
                                           else "closed form from the model receiver (thermal noise only)"))
        if disp is None:
            notes.append("dispersion: the eye after the fibre is closed (TDECQ not measurable)")
        elif disp < 0.0:
            notes.append(f"dispersion penalty {disp:.3f} dB < 0: TDECQ after the fibre is within its measurement "
                         "scatter of back-to-back (the reference equaliser absorbs this dispersion); kept as measured")
        if any(i.value is None for i in items if i.sign != 0):
            notes.append("an unbounded penalty: no margin")
        return BudgetColumn(MODEL_PHYSICS_METHOD, tuple(items), _margin(items), tuple(notes))

    def _dispersion_penalty(self, spec: PhySpec, lanes: list[dict[str, Any]],
                            cond: LinkConditions) -> tuple[float | None, str]:
        """(TDECQ at the worst-case dispersion − TDECQ back-to-back, basis), worse of the two extremes."""
        t_c, reach = cond.temperature_c, cond.reach_m
        if reach == 0.0:
            return 0.0, "no fibre (reach 0 m)"
        by_lambda = sorted(lanes, key=lambda t: t["metrics"]["wavelength_m"])
        if spec.dispersion is not None:
            d = dispersion_limits(spec.dispersion.window_nm, reach, s0_ps_per_nm2_km=spec.dispersion.s0_ps_per_nm2_km,
                                  lambda0_range_nm=spec.dispersion.lambda0_range_nm)
            cases = [(by_lambda[0], d.min_ps_per_nm), (by_lambda[-1], d.max_ps_per_nm)]
            src = "PHY worst case (802.3 fibre model)"
        else:
            module = self.module_for(spec)
            cases = []
            for t in lanes:
                fib = dataclasses.replace(module.lanes[t["index"]].channel.fiber, length_m=reach)
                cases.append((t, fib.dispersion_ps_per_nm(t["metrics"]["wavelength_m"])))
            src = "model fibre (no PHY dispersion data)"
        worst: tuple[float, str] | None = None
        for t, dl in cases:
            lam = t["metrics"]["wavelength_m"]
            b2b = self.probe_tdecq_db(spec, t["index"], 0.0, 0.0, t_c, lam)
            far = self.probe_tdecq_db(spec, t["index"], dl, reach, t_c, lam)
            if b2b is None or far is None:
                return None, f"eye closed at {dl:.3g} ps/nm ({t['name']})"
            pen = far - b2b
            basis = (f"TDECQ {far:.3f} dB at {dl:.3g} ps/nm - {b2b:.3f} dB B2B, {t['name']} "
                     f"at {lam * 1e9:.1f} nm; {src}")
            if worst is None or pen > worst[0]:
                worst = (pen, basis)
        return worst if worst is not None else (0.0, "no lanes")


def _same_parts(a: Any, b: Any) -> bool:
    """True when two lanes have equal transmitter and receiver (identity if not comparable)."""
    try:
        return bool(a.transmitter == b.transmitter and a.receiver == b.receiver)
    except (ValueError, TypeError):
        return a.transmitter is b.transmitter and a.receiver is b.receiver
