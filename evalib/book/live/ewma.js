// The EWMA explorer (evalib/book/live/ewma.py): a β slider over a series.
// Needs transcriptions.js.

// The slider moved: both averages of the series and the readout, as in Python.
function ewmaUpdate({ slider, source, readout }) {
  const b = slider.value, x = Array.from(source.data.x);
  source.data = { t: source.data.t, x: source.data.x, raw: ewma(x, b, false),
                  corrected: ewma(x, b, true) };
  readout.text = ewmaLagText(b);
}

// ewma.py's ewma_lag_text: evalib.averages.effective_window and ewma_lag.
function ewmaLagText(b) {
  return `β = ${b.toFixed(3)}: averages over about 1/(1 − β) = ` +
    `<b>${(1 / (1 - b)).toFixed(1)}</b> points; lags a steady trend by ` +
    `β/(1 − β) = <b>${(b / (1 - b)).toFixed(1)}</b> steps`;
}
