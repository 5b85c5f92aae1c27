// The optimiser race (evalib/book/live/race.py): gradient descent, the heavy ball and
// Nesterov rerun when the α or β slider moves. Needs transcriptions.js.

// A slider moved: each racer's path, distance and outcome, as race_state gives them.
function raceUpdate({ lr, beta, sources, racers, land, start, minimum, steps, tol, tolText,
                      readout }) {
  const outcome = [];
  racers.forEach((racer, i) => {
    const b = racer === "GD" ? 0 : beta.value;
    const [xs, ys] = optimiserPath(land, start, lr.value, b, racer === "Nesterov", steps);
    sources[i].data = { k: xs.map((_, k) => k), x: xs, y: ys,
                        d: xs.map((x, k) => Math.hypot(x - minimum[0], ys[k] - minimum[1])) };
    const settle = stepsToStayWithin(xs, ys, minimum, tol);
    outcome.push(settle !== null ? settle : Number.isNaN(xs[steps]) ? "diverges" : "not reached");
  });
  readout.text = `Steps until within ${tolText} of the minimum for good (of ${steps}): ` +
    racers.map((r, i) => `${r} <b>${outcome[i]}</b>`).join(", ");
}
