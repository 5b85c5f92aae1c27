// The JavaScript transcriptions of evalib functions that the live figures run in the
// browser (evalib.book.live.JS_FUNCTIONS). Each function is a line-by-line transcription
// of the evalib function named in its comment, with its operations in the same order;
// tests/test_live.py checks each against evalib to 1e-9.
// Results are bit for bit the same where evalib runs the same IEEE operations (NumPy);
// where it relies on torch they agree to rounding: torch takes the gradient by autograd
// and may fuse a multiply and an add into one rounding (an FMA).

// evalib.theory.momentum_roots for one (h, b): the roots of mu^2 - (1 + b - h) mu + b,
// as [re, im] pairs, larger modulus first; the smaller is b / (the larger).
function momentumRoots(h, b) {
  const trace = 1 + b - h, disc = trace * trace - 4 * b, sign = trace >= 0 ? 1 : -1;
  const big = disc >= 0 ? [0.5 * (trace + sign * Math.sqrt(disc)), 0]
                        : [0.5 * trace, 0.5 * sign * Math.sqrt(-disc)];
  const norm = big[0] * big[0] + big[1] * big[1];
  const small = norm !== 0 ? [b * big[0] / norm, -b * big[1] / norm] : [0, 0];
  return [big, small];
}
// evalib.theory.momentum_rate: max over the eigenvalues of the larger root's modulus.
function momentumRate(lr, b, eigvals) {
  let rate = 0;
  for (const lam of eigvals) rate = Math.max(rate, Math.hypot(...momentumRoots(lr * lam, b)[0]));
  return rate;
}
// evalib.theory.run_momentum: z <- b z + grad(w), w <- w - lr z, from z = 0.
function runMomentum(grad, w0, lr, b, steps) {
  let w = w0.slice(), z = w0.map(() => 0);
  const path = [w];
  for (let k = 1; k <= steps; k++) {
    const g = grad(w);
    z = z.map((zi, i) => b * zi + g[i]);
    w = w.map((wi, i) => wi - lr * z[i]);
    path.push(w);
  }
  return path;
}
// evalib.theory.empirical_rate with its default window, the second half of the run.
function empiricalRate(e) {
  const stop = e.length - 1, start = Math.floor(stop / 2), n = stop - start;
  if (!e.every(Number.isFinite)) return NaN;  // evalib refuses a diverged run
  const win = e.slice(start, stop + 1), later = win.slice(), earlier = win.slice();
  for (let j = later.length - 2; j >= 0; j--) later[j] = Math.max(later[j], later[j + 1]);
  for (let j = 1; j < earlier.length; j++) earlier[j] = Math.max(earlier[j], earlier[j - 1]);
  if (later[later.length - 1] === 0) return 0;
  const rate = Math.exp((Math.log(later[later.length - 1]) - Math.log(later[0])) / n);
  if (rate < 1) return rate;
  return Math.exp((Math.log(earlier[earlier.length - 1]) - Math.log(earlier[0])) / n);
}
// evalib.landscapes.Quadratic: the gradient A (w - c) and the eigen-coordinates Q^T (w - c).
function quadraticGrad(q) {
  return (w) => { const dx = w[0] - q.c[0], dy = w[1] - q.c[1];
                  return [q.a11 * dx + q.a12 * dy, q.a12 * dx + q.a22 * dy]; };
}
function eigenCoords(q, w) {
  const dx = w[0] - q.c[0], dy = w[1] - q.c[1];
  return [q.q11 * dx + q.q21 * dy, q.q12 * dx + q.q22 * dy];
}
// evalib.averages.ewma: v[t] = b v[t-1] + (1 - b) x[t] from v = 0; with bias correction
// v[t] / (1 - b^(t+1)), written -expm1((t+1) ln b) as evalib does.
function ewma(x, b, biasCorrection) {
  const v = new Array(x.length);
  let prev = 0;
  for (let t = 0; t < x.length; t++) { prev = b * prev + (1 - b) * x[t]; v[t] = prev; }
  if (biasCorrection && b > 0) {
    const startUp = Math.min(x.length, Math.ceil(-53 * Math.log(2) / Math.log(b)) + 1);
    for (let t = 0; t < startUp; t++) v[t] /= -Math.expm1((t + 1) * Math.log(b));
  }
  return v;
}
// evalib.landscapes.Quadratic and Rosenbrock: the value and the gradient.
function landscapeFns(land) {
  if (land.kind === "quadratic") {
    const q = land;
    return { value: (w) => { const dx = w[0] - q.c[0], dy = w[1] - q.c[1];
                             return 0.5 * (q.a11 * dx * dx + 2 * q.a12 * dx * dy + q.a22 * dy * dy); },
             grad: quadraticGrad(q) };
  }
  const a = land.a, bb = land.b;
  return { value: (w) => (a - w[0]) ** 2 + bb * (w[1] - w[0] * w[0]) ** 2,
           grad: (w) => { const inner = w[1] - w[0] * w[0];
                          return [-2 * (a - w[0]) - 4 * bb * w[0] * inner, 2 * bb * inner]; } };
}
// evalib.optim.trajectory with evalib.optim.HeavyBall (nesterov false) or Nesterov,
// with the closed-form gradients above where trajectory uses autograd:
// z <- b z + g, then w <- w - lr z (heavy ball) or w <- w - lr (g + b z) (Nesterov).
// A non-finite loss, gradient or iterate ends the run; the later rows stay NaN.
function optimiserPath(land, w0, lr, b, nesterov, steps) {
  const fns = landscapeFns(land), xs = new Array(steps + 1).fill(NaN), ys = xs.slice();
  let w = w0.slice(), z = [0, 0];
  xs[0] = w[0]; ys[0] = w[1];
  for (let k = 1; k <= steps; k++) {
    const g = fns.grad(w);
    if (!Number.isFinite(fns.value(w)) || !g.every(Number.isFinite)) break;
    z = [z[0] * b + g[0], z[1] * b + g[1]];
    const step = nesterov ? [g[0] + z[0] * b, g[1] + z[1] * b] : z;
    w = [w[0] + -lr * step[0], w[1] + -lr * step[1]];
    if (!w.every(Number.isFinite)) break;
    xs[k] = w[0]; ys[k] = w[1];
  }
  return [xs, ys];
}
// evalib.optim.steps_to_stay_within: the first step from which the distance to the
// minimum stays <= tol for good, or null.
function stepsToStayWithin(xs, ys, minimum, tol) {
  const dist = xs.map((x, k) => Math.hypot(x - minimum[0], ys[k] - minimum[1]));
  if (!(dist[dist.length - 1] <= tol)) return null;
  let k = dist.length - 1;
  while (k > 0 && dist[k - 1] <= tol) k--;
  return k;
}
