"use strict";
// mlpkit playground: the settings form, the live views of a run (Server-Sent Events), the
// diagnosis, the gradient check, export and comparison. No library: canvas drawing by hand.

const $ = (id) => document.getElementById(id);
const form = $("settings");
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"];
// class colours on the plane: TensorFlow Playground's orange / blue for two classes
const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189],
                   [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34],
                   [23, 190, 207]];
const NUMBER_FIELDS = ["points", "dev_points", "noise", "classes", "data_seed", "seed", "l2",
                       "keep_prob", "beta1", "beta2", "learning_rate", "decay_rate", "epochs",
                       "human_error"];
const OPTIONAL_FIELDS = ["batch_size", "patience", "fit_seed"];
const CHECK_FIELDS = ["course_rng", "batch_norm"];
const SELECT_FIELDS = ["dataset", "init", "optimizer", "lr_schedule"];

let options = null;
let layers = [];  // [{units, activation}]
let csvPoints = null;
let run = null;  // {id, members: [{history, label, status, final, diagnosis}], source, shown}
let kept = [];  // run ids kept for comparison
let drawPending = false;

// ------------------------------------------------------------------ settings <-> form, URL
function fieldValue(name) {
  return form.elements[name].value.trim();
}

function readSettings() {
  const s = {};
  for (const name of SELECT_FIELDS) s[name] = fieldValue(name);
  for (const name of NUMBER_FIELDS) s[name] = Number(fieldValue(name));
  for (const name of ["points", "dev_points", "classes", "data_seed", "seed", "epochs"]) {
    s[name] = Math.round(s[name]);
  }
  for (const name of OPTIONAL_FIELDS) {
    const v = fieldValue(name);
    s[name] = v === "" ? null : Math.round(Number(v));
  }
  for (const name of CHECK_FIELDS) s[name] = form.elements[name].checked;
  s.hidden = layers.map((l) => l.units);
  s.activation = layers.map((l) => l.activation);
  if (s.dataset === "csv") s.csv = csvPoints;
  return s;
}

function writeSettings(s) {
  for (const name of SELECT_FIELDS) if (s[name] !== undefined) form.elements[name].value = s[name];
  for (const name of NUMBER_FIELDS) if (s[name] !== undefined) form.elements[name].value = s[name];
  for (const name of OPTIONAL_FIELDS) {
    if (s[name] !== undefined) form.elements[name].value = s[name] === null ? "" : s[name];
  }
  for (const name of CHECK_FIELDS) if (s[name] !== undefined) form.elements[name].checked = s[name];
  if (s.hidden) {
    const acts = Array.isArray(s.activation) ? s.activation : s.hidden.map(() => s.activation);
    layers = s.hidden.map((units, i) => ({units, activation: acts[i] || acts[0] || "relu"}));
    renderLayers();
  }
  describeData();
  updateLink();
}

function settingsToQuery(s) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) {
    if (k === "csv" || v === null || v === undefined) continue;
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  return q.toString();
}

function settingsFromQuery(text) {
  const q = new URLSearchParams(text);
  const s = {};
  for (const [k, v] of q.entries()) {
    if (k === "hidden") s.hidden = v === "" ? [] : v.split(",").map(Number);
    else if (k === "activation") s.activation = v.split(",");
    else if (CHECK_FIELDS.includes(k)) s[k] = v === "true";
    else if (NUMBER_FIELDS.includes(k) || OPTIONAL_FIELDS.includes(k)) s[k] = Number(v);
    else if (SELECT_FIELDS.includes(k)) s[k] = v;
  }
  return s;
}

function updateLink() {
  const query = settingsToQuery(readSettings());
  $("share").href = `/?${query}`;
  history.replaceState(null, "", `/?${query}`);
}

function renderLayers() {
  const box = $("layers");
  box.replaceChildren();
  layers.forEach((layer, i) => {
    const row = document.createElement("div");
    row.className = "layer";
    const units = document.createElement("input");
    Object.assign(units, {type: "number", min: 1, max: options.limits.max_units, value: layer.units});
    units.setAttribute("aria-label", `units of hidden layer ${i + 1}`);
    units.dataset.layer = i;
    units.addEventListener("change", () => {
      layer.units = Math.max(1, Math.round(Number(units.value) || 1));
      updateLink();
    });
    const act = document.createElement("select");
    act.setAttribute("aria-label", `activation of hidden layer ${i + 1}`);
    act.dataset.layer = i;
    for (const name of options.choices.activation) act.add(new Option(name, name));
    act.value = layer.activation;
    act.addEventListener("change", () => { layer.activation = act.value; updateLink(); });
    const label = document.createElement("span");
    label.textContent = `layer ${i + 1}:`;
    row.append(label, units, document.createTextNode(" units, "), act);
    box.append(row);
  });
  describeOutput();
}

function describeOutput() {
  const classes = Number(fieldValue("classes")) || 2;
  $("output-help").textContent = `output: ${classes > 2 ? `softmax over ${classes} classes` :
    "one sigmoid unit (two classes)"}; ${layers.length} hidden layer(s)`;
}

function describeData() {
  const name = fieldValue("dataset");
  const d = options.datasets.find((x) => x.name === name);
  $("dataset-help").textContent = d ? d.description : "your uploaded CSV file";
  const points = Number(fieldValue("points")), dev = Number(fieldValue("dev_points"));
  $("dev-fraction").textContent = dev ? `dev fraction ${(dev / (points + dev)).toFixed(2)}` :
    "no dev set (no diagnosis)";
}

// ------------------------------------------------------------------ API
async function api(path, init) {
  const response = await fetch(path, init);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : `${response.status}`;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function setStatus(text) {
  $("status").textContent = text;
}

// ------------------------------------------------------------------ runs
async function startRun(body) {
  showError("");
  if (run && run.source) run.source.close();
  if (run && !run.done) {
    api(`/api/runs/${run.id}/control`, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({action: "stop"})}).catch(() => {});
  }
  let created;
  try {
    created = await api("/api/runs", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
  } catch (error) {
    showError(error.message);
    return null;
  }
  watch(created.id);
  return created.id;
}

function train() {
  updateLink();
  return startRun(readSettings());
}

function resetViews() {
  for (const id of ["epoch", "train-accuracy", "dev-accuracy", "final-train-accuracy",
                    "final-dev-accuracy"]) $(id).textContent = "–";
  $("gradcheck-result").textContent = "";
  for (const id of ["boundary", "cost-chart", "accuracy-chart", "gradients"]) {
    const c = $(id);
    c.getContext("2d").clearRect(0, 0, c.width, c.height);
  }
  $("boundary").dataset.updates = "0";
  $("cost-chart").dataset.updates = "0";
  $("histograms").replaceChildren();
  for (const id of ["export-python", "export-npz"]) {
    $(id).classList.add("disabled");
    $(id).removeAttribute("href");
  }
}

function watch(id) {
  resetViews();
  run = {id, members: [], shown: 0, done: false, points: {}, boundary: {}};
  const source = new EventSource(`/api/runs/${id}/events`);
  run.source = source;
  setControls(true);
  setStatus(`run ${id}: starting`);
  source.addEventListener("metrics", (e) => onMetrics(id, JSON.parse(e.data)));
  source.addEventListener("boundary", (e) => onBoundary(id, JSON.parse(e.data)));
  source.addEventListener("error", (e) => {
    if (e.data) onRunError(id, JSON.parse(e.data));
  });
  source.addEventListener("done", (e) => onDone(id, JSON.parse(e.data)));
}

function member(i) {
  if (!run.members[i]) {
    run.members[i] = {history: {epoch: [], cost: [], dev_cost: [], train_accuracy: [],
                                dev_accuracy: []}, label: "", status: "queued"};
  }
  return run.members[i];
}

function onMetrics(id, data) {
  if (!run || run.id !== id) return;
  const m = member(data.member);
  for (const [k, values] of Object.entries(data.history)) m.history[k].push(...values);
  Object.assign(m, {label: data.label, status: data.status, layers: data.layers,
                    epochs: data.epochs});
  run.shown = data.member;
  run.paused = data.paused;
  const last = m.history.epoch.length - 1;
  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);
  if (last >= 0) {
    $("epoch").textContent = `${m.history.epoch[last]} of ${data.epochs}`;
    $("train-accuracy").textContent = pct(m.history.train_accuracy[last]);
    $("dev-accuracy").textContent = pct(m.history.dev_accuracy[last]);
  }
  const what = run.members.length > 1 || data.member > 0 ? ` (${m.label})` : "";
  setStatus(`run ${id}${what}: ${data.paused ? "paused" : data.status}`);
  scheduleDraw();
}

function onBoundary(id, data) {
  if (!run || run.id !== id) return;
  if (data.points) run.points[data.member] = data.points;
  run.boundary[data.member] = data;
  run.shown = data.member;
  drawBoundary(data, run.points[data.member]);
  const c = $("boundary");
  c.dataset.updates = String(Number(c.dataset.updates) + 1);
  c.dataset.epochs = String(data.epochs_done);
}

function onRunError(id, data) {
  if (!run || run.id !== id) return;
  showError(`${data.status}: ${data.message}`);
}

function onDone(id, record) {
  if (!run || run.id !== id) return;
  run.source.close();
  run.done = true;
  run.record = record;
  setControls(false);
  const shown = record.members.length - 1;
  const m = record.members[shown];
  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);
  if (m.final) {
    $("final-train-accuracy").textContent = pct(m.final.train_accuracy);
    $("final-dev-accuracy").textContent = pct(m.final.dev_accuracy);
  }
  $("final-train-accuracy").dataset.value = m.final ? String(m.final.train_accuracy) : "";
  const reason = record.stop_reason ? ` (${record.stop_reason})` : "";
  setStatus(`run ${id}: ${record.status}${reason}`);
  $("status").dataset.done = "true";
  $("status").dataset.run = id;
  renderDiagnosis(m.diagnosis);
  const py = $("export-python"), npz = $("export-npz");
  py.href = `/api/runs/${id}/export?format=python&member=${shown}`;
  py.classList.remove("disabled");
  if (m.status !== "diverged" && m.status !== "failed") {
    npz.href = `/api/runs/${id}/export?format=npz&member=${shown}`;
    npz.classList.remove("disabled");
  }
  $("gradcheck").disabled = false;
  $("keep").disabled = false;
  if (record.members.length > 1 && !kept.includes(id)) {
    kept.push(id);
    refreshCompare();
  }
}

function setControls(running) {
  $("pause").disabled = !running;
  $("step").disabled = !running;
  $("stop").disabled = !running;
  $("gradcheck").disabled = !running;
  $("keep").disabled = true;
  $("status").dataset.done = running ? "false" : "true";
}

async function control(action) {
  if (!run || run.done) return;
  try {
    await api(`/api/runs/${run.id}/control`, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({action})});
  } catch (error) {
    showError(error.message);
  }
}

// ------------------------------------------------------------------ drawing
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    if (!run) return;
    const m = run.members[run.shown];
    if (!m) return;
    drawChart($("cost-chart"), [
      {xs: m.history.epoch, ys: m.history.cost, color: COLORS[0], label: "train cost"},
      {xs: m.history.epoch, ys: m.history.dev_cost, color: COLORS[1], label: "dev cost",
       dash: [5, 3]}], {title: "cost J", log: true});
    drawChart($("accuracy-chart"), [
      {xs: m.history.epoch, ys: m.history.train_accuracy, color: COLORS[0], label: "train"},
      {xs: m.history.epoch, ys: m.history.dev_accuracy, color: COLORS[1], label: "dev",
       dash: [5, 3]}], {title: "accuracy", ymin: 0, ymax: 1});
    const c = $("cost-chart");
    c.dataset.updates = String(Number(c.dataset.updates) + 1);
    if (m.layers) {
      drawGradients(m.layers);
      drawHistograms(m.layers);
    }
  });
}

function drawBoundary(b, points) {
  const canvas = $("boundary");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const [x0, x1, y0, y1] = b.box;
  const n = b.size;
  const image = ctx.createImageData(n, n);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const k = row * n + col;
      let rgb, strength;
      if (b.classes === 2) {
        const p = b.p[k];
        rgb = p >= 0.5 ? CLASS_RGB[1] : CLASS_RGB[0];
        strength = Math.abs(p - 0.5) * 2;
      } else {
        rgb = CLASS_RGB[b.class[k] % CLASS_RGB.length];
        strength = (b.p[k] - 1 / b.classes) / (1 - 1 / b.classes);
      }
      const a = 0.15 + 0.6 * strength;
      const j = ((n - 1 - row) * n + col) * 4;  // row 0 is the lowest y
      for (let c = 0; c < 3; c++) image.data[j + c] = Math.round(255 * (1 - a) + rgb[c] * a);
      image.data[j + 3] = 255;
    }
  }
  const off = document.createElement("canvas");
  off.width = n;
  off.height = n;
  off.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, W, H);
  if (!points) return;
  const px = (x) => ((x - x0) / (x1 - x0)) * W;
  const py = (y) => H - ((y - y0) / (y1 - y0)) * H;
  const draw = (set, ringed) => {
    if (!set) return;
    for (let i = 0; i < set.x.length; i++) {
      const rgb = CLASS_RGB[set.label[i] % CLASS_RGB.length];
      ctx.beginPath();
      ctx.arc(px(set.x[i]), py(set.y[i]), ringed ? 3.2 : 3, 0, 2 * Math.PI);
      if (ringed) {
        ctx.strokeStyle = `rgb(${rgb})`;
        ctx.lineWidth = 1.5;
        ctx.stroke();
      } else {
        ctx.fillStyle = `rgb(${rgb})`;
        ctx.fill();
        ctx.strokeStyle = "white";
        ctx.lineWidth = 0.8;
        ctx.stroke();
      }
    }
  };
  draw(points.dev, true);
  draw(points.train, false);
}

function drawChart(canvas, series, opts) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 46, R = 8, T = 18, B = 22;
  ctx.clearRect(0, 0, W, H);
  const transform = opts.log ? (v) => Math.log10(Math.max(v, 1e-12)) : (v) => v;
  let xmax = 1, ymin = Infinity, ymax = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.ys.length; i++) {
      const y = s.ys[i];
      if (y === null || y === undefined || !Number.isFinite(y)) continue;
      const t = transform(y);
      ymin = Math.min(ymin, t);
      ymax = Math.max(ymax, t);
      xmax = Math.max(xmax, s.xs[i]);
    }
  }
  if (opts.ymin !== undefined) { ymin = opts.ymin; ymax = opts.ymax; }
  if (!Number.isFinite(ymin)) { ymin = 0; ymax = 1; }
  if (ymax - ymin < 1e-9) { ymax += 0.5; ymin -= 0.5; }
  const X = (x) => L + (x / xmax) * (W - L - R);
  const Y = (y) => T + (1 - (y - ymin) / (ymax - ymin)) * (H - T - B);
  ctx.strokeStyle = "#bbb";
  ctx.lineWidth = 1;
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  ctx.fillText(opts.title, L, 12);
  const label = (t) => (opts.log ? (10 ** t).toPrecision(2) : t.toFixed(2));
  ctx.fillText(label(ymax), 2, T + 8);
  ctx.fillText(label(ymin), 2, H - B);
  ctx.fillText(`epoch ${xmax}`, W - R - 70, H - 6);
  let legendX = L + ctx.measureText(opts.title).width + 16;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dash || []);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    // at most ~2 points per pixel column
    const step = Math.max(1, Math.floor(s.xs.length / (2 * (W - L - R))));
    let started = false;
    for (let i = 0; i < s.xs.length; i += step) {
      const y = s.ys[i];
      if (y === null || y === undefined || !Number.isFinite(y)) { started = false; continue; }
      const cx = X(s.xs[i]), cy = Y(transform(y));
      if (started) ctx.lineTo(cx, cy); else ctx.moveTo(cx, cy);
      started = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.label) {
      ctx.fillStyle = s.color;
      ctx.fillText(s.label, legendX, 12);
      legendX += ctx.measureText(s.label).width + 14;
    }
  }
}

function drawGradients(layers) {
  const canvas = $("gradients");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 60, T = 8, B = 20;
  ctx.clearRect(0, 0, W, H);
  const logs = layers.map((l) => (l.grad_norm ? Math.log10(l.grad_norm) : -12));
  const lo = Math.min(-8, ...logs), hi = Math.max(1, ...logs);
  const barH = (H - T - B) / layers.length;
  ctx.font = "11px sans-serif";
  layers.forEach((l, i) => {
    const w = ((logs[i] - lo) / (hi - lo)) * (W - L - 70);
    ctx.fillStyle = "#333";
    ctx.fillText(`dW${l.layer}`, 4, T + i * barH + barH * 0.65);
    ctx.fillStyle = COLORS[0];
    ctx.fillRect(L, T + i * barH + 2, Math.max(1, w), barH - 4);
    ctx.fillStyle = "#333";
    ctx.fillText(l.grad_norm === null ? "NaN" : l.grad_norm.toExponential(1), L + w + 4,
                 T + i * barH + barH * 0.65);
  });
  ctx.fillText(`log scale, 1e${lo.toFixed(0)} … 1e${hi.toFixed(0)}`, L, H - 5);
}

function drawHistograms(layers) {
  const box = $("histograms");
  box.replaceChildren();
  for (const l of layers) {
    if (!l.histogram) continue;
    const wrap = document.createElement("div");
    const title = document.createElement("p");
    title.className = "help";
    title.textContent = `layer ${l.layer} (${l.units} ${l.activation}): ` +
      `${(100 * l.saturated).toFixed(0)}% ${l.activation.includes("relu") ? "dead units" :
        "saturated"}`;
    const canvas = document.createElement("canvas");
    canvas.width = 200;
    canvas.height = 60;
    const ctx = canvas.getContext("2d");
    const max = Math.max(1, ...l.histogram);
    const w = canvas.width / l.histogram.length;
    ctx.fillStyle = COLORS[2];
    l.histogram.forEach((c, i) => {
      const h = (c / max) * (canvas.height - 12);
      ctx.fillRect(i * w + 1, canvas.height - 12 - h, w - 2, h);
    });
    ctx.fillStyle = "#333";
    ctx.font = "10px sans-serif";
    ctx.fillText(String(l.range[0].toFixed(2)), 0, canvas.height - 1);
    ctx.fillText(String(l.range[1].toFixed(2)), canvas.width - 28, canvas.height - 1);
    wrap.append(title, canvas);
    box.append(wrap);
  }
}

// ------------------------------------------------------------------ diagnosis
const APPLY = {
  "--hidden": (v) => {
    const sizes = String(v).split(",").map((n) => Math.min(Number(n), options.limits.max_units));
    const act = layers.length ? layers[layers.length - 1].activation : "relu";
    layers = sizes.map((units, i) => ({units, activation: layers[i] ? layers[i].activation : act}));
    renderLayers();
  },
  "--epochs": (v) => { form.elements.epochs.value = Math.min(Number(v), options.limits.max_epochs); },
  "--optimizer": (v) => { form.elements.optimizer.value = v; },
  "--l2": (v) => { form.elements.l2.value = Number(v); },
  "--dropout": (v) => { form.elements.keep_prob.value = +(1 - Number(v)).toFixed(4); },
  "--patience": (v) => { form.elements.patience.value = Number(v); },
  "--batch-norm": () => { form.elements.batch_norm.checked = true; },
  "--init": (v) => { form.elements.init.value = v; },
};

function renderDiagnosis(d) {
  const box = $("diagnosis");
  box.replaceChildren();
  if (!d) {
    const p = document.createElement("p");
    p.className = "help";
    p.textContent = "No diagnosis: it needs a dev set (dev points > 0).";
    box.append(p);
    return;
  }
  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);
  const verdict = document.createElement("p");
  verdict.className = "verdict";
  verdict.id = "verdict";
  verdict.textContent = d.verdict;
  const facts = document.createElement("dl");
  facts.className = "facts";
  for (const [k, v] of [["human-level error", d.human_error], ["training error", d.train_error],
                        ["dev error", d.dev_error], ["avoidable bias", d.avoidable_bias],
                        ["variance", d.variance]]) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = pct(v);
    facts.append(dt, dd);
  }
  const list = document.createElement("ol");
  list.className = "suggestions";
  for (const s of d.suggestions || []) {
    const li = document.createElement("li");
    li.textContent = s.remedy + " ";
    if (s.setting && s.value !== null && s.value !== undefined && APPLY[s.setting]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "apply";
      button.dataset.setting = s.setting;
      button.textContent = `apply ${s.setting.replace(/^--/, "")} ${s.value === true ? "" : s.value}`;
      button.addEventListener("click", () => {
        APPLY[s.setting](s.value);
        updateLink();
        train();
      });
      li.append(button);
    }
    list.append(li);
  }
  box.append(verdict, facts, list);
}

// ------------------------------------------------------------------ compare
async function refreshCompare() {
  const body = $("compare-table").querySelector("tbody");
  body.replaceChildren();
  const series = [];
  let k = 0;
  for (const id of kept) {
    let record;
    try {
      record = await api(`/api/runs/${id}`);
    } catch (error) {
      continue;
    }
    record.members.forEach((m) => {
      const label = record.members.length > 1 ? `${id}: ${m.label}` : `${id}`;
      series.push({xs: m.history.epoch, ys: m.history.cost, color: COLORS[k % COLORS.length],
                   label});
      k += 1;
      const tr = document.createElement("tr");
      const s = m.settings;
      const cells = [label,
        `${s.dataset}, [${s.hidden.join(", ")}] ${[...new Set(s.activation)].join("/")}, ` +
        `${s.init}, ${s.optimizer} α=${s.learning_rate}` + (s.l2 ? `, λ=${s.l2}` : "") +
        (s.keep_prob < 1 ? `, keep_prob=${s.keep_prob}` : "") + (s.batch_size ? `, batch ${s.batch_size}` : ""),
        m.status, String(m.epochs_done),
        m.final ? `${(100 * m.final.train_accuracy).toFixed(2)}%` : "–",
        m.final && m.final.dev_accuracy !== null ? `${(100 * m.final.dev_accuracy).toFixed(2)}%` : "–",
        m.final && m.final.train_cost !== null ? m.final.train_cost.toFixed(4) : "–"];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      body.append(tr);
    });
  }
  drawChart($("compare-chart"), series, {title: "training cost J (log scale)", log: true});
}

// ------------------------------------------------------------------ CSV
async function uploadCsv(file) {
  const data = new FormData();
  data.append("file", file, file.name);
  $("csv-status").textContent = "reading…";
  try {
    const parsed = await api("/api/csv", {method: "POST", body: data});
    csvPoints = {x: parsed.x, y: parsed.y, classes: parsed.classes};
    form.elements.dataset.value = "csv";
    form.elements.classes.value = parsed.classes.length;
    const dev = Math.round(parsed.rows * 0.2);
    form.elements.dev_points.value = dev;
    form.elements.points.value = parsed.rows - dev;
    $("csv-status").textContent = `${file.name}: ${parsed.rows} rows, classes ` +
      parsed.classes.join(", ");
    describeData();
    renderLayers();
  } catch (error) {
    csvPoints = null;
    $("csv-status").textContent = error.message;
  }
}

// ------------------------------------------------------------------ start
async function main() {
  options = await api("/api/datasets");
  const fill = (name, entries) => {
    const select = form.elements[name];
    for (const [value, text] of entries) select.add(new Option(text, value));
  };
  fill("dataset", [...options.datasets.map((d) => [d.name, d.title]), ["csv", "your CSV file"]]);
  fill("init", Object.entries(options.choices.init));
  fill("optimizer", options.choices.optimizer.map((o) => [o, o]));
  fill("lr_schedule", options.choices.lr_schedule.map((o) => [o, o]));
  for (const p of options.presets) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = p.name;
    button.title = p.description;
    button.dataset.preset = p.name;
    button.addEventListener("click", () => {
      writeSettings(p.members[0].settings);
      startRun({preset: p.name});
    });
    $("presets").append(button);
  }
  writeSettings({...options.defaults, ...settingsFromQuery(location.search)});
  form.addEventListener("change", (e) => {
    if (e.target.name === "dataset") {
      const d = options.datasets.find((x) => x.name === e.target.value);
      if (d) form.elements.noise.value = d.noise;
    }
    describeData();
    describeOutput();
    updateLink();
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  $("add-layer").addEventListener("click", () => {
    if (layers.length >= options.limits.max_layers) return;
    const last = layers[layers.length - 1] || {units: 4, activation: "relu"};
    layers.push({...last});
    renderLayers();
    updateLink();
  });
  $("remove-layer").addEventListener("click", () => {
    layers.pop();
    renderLayers();
    updateLink();
  });
  $("csv-file").addEventListener("change", (e) => {
    if (e.target.files.length) uploadCsv(e.target.files[0]);
  });
  $("play").addEventListener("click", () => {
    if (run && !run.done && run.paused) control("play");
    else train();
  });
  $("pause").addEventListener("click", () => control("pause"));
  $("step").addEventListener("click", () => control("step"));
  $("stop").addEventListener("click", () => control("stop"));
  $("reset").addEventListener("click", () => {
    if (run && !run.done) control("stop");
    if (run && run.source) run.source.close();
    run = null;
    resetViews();
    setControls(false);
    setStatus("ready");
  });
  $("gradcheck").addEventListener("click", async () => {
    if (!run) return;
    $("gradcheck-result").textContent = "checking…";
    try {
      const r = await api(`/api/runs/${run.id}/gradcheck?member=${run.shown}`, {method: "POST"});
      $("gradcheck-result").textContent = `relative difference ${r.difference.toExponential(2)} ` +
        `${r.passed ? "<" : "≥"} ${r.threshold}: ${r.passed ? "the gradient is right" :
          "check the gradient (kinks of relu can also cause this)"} (epoch ${r.epochs_done})`;
    } catch (error) {
      $("gradcheck-result").textContent = error.message;
    }
  });
  $("keep").addEventListener("click", () => {
    if (run && !kept.includes(run.id)) kept.push(run.id);
    refreshCompare();
  });
  $("clear-compare").addEventListener("click", () => {
    kept = [];
    refreshCompare();
  });
  window.addEventListener("pagehide", () => { if (run && run.source) run.source.close(); });
  fetch("/health").then((r) => r.json()).then(() => {}).catch(() => {});
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(`the page could not start: ${error.message}`));
