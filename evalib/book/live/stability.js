// The stability explorer (evalib/book/live/stability.py): a click in the (αλ, β) plane
// picks one direction's iteration. Needs transcriptions.js.

// A click at (h, b): redraw what stability_state gives in Python; outside the plane
// that Python accepts, (0, hMax] × [0, bMax), nothing changes.
function stabilityClick({ pick, iterates, roots, readout, steps, regions, hMax, bMax }, event) {
  const h = event.x, b = event.y;
  if (!(h > 0 && h <= hMax && b >= 0 && b < bMax)) return;  // _plane_point's range
  const run = runMomentum((w) => w, [1], h, b, steps).map((w) => w[0]);
  const mu = momentumRoots(h, b);
  const kind = Math.max(Math.hypot(...mu[0]), Math.hypot(...mu[1])) >= 1 ? regions[2]
             : (Math.abs(mu[0][1]) > 0 ? regions[1] : regions[0]);
  pick.data = { h: [h], beta: [b] };
  iterates.data = { k: run.map((_, i) => i), x: run.map((v) => (Number.isFinite(v) ? v : NaN)) };
  roots.data = { re: [mu[0][0], mu[1][0]], im: [mu[0][1], mu[1][1]] };
  readout.text = `αλ = ${h.toFixed(3)}, β = ${b.toFixed(3)}: <b>${kind}</b>`;
}
