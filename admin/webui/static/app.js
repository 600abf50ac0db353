// Switchboard admin UI: small progressive enhancements. Every page works
// without this script; with it, lists filter as you type, filter forms
// submit on change, destructive buttons ask first, durations tick, and the
// dashboard and phones pages update live from Server-Sent Events.
"use strict";

(function () {
  // Lists: typing in [data-filter] hides rows of the table it names that do
  // not contain the text; a row [data-filter-empty] shows when none match.
  function setupFilters() {
    document.querySelectorAll("input[data-filter]").forEach(function (input) {
      input.addEventListener("input", function () { applyFilter(input); });
    });
  }

  // applyFilter finds its table when it runs: the quick contacts list is
  // loaded after the page.
  function applyFilter(input) {
    var table = document.getElementById(input.dataset.filter);
    if (!table) return;
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    table.querySelectorAll("tbody tr[data-row]").forEach(function (tr) {
      var hit = q === "" || tr.textContent.toLowerCase().indexOf(q) >= 0;
      tr.hidden = !hit;
      if (hit) shown++;
    });
    var empty = document.querySelector("[data-filter-empty='" + table.id + "']");
    if (empty) empty.hidden = shown > 0;
    var count = document.querySelector("[data-filter-count='" + table.id + "']");
    if (count) count.textContent = String(shown);
  }

  // Filter forms: checkboxes and selects submit the form when changed.
  function setupAutoSubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.querySelectorAll("input[type=checkbox], select").forEach(function (el) {
        el.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
      });
    });
  }

  // Destructive forms ask for confirmation with their data-confirm text.
  function setupConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
  }

  // Rule steps: show the "To" and "Ring for" fields only for actions that
  // use them, and the If-no-answer step only after a step that can go
  // unanswered.
  function setupRuleSteps() {
    var selects = document.querySelectorAll("select[data-step-action]");
    function apply() {
      var follows = true;
      selects.forEach(function (sel) {
        var opt = sel.options[sel.selectedIndex];
        var step = sel.closest("fieldset.step");
        if (!opt || !step) return;
        if (step.dataset.step === "next") step.hidden = !follows;
        var target = step.querySelector("[data-needs=target]");
        var ring = step.querySelector("[data-needs=ring]");
        if (target) {
          target.hidden = !opt.hasAttribute("data-target");
          var input = target.querySelector("input");
          if (input && opt.dataset.target) input.placeholder = opt.dataset.target;
        }
        if (ring) ring.hidden = !opt.hasAttribute("data-ring");
        if (step.dataset.step === "first") follows = opt.hasAttribute("data-follows");
      });
    }
    selects.forEach(function (sel) { sel.addEventListener("change", apply); });
    apply();
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  // formatDuration: 75 → "1:15", 3725 → "1:02:05".
  function formatDuration(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  // Elements with data-since (Unix milliseconds) show the time since then.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = formatDuration((now - Number(el.dataset.since)) / 1000);
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // Dashboard: counts and live calls from the "dashboard" event; the graph
  // is fetched again when a call has ended.
  function setupDashboard() {
    var root = document.getElementById("dashboard");
    if (!root || !window.EventSource) return;
    var src = new EventSource(root.dataset.events);
    src.addEventListener("dashboard", function (ev) {
      var d = JSON.parse(ev.data);
      ["active_calls", "users", "registered_devices", "devices"].forEach(function (k) {
        var n = root.querySelector("[data-count='" + k + "']");
        if (n && d[k] !== undefined) n.textContent = String(d[k]);
      });
      renderCalls(root, d.calls || []);
      if (d.graph_changed) refreshGraph(root);
      tick();
    });
    src.onerror = function () { root.dataset.live = "reconnecting"; };
    src.onopen = function () { root.dataset.live = "on"; };
  }

  function renderCalls(root, calls) {
    var body = root.querySelector("#live-calls tbody");
    var empty = root.querySelector("#live-empty");
    if (!body) return;
    body.textContent = "";
    calls.forEach(function (c) {
      var tr = el("tr");
      tr.dataset.row = "";
      var who = el("td", null, "");
      who.dataset.label = "Call";
      who.appendChild(el("span", c.from));
      who.appendChild(document.createTextNode(" ↔ "));
      who.appendChild(el("span", c.answered_by ? c.answered_by : c.to));
      if (c.answered_by && c.answered_by !== c.to) who.appendChild(el("span", "dialled " + c.to, "sub"));
      var state = el("td");
      state.dataset.label = "State";
      state.appendChild(el("span", c.state === "talking" ? "talking" : "ringing", "badge " + (c.state === "talking" ? "ok" : "live")));
      var dur = el("td", "", "num");
      dur.dataset.label = "Duration";
      dur.dataset.since = String(c.since_ms);
      tr.appendChild(who);
      tr.appendChild(state);
      tr.appendChild(dur);
      body.appendChild(tr);
    });
    var wrap = root.querySelector("#live-wrap");
    if (wrap) wrap.hidden = calls.length === 0;
    if (empty) empty.hidden = calls.length > 0;
  }

  function refreshGraph(root) {
    var box = root.querySelector("#graph");
    if (!box) return;
    fetch(box.dataset.src, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html !== null) box.innerHTML = html;
    }).catch(function () {});
  }

  // Phones: the table is fetched again whenever one of the user's phones
  // registers, unregisters or expires.
  function setupPhones() {
    var box = document.getElementById("phones-live");
    if (!box || !window.EventSource) return;
    var src = new EventSource(box.dataset.events);
    src.addEventListener("devices", function () {
      fetch(box.dataset.src, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html !== null) box.innerHTML = html;
      }).catch(function () {});
    });
  }

  // Messages: playing a new one marks it heard through the API; the row and
  // the counts follow.
  function setupMessages() {
    var box = document.getElementById("messages");
    if (!box) return;
    box.querySelectorAll("audio[data-mark-read]").forEach(function (audio) {
      audio.addEventListener("play", function () {
        var tr = audio.closest("tr");
        if (!tr || !tr.classList.contains("unread")) return;
        tr.classList.remove("unread");
        fetch(audio.dataset.markRead, {
          method: "PATCH", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
          body: JSON.stringify({ read: true })
        }).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (d) {
          if (!d) { tr.classList.add("unread"); return; }
          var badge = tr.querySelector("[data-new]");
          if (badge) badge.remove();
          tr.querySelectorAll("form[data-when]").forEach(function (f) { f.hidden = f.dataset.when !== "heard"; });
          var n = document.querySelector("[data-count='new']");
          var heard = document.querySelector("[data-count='heard']");
          if (n) n.textContent = String(d["new"]);
          if (heard) heard.textContent = String(Number(heard.textContent) + 1);
        }).catch(function () { tr.classList.add("unread"); });
      });
    });
  }

  // Contact statuses: every [data-status-ext] element shows its
  // extension's status from the "contacts" event.
  var statusLabels = { offline: "✗ offline", online: "✓ online", on_call: "on a call", ringing: "ringing" };

  function showStatuses(statuses) {
    document.querySelectorAll("[data-status-ext]").forEach(function (e) {
      var s = statuses[e.dataset.statusExt];
      if (!s || !statusLabels[s]) return;
      e.className = "status " + s;
      e.textContent = statusLabels[s];
    });
  }

  function listenStatuses(url) {
    if (!window.EventSource) return null;
    var src = new EventSource(url);
    src.addEventListener("contacts", function (ev) { showStatuses(JSON.parse(ev.data).statuses || {}); });
    return src;
  }

  function setupContacts() {
    var box = document.getElementById("contacts-live");
    if (box) listenStatuses(box.dataset.events);
  }

  // The quick contacts pop-up of the header: loaded when opened, searchable,
  // live while open. Without the script the header link opens Contacts.
  function setupQuick() {
    var open = document.getElementById("quick-contacts");
    var dlg = document.getElementById("quick");
    if (!open || !dlg || !dlg.showModal) return;
    var body = document.getElementById("quick-body");
    var q = document.getElementById("quick-q");
    var src = null;
    open.addEventListener("click", function (ev) {
      ev.preventDefault();
      q.value = "";
      dlg.showModal();
      q.focus();
      fetch(dlg.dataset.src, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html === null) return;
        body.innerHTML = html;
        applyFilter(q);
        if (!src && !document.getElementById("contacts-live")) src = listenStatuses(dlg.dataset.events);
      }).catch(function () {});
    });
    dlg.querySelector("[data-close]").addEventListener("click", function () { dlg.close(); });
    dlg.addEventListener("click", function (ev) { if (ev.target === dlg) dlg.close(); }); // a click outside
    dlg.addEventListener("close", function () {
      if (src) { src.close(); src = null; }
    });
  }

  // File inputs with data-max-mb refuse a file that is too large before it
  // is sent (the server refuses it too).
  function setupUploads() {
    document.querySelectorAll("input[type=file][data-max-mb]").forEach(function (input) {
      var mb = Number(input.dataset.maxMb);
      function check() {
        var f = input.files && input.files[0];
        var msg = f && f.size > mb * 1024 * 1024 ? "The file is too large: it can be at most " + mb + " MB." : "";
        showFieldError(input, msg);
        return msg === "";
      }
      input.addEventListener("change", check);
      if (input.form) input.form.addEventListener("submit", function (ev) { if (!check()) ev.preventDefault(); });
    });
  }

  function showFieldError(input, msg) {
    var field = input.closest(".field");
    if (!field) return;
    var p = field.querySelector(".field-error[data-client]");
    if (!p) {
      p = el("p", "", "field-error");
      p.dataset.client = "";
      p.setAttribute("role", "alert");
      field.appendChild(p);
    }
    p.textContent = msg;
    p.hidden = msg === "";
    if (msg) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupFilters();
    setupAutoSubmit();
    setupConfirm();
    setupRuleSteps();
    setupDashboard();
    setupPhones();
    setupMessages();
    setupContacts();
    setupQuick();
    setupUploads();
    tick();
    if (document.querySelector("[data-since]") || document.getElementById("dashboard")) {
      setInterval(tick, 1000);
    }
  });
})();
