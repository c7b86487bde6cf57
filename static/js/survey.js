/* surveyapp survey page: progress, answers kept on the phone if the connection drops, sent once
   when it returns (same idempotency key, so never twice), and the kiosk's idle reset.
   The page works without this file. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) return;
  var msgs = document.getElementById("survey-messages").dataset;
  var persist = form.dataset.persist === "true";
  var action = form.getAttribute("action");
  var draftKey = "survey-draft:" + action;
  var queueKey = "survey-queue";
  var note = document.getElementById("offline-note");
  var progress = document.getElementById("progress");

  function store(key, value) {
    try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, JSON.stringify(value)); }
    catch (e) { /* private mode or full: the page still works */ }
  }
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function updateProgress() {
    var required = form.querySelectorAll("fieldset.q");
    var total = 0, done = 0;
    required.forEach(function (fs) {
      if (!fs.querySelector("input[required]")) return;
      total += 1;
      if (fs.querySelector("input:checked")) done += 1;
    });
    if (!total) return;
    progress.hidden = false;
    progress.textContent = msgs.progress.replace("{a}", done).replace("{b}", total);
  }

  function saveDraft() {
    if (!persist) return;
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "idempotency_key" && name !== "website") fields.push([name, value]);
    });
    store(draftKey, { at: Date.now(), fields: fields });
  }

  function restoreDraft() {
    var draft = load(draftKey);
    if (!persist || !draft || Date.now() - draft.at > 6 * 3600 * 1000) return;
    if (form.querySelector("input:checked") || document.getElementById("error-summary")) return;
    draft.fields.forEach(function (pair) {
      var input = form.querySelector('[name="' + pair[0] + '"][value="' + pair[1] + '"]');
      if (input && input.type === "radio") input.checked = true;
      else {
        var field = form.elements.namedItem(pair[0]);
        if (field && field.tagName) field.value = pair[1];
      }
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Survey-Fetch": "1" }
    });
  }

  function done(thanks) {
    store(draftKey, null);
    // A kiosk keeps one history entry: Back never returns to a previous citizen's page.
    if (persist) window.location.assign(thanks); else window.location.replace(thanks);
  }

  function sendQueued() {
    var queue = load(queueKey) || [];
    if (!queue.length || !navigator.onLine) return;
    var item = queue[0];
    post(item.url, item.body).then(function (res) {
      if (res.status === 400) {
        // The session's CSRF secret changed: take the fresh token from the re-shown form, retry.
        return res.text().then(function (html) {
          var m = html.match(/name="csrf_token" type="hidden" value="([^"]+)"/);
          if (m && !item.retried) {
            item.body = item.body.replace(/csrf_token=[^&]*/, "csrf_token=" + encodeURIComponent(m[1]));
            item.retried = true;
            store(queueKey, queue);
          } else { queue.shift(); store(queueKey, queue); }
        });
      }
      queue.shift();
      store(queueKey, queue);
      var type = res.headers.get("Content-Type") || "";
      if (res.ok && type.indexOf("application/json") === 0 && item.url === action) {
        // Sent from this page: show its thank-you page and receipt, as an online send does.
        return res.json().then(function (data) { done(data.redirect); });
      }
      if (res.ok && queue.length) sendQueued();
    }).catch(function () { /* still offline: try again later */ });
  }

  form.addEventListener("change", function () { updateProgress(); saveDraft(); });
  form.addEventListener("input", saveDraft);

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.URLSearchParams) return;
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form)).toString();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = msgs.sending;
    post(action, body).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (res.ok && type.indexOf("application/json") === 0) {
        return res.json().then(function (data) { done(data.redirect); });
      }
      form.submit(); // the server shows what to fix (nothing was stored)
    }).catch(function () {
      // No connection: keep the answers (same key: stored once) and send when it returns.
      var queue = load(queueKey) || [];
      queue.push({ url: action, body: body, at: Date.now() });
      store(queueKey, queue);
      note.hidden = false;
      note.textContent = msgs.saved;
      button.disabled = false;
      if (!persist) window.setTimeout(resetKiosk, 4000);
    });
  });

  function resetKiosk() { window.location.replace(form.dataset.reset); }

  if (form.dataset.idle) {
    var idle = parseInt(form.dataset.idle, 10) * 1000, timer = null;
    var touched = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(resetKiosk, idle);
    };
    ["change", "input", "touchstart", "keydown", "scroll"].forEach(function (name) {
      document.addEventListener(name, touched, { passive: true });
    });
    touched();
  }
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !persist) window.location.reload(); // never show the previous answers
  });
  window.addEventListener("online", sendQueued);
  window.setInterval(sendQueued, 20000);
  restoreDraft();
  updateProgress();
  sendQueued();
})();
