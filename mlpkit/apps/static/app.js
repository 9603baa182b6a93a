// The page of `mlpkit serve`: send dropped or chosen photos to POST /api/predict and show,
// for each, a thumbnail, the predicted class and one probability bar per class.
"use strict";

(() => {
  const PART_OVERHEAD = 1024; // bytes of multipart headers per file, with room to spare
  const $ = (id) => document.getElementById(id);
  let model = null; // GET /api/model
  const modelReady = loadModel();
  const queue = [];
  let sending = false;

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  const percent = (p) => `${(100 * p).toFixed(1)}%`;
  const megabytes = (n) => `${+(n / (1024 * 1024)).toPrecision(3)} MB`;

  // "Is this a cat?" for the classes non-cat and cat
  function question(classes) {
    const negative = /^(non|not|no)[- ]/i;
    if (classes.length === 2) {
      const [a, b] = classes;
      for (const [neg, pos] of [[a, b], [b, a]]) {
        if (negative.test(neg) && neg.replace(negative, "").toLowerCase() === pos.toLowerCase()) {
          return `Is this a ${pos}?`;
        }
      }
      return `${a} or ${b}?`;
    }
    return "What is in this picture?";
  }

  // ------------------------------------------------------------------ the model card

  async function loadModel() {
    const card = $("model-card");
    try {
      const response = await fetch("/api/model");
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      model = await response.json();
    } catch (error) {
      $("model-name").textContent = `The model card could not be loaded (${error.message}).`;
      card.setAttribute("aria-busy", "false");
      return;
    }
    document.title = `${question(model.classes)} · mlpkit serve`;
    $("title").textContent = question(model.classes);
    $("model-name").textContent = model.name;
    $("version").textContent = model.mlpkit_version;
    $("limits").textContent =
      `JPEG, PNG, GIF, BMP or WebP · up to ${megabytes(model.max_upload_bytes)} at once`;
    const recorded = (p) => (p === null || p === undefined ? "not recorded" : percent(p));
    const facts = [
      ["Classes", model.classes.join(", "), "classes"],
      ["Image size", `${model.image_size} × ${model.image_size} RGB`, "image-size"],
      ["Architecture", model.architecture.summary, "architecture"],
      ["Training accuracy", recorded(model.train_accuracy), "train-accuracy"],
      ["Test accuracy", recorded(model.test_accuracy), "test-accuracy"],
    ];
    if (model.validation_accuracy !== null) {
      facts.push(["Validation accuracy", percent(model.validation_accuracy), "validation-accuracy"]);
    }
    const options = model.training && model.training.options;
    if (options) {
      facts.push(["Trained", `${options.epochs} epochs, ${options.optimizer}, learning rate ` +
        `${options.learning_rate}`, "training"]);
    }
    const saved = model.saved_with_mlpkit;
    const version = saved && saved !== model.mlpkit_version
      ? `${model.mlpkit_version} (model saved with ${saved})` : model.mlpkit_version;
    facts.push(["mlpkit version", version, "mlpkit-version"]);
    $("model-facts").replaceChildren(...facts.flatMap(([term, value, key]) => [
      el("dt", {}, term), el("dd", {dataset: {fact: key}}, value)]));
    card.setAttribute("aria-busy", "false");
    card.dataset.loaded = "true";
  }

  // ------------------------------------------------------------------ one card per photo

  function addFiles(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    const items = files.map((file) => {
      const url = URL.createObjectURL(file);
      const thumb = el("img", {className: "thumb", src: url, alt: ""});
      thumb.addEventListener("error", () => {
        thumb.replaceWith(el("div", {className: "thumb no-preview"}, "no preview"));
        URL.revokeObjectURL(url);
      }, {once: true});
      const node = el("li", {className: "result pending", dataset: {state: "pending"}},
        thumb,
        el("div", {className: "body"},
          el("p", {className: "filename", title: file.name}, file.name),
          el("p", {className: "verdict"}, "classifying…"),
          el("div", {className: "bars"})));
      return {file, node};
    });
    $("results").prepend(...items.map((item) => item.node)); // newest drop first, in its order
    $("clear").hidden = false;
    queue.push(...items);
    updateSummary();
    if (!sending) pump();
  }

  function showPrediction(item, prediction) {
    const {node} = item;
    node.className = "result done";
    node.dataset.state = "done";
    node.dataset.class = prediction.class;
    const verdict = node.querySelector(".verdict");
    verdict.replaceChildren(el("span", {className: "class-name"}, prediction.class),
      el("span", {className: "confidence"}, ` ${percent(prediction.probability)}`));
    const rows = model.classes.map((name) => {
      const p = prediction.probabilities[name];
      const fill = el("span", {className: "fill"});
      fill.style.width = `${(100 * p).toFixed(2)}%`;
      return el("div", {
        className: name === prediction.class ? "bar top" : "bar",
        dataset: {class: name, probability: String(p)},
      }, el("span", {className: "label"}, name),
      el("span", {className: "track", role: "meter", "aria-valuemin": "0",
        "aria-valuemax": "1", "aria-valuenow": String(p), "aria-label": `P(${name})`}, fill),
      el("span", {className: "value"}, percent(p)));
    });
    node.querySelector(".bars").replaceChildren(...rows);
  }

  function showError(item, message) {
    const {node} = item;
    node.className = "result failed";
    node.dataset.state = "failed";
    node.querySelector(".verdict").replaceChildren(el("span", {className: "error"}, message));
    node.querySelector(".bars").replaceChildren();
  }

  function updateSummary() {
    const nodes = Array.from($("results").children);
    const counts = new Map();
    let pending = 0;
    let failed = 0;
    for (const node of nodes) {
      if (node.dataset.state === "pending") pending += 1;
      else if (node.dataset.state === "failed") failed += 1;
      else counts.set(node.dataset.class, (counts.get(node.dataset.class) || 0) + 1);
    }
    const parts = [...counts].map(([name, n]) => `${n} ${name}`);
    if (failed) parts.push(`${failed} unreadable`);
    if (pending) parts.push(`${pending} in progress`);
    $("summary").textContent = nodes.length
      ? `${nodes.length} photo${nodes.length === 1 ? "" : "s"}: ${parts.join(", ")}` : "";
  }

  // ------------------------------------------------------------------ talking to the API

  // Requests of at most max_upload_bytes and max_files each: the images of one request are
  // predicted as one batch.
  function batches(items) {
    const limit = model.max_upload_bytes;
    const out = [];
    let current = [];
    let size = 0;
    for (const item of items) {
      const bytes = item.file.size + PART_OVERHEAD;
      if (bytes > limit) {
        showError(item, `${megabytes(item.file.size)} is more than the server accepts ` +
          `(${megabytes(limit)})`);
        continue;
      }
      if (current.length && (size + bytes > limit || current.length >= model.max_files)) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(item);
      size += bytes;
    }
    if (current.length) out.push(current);
    return out;
  }

  async function pump() {
    sending = true;
    try {
      await modelReady;
      while (queue.length) {
        const items = queue.splice(0, queue.length);
        if (!model) {
          items.forEach((item) => showError(item, "the model card could not be loaded"));
          continue;
        }
        for (const batch of batches(items)) {
          try {
            await send(batch);
          } catch (error) {  // an answer the page cannot show: say so, and go on
            batch.forEach((item) => showError(item, `unexpected answer (${error})`));
          }
          updateSummary();
        }
      }
    } finally {
      sending = false;
      updateSummary();
    }
  }

  async function send(batch) {
    const form = new FormData();
    for (const item of batch) form.append("files", item.file, item.file.name);
    let response;
    let body = null;
    try {
      response = await fetch("/api/predict", {method: "POST", body: form});
      body = await response.json().catch(() => null);
    } catch (error) {
      batch.forEach((item) => showError(item, "the server did not answer (is mlpkit serve " +
        "still running?)"));
      return;
    }
    const predictions = body && body.predictions;
    if (response.ok && Array.isArray(predictions) && predictions.length === batch.length) {
      batch.forEach((item, i) => showPrediction(item, predictions[i]));
    } else if (response.status === 400 && body && Array.isArray(body.errors)) {
      // The server names the unreadable files: mark them, then classify the others.
      const bad = new Map(body.errors.map((e) => [e.index, e.detail]));
      const rest = batch.filter((item, i) => !bad.has(i));
      batch.forEach((item, i) => bad.has(i) && showError(item, bad.get(i)));
      if (rest.length === batch.length) {  // none of the errors matched: mark them all
        const detail = typeof body.detail === "string" ? body.detail : "unreadable image";
        rest.forEach((item) => showError(item, detail));
      } else if (rest.length) {
        await send(rest);
      }
    } else {
      const detail = body && typeof body.detail === "string" ? body.detail
        : `the server answered ${response.status} ${response.statusText}`;
      batch.forEach((item) => showError(item, detail));
    }
  }

  // ------------------------------------------------------------------ picking and dropping

  const input = $("file-input");
  const zone = $("drop-zone");
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // choosing the same file again is a new change
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, () => zone.classList.add("dragging"));
  }
  for (const type of ["dragleave", "dragend", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  // Photos dropped anywhere on the page (the zone included) are classified, and the browser
  // does not leave the page to show them.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles(event.dataTransfer && event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const pasted = event.clipboardData && event.clipboardData.files;
    if (pasted && pasted.length) addFiles(pasted);
  });
  $("clear").addEventListener("click", () => {
    for (const img of $("results").querySelectorAll("img.thumb")) URL.revokeObjectURL(img.src);
    $("results").replaceChildren();
    $("clear").hidden = true;
    updateSummary();
  });
})();
