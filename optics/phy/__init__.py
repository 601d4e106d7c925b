"""IEEE 802.3 PAM4 optical PHY specification tables (limits as data, equations as safe expressions).

Each PHY is a TOML table in ``optics/phy/data/``; :func:`load_phy` returns it as a frozen
:class:`PhySpec` of :class:`LimitRow` rows, each with unit, min/max (numbers or equations such
as ``max(-0.8, -2.2 + tdecq_db)``), clause, source and a ``verified`` flag.  Rows not quoted
from a copy of the standard's table are UNVERIFIED and say so in every output.

Examples
--------
>>> from optics.phy import load_phy
>>> spec = load_phy("400GBASE-DR4")
>>> [r.max for r in spec.rows_for("tdecq_db")]
[3.4]
"""

from optics.phy.dispersion import DispersionLimits, dispersion_limits, dispersion_ps_per_nm_km
from optics.phy.limits import DERIVED, METRICS, Expression, LimitRow, unit_of, with_derived
from optics.phy.method import METHOD_STATUSES, TdecqMethod, default_method, parse_method
from optics.phy.spec import BudgetAllocation, PhySpec, list_phys, load_phy, load_spec_file, parse_spec

__all__ = [
    "BudgetAllocation",
    "DERIVED",
    "DispersionLimits",
    "Expression",
    "LimitRow",
    "METHOD_STATUSES",
    "METRICS",
    "PhySpec",
    "TdecqMethod",
    "default_method",
    "dispersion_limits",
    "dispersion_ps_per_nm_km",
    "list_phys",
    "load_phy",
    "load_spec_file",
    "parse_method",
    "parse_spec",
    "unit_of",
    "with_derived",
]
