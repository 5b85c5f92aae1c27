// The path animation (evalib/book/live/animation.py): paths over a landscape's contour
// lines, each growing step by step with a marker at its head; Play/Pause, a step back
// and forward, and a step slider. Nothing here needs transcriptions.js.

// What path_frame gives in Python: the rows whose step number ks[i] is at most `step`
// (the page holds only the rows that path_rows keeps, with their step numbers) and the
// head, the last of those rows whose coordinates are finite (none if no row is).
function pathPrefix(ks, xs, ys, step) {
  let n = 0;
  while (n < ks.length && ks[n] <= step) n++;
  const k = Array.from(ks.slice(0, n)), x = Array.from(xs.slice(0, n));
  const y = Array.from(ys.slice(0, n));
  let head = n - 1;
  while (head >= 0 && !(Number.isFinite(x[head]) && Number.isFinite(y[head]))) head--;
  return head < 0 ? { k, x, y, hx: [], hy: [] } : { k, x, y, hx: [x[head]], hy: [y[head]] };
}

// Whatever fired: a step button moves the slider one step, Play starts or stops the
// clock, and a move of the slider redraws every path up to its step.
function pathAnimation({ step, play, back, forward, full, shown, heads, stride, interval }, event) {
  const origin = event != null && event.origin != null ? event.origin : event;
  if (origin === back || origin === forward) {
    const next = step.value + (origin === back ? -1 : 1);
    step.value = Math.min(step.end, Math.max(step.start, next));
  } else if (origin === play) {
    pathPlay(step, play, stride, interval);
  } else {
    full.forEach((path, i) => {
      const frame = pathPrefix(path.data.k, path.data.x, path.data.y, step.value);
      shown[i].data = { k: frame.k, x: frame.x, y: frame.y };
      heads[i].data = { x: frame.hx, y: frame.hy };
    });
  }
}

// Play (the toggle pressed): from the start again if at the end, `stride` steps every
// `interval` ms until the last step; Pause (released): stop the clock.
function pathPlay(step, play, stride, interval) {
  clearInterval(play.evalibClock);
  play.label = play.active ? "Pause" : "Play";
  if (!play.active) return;
  if (step.value >= step.end) step.value = step.start;
  play.evalibClock = setInterval(() => {
    step.value = Math.min(step.end, step.value + stride);
    if (step.value >= step.end) play.active = false;  // fires this again: the clock stops
  }, interval);
}
