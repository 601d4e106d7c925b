"""Cost and reference-equalizer tap search of TDECQ over the eye-centre positions.

Step 5 of the TDECQ method (see :mod:`optics.tdecq`): :class:`_Engine` evaluates TDECQ
(in nepers of sigma_G) for given taps at a window shift, fits constrained least-squares
starting taps and minimises TDECQ over the free taps (quasi-Newton, analytic gradient).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optics.equalizer import (
    constrained_least_squares,
    constrained_least_squares_moments,
    correlation_matrix,
)
from optics.tdecq import kernel
from optics.tdecq.ser import HISTOGRAM_BINS, _binned, _distances, _solve_sigma
from optics.tdecq.windows import _WindowSamples

#: Least-squares starting taps are fitted on at most this many symbols.
LS_MAX_ROWS = 16384

#: Tap search: stop when a BFGS iteration gains less than this (nepers of sigma_G; 4.3e-5 dB).
#: 1e-6 took 59 cost evaluations per TDECQ of a yield lane against 45 for 1e-5, whose TDECQ
#: was at most 0.0026 dB higher (mean 0.0002 dB; 64 lane-temperatures of the 800g-dr8
#: population): far below the 0.01 dB TDECQ is reported to.
OPT_FTOL = 1e-5

#: Tap search: at most this many cost evaluations per search.
OPT_MAX_EVALS = 60

#: Least-squares starting taps from per-column moments (:meth:`_Engine._column_moments`)
#: where the windows hold whole columns; False fits them on the gathered samples (the
#: reference path, the same taps up to rounding).
LS_FROM_MOMENTS = True

#: Column moments of integer-sps records by lag running sums (:meth:`_Engine._lag_moments`);
#: False: by the direct (n_taps x n_taps x rows) product (the reference path).
MOMENTS_BY_LAG = True

#: Tap search: each window's cost by the compiled kernel (:mod:`optics.tdecq.kernel`); False:
#: by numpy (:func:`~optics.tdecq.ser._binned`, :func:`~optics.tdecq.ser._distances`; the
#: reference path, the same results bit for bit).
COMPILED_KERNEL = True

#: Tap search: scale of the first step (initial inverse Hessian OPT_STEP^2 I).
OPT_STEP = 0.05


#: Eye-centre search: taps are re-optimised at a neighbouring window position when the
#: carried-over taps there cost at most this much more (nepers of sigma_G; 0.13 dB).
NEIGHBOUR_MARGIN = 0.03


#: Histogram weights argument of the compiled kernel for a window without weights.
_NO_WEIGHTS = np.empty(0)

#: Cost the tap search gives a closed eye (a flat, high value it retreats from).
_CLOSED_COST = 1e3


class _Engine:
    """Histogram-window SER machinery on the recorded samples near the windows.

    Window centres are ``0.5 + (left_c + shift) step`` and ``0.5 + (right_c + shift) step``
    UI (``step`` = width/4); each window's histogram holds the samples
    :meth:`_WindowSamples.select` picks.
    """

    def __init__(self, samples: _WindowSamples, n_taps: int, main: int, r: np.ndarray,
                 thresholds: np.ndarray, target: float, left_c: int, right_c: int,
                 n_shift: int, step: float, width_ui: float) -> None:
        self.samples = samples
        self.n_taps = n_taps
        self.main = main
        self.rmat = correlation_matrix(r)
        self.thresholds = thresholds
        self.target = target
        self.left_c, self.right_c, self.n_shift = left_c, right_c, n_shift
        self.step, self.width = step, width_ui
        self.rows = samples.rows
        self._sel: dict[int, tuple[Any, Any]] = {}
        self._ls: dict[Any, np.ndarray] = {}  # least-squares taps by window samples (key)
        self._moments: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per column (integer sps)
        self._warm: list[float | None] = [None, None]  # last sigma of each window (start)
        #: cost (:meth:`cost`'s, up to rounding) at the point the last :meth:`minimise` returned
        self.last_cost = math.inf

    def windows(self, shift: int) -> tuple[Any, Any]:
        """``(column, rows, weight)`` triples of the left and right windows at ``shift``."""
        if shift not in self._sel:
            self._sel[shift] = tuple(
                self.samples.select(0.5 + (c + shift) * self.step, self.width)
                for c in (self.left_c, self.right_c))
        return self._sel[shift]

    def key(self, shift: int) -> Any:
        """Equal keys = the same samples and weights in both windows (so the same TDECQ)."""
        if not self.samples.integer:
            return shift
        return tuple(tuple((c, w) for c, _, w in side) for side in self.windows(shift))

    def next_distinct(self, shift: int, direction: int) -> int | None:
        """The nearest shift in ``direction`` (+-1) whose windows hold other samples."""
        k0 = self.key(shift)
        s = shift + direction
        while -self.n_shift <= s <= self.n_shift:
            if self.key(s) != k0:
                return s
            s += direction
        return None

    def _gather(self, triples: Any, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Tap inputs ``(n_taps, M)`` of the window samples and the row of each sample."""
        rows_all = np.arange(self.rows)
        blocks, rows = [], []
        for c, sel, _ in triples:
            r = rows_all[sel][::stride]
            # a slice of rows is gathered by slicing (a copy by np.stack), not by indexing
            take = (slice(sel.start, sel.stop, stride) if isinstance(sel, slice) and
                    sel.step is None else r)
            blocks.append(np.stack([t[c, take] for t in self.samples.tap_inputs]))
            rows.append(r)
        return np.concatenate(blocks, axis=1), np.concatenate(rows)

    def _weights(self, triples: Any, stride: int = 1) -> np.ndarray | None:
        """Histogram weight of each window sample (None: all 1), in :meth:`_gather` order."""
        if all(w is None for _, _, w in triples):
            return None
        parts = []
        for _, sel, w in triples:
            n = self.rows if isinstance(sel, slice) else sel.size
            full = np.broadcast_to(np.asarray(1.0 if w is None else w, dtype=float), (n,))
            parts.append(full[::stride])
        return np.concatenate(parts)

    def basis(self, shift: int) -> tuple[tuple[Any, ...], ...]:
        """Per window ``(inputs, weights, total, columns)``: the tap inputs ``(n_taps, M)`` of
        its samples, their histogram weights (None: all 1), the weights' sum (``M`` without
        weights) and, for a window of whole columns of an integer-sps record, the columns
        (int64; None otherwise).  The compiled kernel reads such windows from the record's
        grid (:class:`~optics.tdecq.windows._WindowSamples`), so their inputs are not gathered
        then (None)."""
        out = []
        for side in self.windows(shift):
            cols = None
            if self.samples.grid is not None and all(
                    isinstance(sel, slice) and sel == slice(None) for _, sel, _ in side):
                cols = np.array([c for c, _, _ in side], dtype=np.int64)
            inputs = None if COMPILED_KERNEL and cols is not None else self._gather(side)[0]
            wts = self._weights(side)
            m = self.rows * cols.size if inputs is None else inputs.shape[1]
            out.append((inputs, wts, float(m if wts is None else wts.sum()), cols))
        return tuple(out)

    def ls_taps(self, shift: int, nominal: np.ndarray, row_symbols: np.ndarray | None
                ) -> np.ndarray:
        """Constrained least-squares taps for the windows at ``shift`` (sum 1).

        Targets are the nominal levels of the symbols sent (``row_symbols``, one per row)
        or, without a pattern, of decisions on the unequalized samples.  Fitted on at most
        about ``4 LS_MAX_ROWS`` samples (evenly strided), plenty for n_taps unknowns.
        Cached by window samples (``nominal`` and ``row_symbols`` are fixed per engine).
        """
        if self.n_taps == 1:
            return np.ones(1)
        key = self.key(shift)
        if key not in self._ls:
            self._ls[key] = self._fit_ls(shift, nominal, row_symbols)
        return self._ls[key].copy()

    def _fit_ls(self, shift: int, nominal: np.ndarray, row_symbols: np.ndarray | None
                ) -> np.ndarray:
        pairs = self.windows(shift)[0] + self.windows(shift)[1]
        total = sum(self.rows if isinstance(sel, slice) else sel.size for _, sel, _ in pairs)
        stride = max(1, total // (4 * LS_MAX_ROWS))
        whole = all(isinstance(sel, slice) and sel == slice(None) for _, sel, _ in pairs)
        if LS_FROM_MOMENTS and self.samples.integer and whole and (stride == 1 or MOMENTS_BY_LAG):
            # every row of whole columns (integer samples/UI): the normal equations are sums
            # of per-column moments, kept across shifts (the windows share columns)
            gram, cross = 0.0, 0.0
            for c, _, w in pairs:
                g_c, h_c = self._column_moments(c, nominal, row_symbols)
                wt = 1.0 if w is None else float(w)
                gram = gram + wt * g_c
                cross = cross + wt * h_c
            return constrained_least_squares_moments(gram, cross, self.main)
        b, rows = self._gather(pairs, stride)
        if row_symbols is not None:
            sym = row_symbols[rows]
        else:
            sym = np.searchsorted(self.thresholds, b[self.main])
        target = nominal[sym]
        wts = self._weights(pairs, stride)
        if wts is not None:  # weighted least squares: each sample counts as in the histogram
            root = np.sqrt(wts)
            b, target = b * root, target * root
        return constrained_least_squares(b, target, self.main)

    def _column_moments(self, c: int, nominal: np.ndarray, row_symbols: np.ndarray | None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """``(B B^T, B t)`` of column ``c``'s tap inputs ``B`` over all rows and its
        least-squares targets ``t`` (as :meth:`_fit_ls` forms them), kept per column."""
        hit = self._moments.get(c)
        if hit is None:
            grid = self.samples.grid
            if grid is None or not MOMENTS_BY_LAG:
                b = np.stack([t[c] for t in self.samples.tap_inputs])
                sym = (row_symbols if row_symbols is not None
                       else np.searchsorted(self.thresholds, b[self.main]))
                target = nominal[sym]
                hit = (np.einsum("in,jn->ij", b, b), np.einsum("in,n->i", b, target))
            else:
                hit = self._lag_moments(grid[c], nominal, row_symbols)
            self._moments[c] = hit
        return hit

    def _lag_moments(self, seq: np.ndarray, nominal: np.ndarray,
                     row_symbols: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_column_moments` of one column from its grid sequence ``seq`` (integer
        samples/UI): tap ``k``'s input in row ``r`` is ``seq[a - k + r]`` (``a = n_taps - 1``),
        so ``G[i, j] = sum_r seq[a-i+r] seq[a-j+r]`` depends on the lag ``l = i - j`` and the
        start ``a - i`` only: one running sum ``P_l`` of the lag products per lag gives every
        element as ``P_l[a - i + rows] - P_l[a - i]`` (n_taps passes over the column instead
        of n_taps^2; the same sums up to rounding, ~1e-12 relative)."""
        n, rows, a = self.n_taps, self.rows, self.n_taps - 1
        main_in = seq[a - self.main: a - self.main + rows]
        sym = row_symbols if row_symbols is not None else np.searchsorted(self.thresholds, main_in)
        target = nominal[sym]
        gram = np.empty((n, n))
        for lag in range(n):
            run = np.empty(seq.size - lag + 1)
            run[0] = 0.0
            np.cumsum(seq[: seq.size - lag] * seq[lag:], out=run[1:])
            i = np.arange(lag, n)
            vals = run[a - i + rows] - run[a - i]
            gram[i, i - lag] = vals
            gram[i - lag, i] = vals
        cross = np.array([float(seq[a - k: a - k + rows] @ target) for k in range(n)])
        return gram, cross

    def cost(self, taps: np.ndarray, shift: int, cache: dict[int, np.ndarray] | None = None
             ) -> float:
        """``ln C_eq - ln s`` (TDECQ up to a constant, nepers); inf for a closed eye."""
        if COMPILED_KERNEL and cache is None:
            sig = [self._window_state(taps, i, b)[0] for i, b in enumerate(self.basis(shift))]
        else:
            wins = self.equalized_windows(taps, shift, {} if cache is None else cache)
            sig = [self.sigma(*v, start=self._warm[i]) for i, v in enumerate(wins)]
            for i, v in enumerate(sig):
                if v > 0.0:
                    self._warm[i] = v
        s = min(sig)
        if not s > 0.0:
            return math.inf
        return math.log(self.ceq(taps)) - math.log(s)

    def equalized_windows(self, taps: np.ndarray, shift: int, cache: dict[int, np.ndarray]
                          ) -> tuple[tuple[np.ndarray, np.ndarray | None], ...]:
        """Equalized samples of the two windows at ``shift`` with their histogram weights
        (None: all 1), equalizing (and caching) only the columns needed."""
        out = []
        for side in self.windows(shift):
            parts = []
            for c, sel, _ in side:
                if c not in cache:
                    t = self.samples.tap_inputs
                    col = taps[0] * t[0][c]
                    for k in range(1, self.n_taps):
                        col += taps[k] * t[k][c]
                    cache[c] = col
                parts.append(cache[c][sel])
            out.append((np.concatenate(parts), self._weights(side)))
        return out[0], out[1]

    def ceq(self, taps: np.ndarray) -> float:
        return math.sqrt(max(float(taps @ self.rmat @ taps), 1e-300))

    def sigma(self, values: np.ndarray, weights: np.ndarray | None = None,
              start: float | None = None) -> float:
        if COMPILED_KERNEL:
            total = float(values.size if weights is None else weights.sum())
            d, w = kernel.histogram_pairs(np.ascontiguousarray(values, dtype=np.float64), weights,
                                          total, np.sort(self.thresholds), HISTOGRAM_BINS)[:2]
        else:
            c, h, _, _ = _binned(values, HISTOGRAM_BINS, weights)
            d, w, _, _ = _distances(c, h, self.thresholds)
        return _solve_sigma(d, w, self.target, start)

    # --- tap optimisation: cost = ln(C_eq) - ln(s), s = min(s_left, s_right) -----------
    def taps_from_free(self, u: np.ndarray) -> np.ndarray:
        m = self.main
        c = np.empty(u.size + 1)
        c[:m] = u[:m]
        c[m + 1:] = u[m:]
        c[m] = 1.0 - u.sum()
        return c

    def cost_and_grad(self, u: np.ndarray, basis: Any) -> tuple[float, np.ndarray]:
        """Cost ``ln C_eq - ln s`` (TDECQ up to a constant, in nepers) and its gradient.

        ``basis`` holds the tap inputs of the left and right windows' samples
        (:meth:`basis`).  ``ds/dc = -(dSER/dc)/(dSER/ds)`` by implicit differentiation of
        ``SER(c, s) = target`` for the limiting window.
        """
        f, state = self._cost_state(u, basis)
        return f, self._grad(u, basis, state)

    def _window_state(self, c: np.ndarray, side: int, window: tuple[Any, ...]) -> tuple[Any, ...]:
        """Sigma of one window for taps ``c`` and its pairs: ``(s, d, w, sign, bin, raw, nz)``
        (:func:`~optics.tdecq.kernel.window_sigma`), from the window's last sigma (kept).

        Compiled: one kernel call, or the Python solve where the kernel falls back; numpy
        (``COMPILED_KERNEL`` False): the reference path (einsum: its own loops, not
        multi-threaded BLAS, which thrashes on a loaded machine)."""
        inputs, wts, total, cols = window
        warm = self._warm[side]
        th = np.sort(self.thresholds)
        status = kernel.FALL_BACK
        if COMPILED_KERNEL:
            t0 = math.nan if warm is None else math.log(warm)
            wt = _NO_WEIGHTS if wts is None else wts
            if cols is not None:
                status, s, d, w, sign, bins, raw, nz = kernel.window_sigma_grid(
                    c, self.samples.grid, cols, self.rows, wt, wts is not None, total, th,
                    HISTOGRAM_BINS, self.target, t0)
            else:
                status, s, d, w, sign, bins, raw, nz = kernel.window_sigma(
                    c, inputs, wt, wts is not None, total, th, HISTOGRAM_BINS, self.target, t0)
        if status == kernel.NEEDS_START:        # the pairs are there: solve without a start
            s = _solve_sigma(d, w, self.target, None)
        elif status == kernel.FALL_BACK:
            if COMPILED_KERNEL:
                x = inputs if inputs is not None else self._grid_inputs(cols)
                d, w, sign, bins, raw, nz = kernel.window_pairs(c, x, wts, total, th,
                                                                HISTOGRAM_BINS)
            else:
                y = np.einsum("k,kn->n", c, inputs)
                cen, h, raw, nz = _binned(y, HISTOGRAM_BINS, wts)
                d, w, sign, bins = _distances(cen, h, self.thresholds)
            s = _solve_sigma(d, w, self.target, warm)
        if s > 0.0:
            self._warm[side] = s
        return s, d, w, sign, bins, raw, nz

    def _grid_inputs(self, cols: np.ndarray) -> np.ndarray:
        """Tap inputs ``(n_taps, M)`` of whole grid columns (:meth:`_gather` of those columns)."""
        return self._gather([(int(c), slice(None), None) for c in cols])[0]

    def _cost_state(self, u: np.ndarray, basis: Any) -> tuple[float, Any]:
        """The cost of :meth:`cost_and_grad` and what :meth:`_grad` needs for its gradient."""
        c = self.taps_from_free(u)
        best = None
        for side in (0, 1):
            state = self._window_state(c, side, basis[side])
            if best is None or state[0] < best[0]:
                best = (state[0], side, *state[1:])
        s = best[0]
        if s <= 0.0:  # closed eye: a flat, high cost the search retreats from
            return _CLOSED_COST, None
        g2 = float(c @ self.rmat @ c)
        return 0.5 * math.log(g2) - math.log(s), best

    def _grad(self, u: np.ndarray, basis: Any, state: Any) -> np.ndarray:
        """Gradient of the cost at ``u`` from :meth:`_cost_state`'s ``state`` there."""
        if state is None:
            return np.zeros_like(u)
        s, side, d, w, sign, bins, raw, nz = state
        c = self.taps_from_free(u)
        rc = self.rmat @ c
        g2 = float(c @ rc)
        if COMPILED_KERNEL:
            inputs, wts, total, cols = basis[side]
            wt = _NO_WEIGHTS if wts is None else wts
            if cols is not None:
                dser_ds, dser_dc = kernel.ser_gradient_grid(
                    self.samples.grid, cols, self.rows, self.n_taps, wt, wts is not None, total,
                    raw, nz, d, w, sign, bins, s)
            else:
                dser_ds, dser_dc = kernel.ser_gradient(
                    inputs, wt, wts is not None, total, raw, nz, d, w, sign, bins, s)
            grad_c = rc / g2 + dser_dc / (dser_ds * s)
            return np.delete(grad_c, self.main) - grad_c[self.main]
        z = d / s
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        dser_ds = float(w @ (pdf * z)) / s
        # dSER/dy of one sample in bin b: sum over its thresholds of sign * pdf / s, times the
        # sample's share of the histogram weight (1/M for equal weights)
        per_raw = np.zeros(nz.size)  # by raw bin (0..HISTOGRAM_BINS-1)
        per_raw[nz] = np.bincount(bins, weights=sign * pdf, minlength=int(nz.sum())) / s
        wts = basis[side][1]
        share = per_raw[raw]
        share = share / raw.size if wts is None else share * (wts / wts.sum())
        dser_dc = np.einsum("kn,n->k", basis[side][0], share)
        grad_c = rc / g2 + dser_dc / (dser_ds * s)
        return np.delete(grad_c, self.main) - grad_c[self.main]

    def minimise(self, u0: np.ndarray, basis: Any) -> np.ndarray:
        """Quasi-Newton (BFGS, Armijo backtracking) search of the free taps from ``u0``.

        The cost is only piecewise smooth (the limiting window can switch, histogram bins
        move), so a plain backtracking line search is used instead of a Wolfe search (each
        trial step shortened to the minimum of the parabola through the cost, its slope and
        the rejected cost, kept within 0.1..0.5 of the step; the gradient is computed only at
        accepted points), and the search stops once an iteration gains less than
        ``OPT_FTOL`` nepers (4.3e-5 dB) or after ``OPT_MAX_EVALS`` evaluations.  Returns the
        best point evaluated; its cost is left in :attr:`last_cost` (inf for a closed eye).
        """
        x = np.asarray(u0, dtype=np.float64)
        f, g = self.cost_and_grad(x, basis)
        h_inv = OPT_STEP**2 * np.eye(x.size)
        n_eval = 1
        while n_eval < OPT_MAX_EVALS:
            p = -h_inv @ g
            slope = float(g @ p)
            if slope >= 0.0:  # not a descent direction: restart from steepest descent
                h_inv = OPT_STEP**2 * np.eye(x.size)
                p = -h_inv @ g
                slope = float(g @ p)
                if slope >= 0.0:
                    break
            t = 1.0
            while True:
                x_new = x + t * p
                f_new, state = self._cost_state(x_new, basis)  # gradient only if accepted
                n_eval += 1
                if f_new <= f + 1e-4 * t * slope or n_eval >= OPT_MAX_EVALS or t < 1e-4:
                    break
                # minimum of the parabola through f, the slope and f_new, kept in [0.1, 0.5] t
                curv = f_new - f - slope * t
                t_q = -slope * t * t / (2.0 * curv) if curv > 0.0 else 0.25 * t
                t = min(max(t_q, 0.1 * t), 0.5 * t)
            if not f_new < f:
                break
            g_new = self._grad(x_new, basis, state)
            step, dg = x_new - x, g_new - g
            sy = float(step @ dg)
            if sy > 1e-12 * float(step @ step):
                rho = 1.0 / sy
                v = np.eye(x.size) - rho * np.outer(step, dg)
                h_inv = v @ h_inv @ v.T + rho * np.outer(step, step)
            gain = f - f_new
            x, f, g = x_new, f_new, g_new
            if gain < OPT_FTOL:
                break
        self.last_cost = f if f < _CLOSED_COST else math.inf
        return x
