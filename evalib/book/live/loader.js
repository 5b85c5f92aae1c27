// The loader of evalib.book.live's figures: each figure's HTML carries this file and
// one call, evalibLive(target, version, files) (evalib/book/live/base.py, LiveFigure).
//
// BokehJS is loaded once per page, when the first live figure comes near the viewport:
// from the book's own copy where the page names its folder in a meta tag named
// "evalib-bokeh" (its content: the folder's URL relative to the page; book/_ext), else
// from Bokeh's CDN (Jupyter, Colab). Once a figure is drawn, each slider handle gets its
// title as accessible name and the exact value it shows; noUiSlider rewrites those
// attributes, rounded to one decimal, on every move, and an observer puts them right.

// Show the figure whose <div> has the id `target` when it comes near the viewport.
function evalibLive(target, version, files) {
  const el = document.getElementById(target);
  const show = () => evalibLoadBokeh(version, files).then(
    () => evalibEmbed(target),
    () => evalibFailed(el, version));
  if (!("IntersectionObserver" in window)) return show();
  const near = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    near.disconnect();
    show();
  }, { rootMargin: "1200px 0px" });
  near.observe(el);
}

// Where a BokehJS file comes from: the page's own copy, or Bokeh's CDN.
function evalibBokehUrl(name, version) {
  const meta = document.querySelector('meta[name="evalib-bokeh"]');
  if (meta === null) return `https://cdn.bokeh.org/bokeh/release/${name}-${version}.min.js`;
  return new URL(`${name}.min.js`, new URL(meta.content, document.baseURI)).href;
}

// One promise per page and version: the files load one after the other, once.
function evalibLoadBokeh(version, files) {
  const loads = (window.evalibBokehLoads = window.evalibBokehLoads || {});
  const ready = () => window.Bokeh && window.Bokeh.version === version && window.Bokeh.Widgets;
  if (!(version in loads)) {
    loads[version] = files.reduce((previous, name) => previous.then(() => ready() ? null :
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = evalibBokehUrl(name, version);
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      })), Promise.resolve());
  }
  return loads[version];
}

function evalibEmbed(target) {
  const item = JSON.parse(document.getElementById(`${target}-item`).textContent);
  return window.Bokeh.embed.embed_item(item, target).then(evalibAccessible);
}

function evalibFailed(el, version) {
  el.textContent = `This live figure needs BokehJS ${version}, which could not be loaded.`;
}

// Every slider of the drawn figure (`views`, what embed_item returns): a name and its value.
function evalibAccessible(views) {
  for (const view of views.query((v) => v._noUiSlider != null)) {
    const handle = view.slider_el.querySelector(".noUi-handle");
    const label = () => evalibLabelSlider(handle, view);
    new MutationObserver(label).observe(handle, { attributes: true, subtree: true });
    label();
  }
}

// The handle (role "slider") names the slider by its title and announces the value as
// the slider shows it; noUiSlider's rounded copies on the handle's child are removed.
// Only what differs is written, so the observer that calls this comes to rest.
function evalibLabelSlider(handle, view) {
  const { title, value, start, end } = view.model;
  const exact = (v) => String(Number(v.toPrecision(12)));  // 0.89, not 0.8900000000000001
  const wanted = { "aria-label": title, "aria-valuenow": exact(value),
                   "aria-valuemin": exact(start), "aria-valuemax": exact(end),
                   "aria-valuetext": view.pretty(value) };
  for (const [name, text] of Object.entries(wanted)) {
    if (handle.getAttribute(name) !== text) handle.setAttribute(name, text);
  }
  for (const child of handle.querySelectorAll("[aria-valuenow]")) {
    for (const name of Object.keys(wanted)) child.removeAttribute(name);
  }
}
