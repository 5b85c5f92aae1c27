// The ravine explorer (evalib/book/live/ravine.py): the heavy ball on a quadratic,
// rerun when the α or β slider moves. Needs transcriptions.js.

// A slider moved: rerun the heavy ball and redraw what ravine_state gives in Python.
function ravineUpdate({ alpha, beta, path, errors, point, readout, q, start, steps, lams, order }) {
  const lr = alpha.value, b = beta.value;
  const run = runMomentum(quadraticGrad(q), start, lr, b, steps);
  const coords = run.map((w) => eigenCoords(q, w).map(Math.abs));
  // order: the eigen-coordinates' indices, flat direction first (as in Python).
  const rates = lams.map((lam) => momentumRate(lr, b, [lam]));
  const clean = (v) => (Number.isFinite(v) ? v : NaN);
  const k = run.map((_, i) => i);
  path.data = { x: run.map((w) => clean(w[0])), y: run.map((w) => clean(w[1])) };
  errors.data = {
    k: k,
    err1: coords.map((c) => clean(c[order[0]])), err2: coords.map((c) => clean(c[order[1]])),
    theory1: k.map((i) => clean(coords[0][order[0]] * rates[0] ** i)),
    theory2: k.map((i) => clean(coords[0][order[1]] * rates[1] ** i)),
  };
  point.data = { lr: [lr], beta: [b] };
  const rate = Math.max(...rates);  // momentumRate over both eigenvalues
  const measured = empiricalRate(coords.map((c) => Math.hypot(c[0], c[1])));
  readout.text = ravineText(lr, b, rate, measured);
}

// The readout, as ravine.py's _ravine_text writes it.
function ravineText(lr, b, rate, measured) {
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(4) : "none (the run diverges)");
  return `α = ${lr.toFixed(3)}, β = ${b.toFixed(2)}<br>rate (theory, max over directions): ` +
         `<b>${rate.toFixed(4)}</b>${rate >= 1 ? " ≥ 1: diverges" : ""}<br>` +
         `rate measured on the run: <b>${fmt(measured)}</b>`;
}

// A click in the (α, β) plane moves both sliders there, to their steps and ranges.
function ravineClick({ alpha, beta }, event) {
  const scale = Math.round(1 / alpha.step);  // 1000 for a step of 0.001
  alpha.value = Math.min(alpha.end, Math.max(alpha.start, Math.round(event.x * scale) / scale));
  beta.value = Math.min(beta.end, Math.max(beta.start, Math.round(event.y * 100) / 100));
}
