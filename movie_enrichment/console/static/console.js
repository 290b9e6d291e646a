// The console's pages: forms post JSON to /api/, the run page polls /api/runs/{id} twice a second, the review
// page's identify box asks /api/identify.
"use strict";
const $ = (selector, root = document) => root.querySelector(selector);
const say = (text, bad) => { const m = $("#message"); m.textContent = text; m.className = bad ? "error" : ""; };

async function api(method, path, body) {
  const response = await fetch(path, {method, credentials: "same-origin",
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.status + " " + response.statusText);
  return data;
}

async function launch(options) {
  try {
    const run = await api("POST", "/api/runs", options);
    location.href = "/runs/" + run.id;
  } catch (error) { say(error.message, true); }
}

const seconds = s => s === null || s === undefined ? "-" : s < 90 ? Math.round(s) + " s" : Math.round(s / 60) + " min";

async function follow(id) {
  let run;
  try { run = await api("GET", "/api/runs/" + id); } catch (error) { say(error.message, true); return; }
  const p = run.progress || {};
  const ended = ["succeeded", "failed", "cancelled"].includes(run.state);
  const percent = run.state === "succeeded" ? 100 : Math.floor(p.percent || 0);
  $("#bar").style.width = percent + "%";
  $("#percent").textContent = percent + "%";
  $("#state").textContent = run.state;
  $("#state").className = "state " + run.state;
  $("#phase").textContent = p.phase || run.state;
  $("#done").textContent = p.movies_done ?? 0;
  $("#selected").textContent = p.movies_selected ?? 0;
  $("#rps").textContent = p.requests_per_second ?? 0;
  $("#throttled").textContent = p.throttled_429 ?? 0;
  $("#retries").textContent = p.retries ?? 0;
  $("#failed").textContent = p.movies_failed ?? 0;
  const images = p.images_downloaded !== undefined;  // --download_images, once it has handled an image
  document.querySelectorAll("#figures .images").forEach(e => { e.hidden = !images; });
  if (images) {
    $("#images-downloaded").textContent = p.images_downloaded;
    $("#images-skipped").textContent = p.images_skipped;
    $("#images-failed").textContent = p.images_failed;
    $("#images-bytes").textContent = (p.images_bytes / 1e6).toFixed(1) + " MB";
  }
  $("#elapsed").textContent = seconds(p.elapsed_seconds);
  $("#eta").textContent = ended ? "-" : seconds(p.eta_seconds);
  $("#error").textContent = run.error || "";
  if (run.report) $("#report").textContent = JSON.stringify(run.report, null, 2);
  $("#cancel").disabled = ended;
  if ($("#active-run").dataset.run === id) badge({id, state: run.state});
  if (!ended) setTimeout(() => follow(id), 500);
}

// The header's run badge and the database page's counts follow the runs: /api/database once a second.
const number = n => Number(n || 0).toLocaleString("en-US");

function badge(run) {
  const a = $("#active-run");
  if (!run) { a.hidden = true; return; }
  a.hidden = false;
  a.dataset.run = run.id;
  a.href = "/runs/" + run.id;
  a.textContent = "run " + run.id + " " + run.state;
}

async function watch() {
  let data;
  try { data = await api("GET", "/api/database"); } catch (error) { setTimeout(watch, 5000); return; }
  const shown = $("#active-run").dataset.run;
  if (data.active) badge(data.active);
  else if (shown) {  // the run shown has ended: its final state, from the history
    const last = (data.last_runs || []).find(r => r.id === shown);
    badge(last ? {id: shown, state: last.state} : null);
  }
  const queued = (data.queued || []).length;
  $("#queued").hidden = queued === 0;
  $("#queued").textContent = queued + " queued";
  if ($("#movies") && data.enrichers) {
    $("#movies").textContent = number(data.movies);
    $("#stale").hidden = !data.stale;
    $("#review-count").textContent = data.review;
    $("#failure-count").textContent = data.failures;
    for (const [name, by] of Object.entries(data.enrichers))
      document.querySelectorAll(`td[data-status^="${name}-"]`).forEach(
        td => { td.textContent = number(by[td.dataset.status.slice(name.length + 1)]); });
  }
  setTimeout(watch, data.active || data.stale ? 1000 : 3000);
}

async function pin(key, tmdbId) {
  try { await api("POST", "/api/pins", {key, tmdb_id: tmdbId}); location.reload(); } catch (e) { say(e.message, true); }
}

// The review page's identify box: the console server searches TMDB (with its key), the page shows what it found.
function el(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props || {});
  e.append(...children);
  return e;
}

function identified(key, r) {
  const poster = r.poster
    ? el("img", {src: r.poster, alt: "poster of " + r.title, width: 92, height: 138, loading: "lazy"})
    : el("div", {className: "noposter", textContent: "no poster"});
  const button = el("button", {type: "button", className: "pin-result", textContent: "Pin " + r.tmdb_id});
  button.dataset.id = r.tmdb_id;
  button.addEventListener("click", () => pin(key, String(r.tmdb_id)));
  const caption = el("figcaption", {}, el("b", {textContent: r.title}), " (" + (r.year ?? "?") + ")", el("br"));
  if (r.original_title) caption.append(el("span", {className: "original", textContent: r.original_title}), el("br"));
  caption.append(el("a", {className: "tmdb", href: r.tmdb_url, target: "_blank", rel: "noopener noreferrer",
                          textContent: "TMDB " + r.tmdb_id}), el("br"),
                 el("small", {className: "overview", textContent: r.overview || ""}), el("br"), button);
  return el("figure", {className: "candidate identified"}, poster, caption);
}

async function identify(form) {
  const box = form.closest("details.identify");
  const status = $(".identify-status", box), list = $(".identify-results", box);
  const params = new URLSearchParams({q: form.elements.q.value.trim()});
  if (form.elements.year.value.trim()) params.set("year", form.elements.year.value.trim());
  status.textContent = "searching...";
  status.classList.remove("error");
  list.replaceChildren();
  let data;
  try { data = await api("GET", "/api/identify?" + params); } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    return;
  }
  status.textContent = data.results.length ? data.results.length + " found on TMDB" : "nothing found on TMDB";
  list.append(...data.results.map(r => identified(form.dataset.key, r)));
}

document.addEventListener("DOMContentLoaded", () => {
  watch();
  const form = $("#launch-form");
  if (form) form.addEventListener("submit", event => {
    event.preventDefault();
    const data = new FormData(form);
    const options = {enrich: data.getAll("enrich").join(","), reprocess: data.get("reprocess")};
    for (const name of ["stale_after", "language", "certification_countries", "image_languages", "key_field"]) {
      const value = (data.get(name) || "").trim();
      if (value) options[name] = value;
    }
    const titles = (data.get("titles") || "").split("\n").map(t => t.trim()).filter(Boolean);
    if (titles.length) options.titles = titles;
    launch(options);
  });
  const figures = $("#figures");
  if (figures) {
    const id = figures.dataset.run;
    $("#cancel").addEventListener("click", async () => {
      try { await api("POST", "/api/runs/" + id + "/cancel"); say("cancelling..."); } catch (e) { say(e.message, true); }
    });
    follow(id);
  }
  document.querySelectorAll("button.pin").forEach(b => b.addEventListener("click", () => pin(b.dataset.key, b.dataset.id)));
  document.querySelectorAll("form.pin-typed").forEach(f => f.addEventListener("submit", event => {
    event.preventDefault();
    pin(f.dataset.key, f.elements.tmdb_id.value.trim());
  }));
  document.querySelectorAll("form.identify-form").forEach(f => f.addEventListener("submit", event => {
    event.preventDefault();
    identify(f);
  }));
  const runPins = $("#run-pins");
  if (runPins) runPins.addEventListener("click", () => launch({titles: JSON.parse(runPins.dataset.keys)}));
  const retryAll = $("#retry-all");
  if (retryAll) retryAll.addEventListener("click", () => launch({reprocess: "failed"}));
  document.querySelectorAll("button.retry").forEach(b => b.addEventListener("click",
    () => launch({reprocess: "failed", titles: [b.dataset.key]})));
});
