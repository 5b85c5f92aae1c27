// The colorization explorer (evalib/book/live/colorization.py): colour spreading along a
// line of pixels, for the method and step the reader picks. Needs live.js (runMomentum).
// The first three functions transcribe the evalib functions named in their comments,
// with the operations in the same order; tests/test_colorization.py checks them
// against evalib to 1e-9.

// evalib.worst_case.GraphQuadratic.grad on a line: A w - b, with A tridiagonal (the
// diagonal `diag`, -1 beside it); the sum over the non-zero entries of each row of A.
function lineGrad(problem) {
  const d = problem.diag, b = problem.b, n = d.length;
  return (w) => w.map((wi, i) =>
    d[i] * wi - (i > 0 ? w[i - 1] : 0) - (i < n - 1 ? w[i + 1] : 0) - b[i]);
}

// evalib.optim.nesterov_lookahead: z <- b z + grad(w - lr b z), w <- w - lr z, from
// z = 0; the iterates w and the buffers z, one array per step.
function nesterovLookahead(grad, w0, lr, b, steps) {
  let w = w0.slice(), z = w0.map(() => 0);
  const ws = [w], zs = [z];
  for (let k = 1; k <= steps; k++) {
    const g = grad(w.map((wi, i) => wi - lr * b * z[i]));
    z = z.map((zi, i) => b * zi + g[i]);
    w = w.map((wi, i) => wi - lr * z[i]);
    ws.push(w);
    zs.push(z);
  }
  return [ws, zs];
}

// colorization.colorization_state: the iterates from w = 0 (theory.run_momentum,
// with b = 0 for gradient descent, or PyTorch's Nesterov iterates w - lr b z) and the
// relative error |w_k - w*| / |w*| per step.
function colorizationState(problem, method, lr, b, steps) {
  const grad = lineGrad(problem), w0 = problem.b.map(() => 0);
  let path;
  if (method === "Nesterov") {
    const [ws, zs] = nesterovLookahead(grad, w0, lr, b, steps);
    path = ws.map((w, k) => w.map((wi, i) => wi - lr * b * zs[k][i]));
  } else {
    path = runMomentum(grad, w0, lr, b, steps);
  }
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const size = norm(problem.solution);
  const error = path.map((w) => norm(w.map((wi, i) => wi - problem.solution[i])) / size);
  return { path, error };
}

// colorization.colorization_text: the readout.
function colorizationText(method, k, reached, reachable, error) {
  return `${method}, step ${k}: colour has reached <b>${reached}</b> pixels; ` +
    `<b>${reachable}</b> lie within k − 1 steps of a seed, the most a method in the span ` +
    "of its gradients can reach" +
    `<br>error ‖w − w*‖ / ‖w*‖ = <b>${error.toFixed(4)}</b>`;
}

// The slider or a button moved: rerun the method, redraw step k and the readout.
function colorizationUpdate({ slider, buttons, profile, errors, now, readout, problem, hops,
                              methods, tunings }) {
  const k = slider.value, method = methods[buttons.active], [lr, b] = tunings[buttons.active];
  const steps = errors.data.k.length - 1;
  const { path, error } = colorizationState(problem, method, lr, b, steps);
  const reach = hops.map((h) => (h <= k - 1 ? 1.3 : 0));
  profile.data = { i: profile.data.i, w: path[k], reach, solution: profile.data.solution };
  errors.data = { k: errors.data.k, error };
  now.data = { k: [k], error: [error[k]] };
  const reached = path[k].filter((v) => v !== 0).length;
  readout.text = colorizationText(method, k, reached, reach.filter((r) => r > 0).length,
                                  error[k]);
}
