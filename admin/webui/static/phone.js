// The webphone: SIP over WebSocket (SIP.js, vendored) registering as the
// user's webphone device, with the switch terminating the audio (WebRTC,
// G.711). Used by the Webphone page and the Attendant Console; both share
// the markup of the "webphone" template. One call at a time.
import { Web } from "./vendor/sipjs/index.js";

const $ = (id) => document.getElementById(id);

const phone = {
  cfg: null,
  sm: null, // SIP.js SessionManager
  session: null, // the current call, or null
  incoming: null, // a call ringing here, or null
  dialing: false, // a call is being placed (phone.session not set yet)
  answeredAt: 0,
  timer: 0,
  held: false,
  muted: false,
  analyser: null,
  audioCtx: null,
};

// For people and tests: what the page hears now (peak frequency in Hz, 0
// when silent), and the state of the phone.
window.switchboardPhone = {
  state: () => ({
    registered: $("wp-status")?.dataset.state === "registered",
    call: phone.session ? $("wp-state").textContent : "",
    incoming: !!phone.incoming,
  }),
  peakFrequency,
};

if ($("webphone")) start();

async function start() {
  let res;
  try {
    res = await fetch("/api/me/webphone", { credentials: "same-origin" });
  } catch (e) {
    return status("Cannot reach the switch: " + e.message, "bad");
  }
  const cfg = await res.json();
  if (!res.ok) return status(cfg.error || "The webphone is not available.", "bad");
  phone.cfg = cfg;
  document.querySelectorAll("[data-wp-device]").forEach((el) => (el.textContent = cfg.device));
  phone.sm = new Web.SessionManager(cfg.server, {
    aor: cfg.aor,
    media: { constraints: { audio: true, video: false }, remote: { audio: $("wp-audio") } },
    // Keys go in the audio as RFC 4733 events, as desk phones send them.
    sendDTMFUsingSessionDescriptionHandler: true,
    registrationRetry: true,
    registrationRetryInterval: 5,
    reconnectionAttempts: 1000,
    reconnectionDelay: 5,
    maxSimultaneousSessions: 2,
    userAgentOptions: {
      authorizationUsername: cfg.device,
      authorizationHa1: cfg.ha1,
      displayName: cfg.display_name,
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: {
        // The switch is on the LAN: host candidates only, no STUN server.
        peerConnectionConfiguration: { iceServers: [] },
        iceGatheringTimeout: 1000,
      },
    },
    delegate: {
      onServerConnect: () => status("Connected, registering…", "off"),
      onServerDisconnect: disconnected,
      onRegistered: () => status("Ready · registered as " + cfg.device, "on", "registered"),
      onUnregistered: () => status("Not registered", "off"),
      onCallReceived: onIncoming,
      onCallAnswered: onAnswered,
      onCallHangup: onHangup,
      onCallHold: (s, held) => {
        phone.held = held;
        render();
      },
    },
  });
  bindControls();
  try {
    await phone.sm.connect();
    await phone.sm.register();
  } catch (e) {
    status("Cannot register: " + e.message, "bad");
  }
}

// disconnected: the switch went away (SIP.js reconnects by itself), or the
// web session ended, and then reconnecting cannot work: say so and stop.
async function disconnected() {
  status("Disconnected from the switch; trying again…", "bad");
  try {
    const res = await fetch("/api/me", { credentials: "same-origin" });
    if (res.status === 401) {
      await phone.sm.disconnect().catch(() => {});
      status("You are logged out: log in again to use the webphone.", "bad", "logged-out");
    }
  } catch (e) {
    // the box is unreachable: SIP.js keeps trying
  }
}

function status(text, kind, state) {
  const el = $("wp-status");
  el.textContent = text;
  el.className = "status " + kind;
  el.dataset.state = state || "";
  $("wp-call").disabled = state !== "registered";
}

function target(number) {
  const host = new URL(phone.cfg.server).hostname;
  return "sip:" + encodeURIComponent(number) + "@" + host;
}

// call dials a number or extension (also used by contact lists).
export async function call(number) {
  number = dialable(number);
  // dialing: a second click while the first INVITE is on its way would
  // start a second call, and the first could no longer be hung up.
  if (!number || phone.session || phone.dialing || !phone.sm) return;
  phone.dialing = true;
  unlockAudio();
  try {
    phone.session = await phone.sm.call(target(number));
    phone.peer = number;
    phone.answeredAt = 0;
    render("Calling…");
  } catch (e) {
    phone.session = null;
    status("Call failed: " + e.message, "bad", "registered");
  } finally {
    phone.dialing = false;
  }
}

// dialable keeps what a phone number is made of: digits, * and # (feature
// codes) and a leading +; anything else typed or pasted is dropped.
function dialable(s) {
  s = String(s || "").trim();
  return (s.startsWith("+") ? "+" : "") + s.replace(/[^0-9*#]/g, "");
}
window.switchboardPhone.dialable = dialable;
window.switchboardPhone.call = call;

export async function transfer(number) {
  number = dialable(number);
  if (!phone.session || !number) return;
  try {
    await phone.sm.transfer(phone.session, target(number));
    render("Transferring to " + number + "…");
  } catch (e) {
    render("Transfer failed: " + e.message);
  }
}
window.switchboardPhone.transfer = transfer;

function onIncoming(session) {
  if (phone.session || phone.incoming || phone.dialing) {
    phone.sm.decline(session).catch(() => {});
    return;
  }
  phone.incoming = session;
  const who = session.remoteIdentity;
  // SIP.js keeps a quoted name's escapes (\" for "); show the name itself.
  const name = (who.displayName || "").replace(/\\(.)/g, "$1");
  $("wp-caller").textContent = (name ? name + " · " : "") + who.uri.user;
  const dlg = $("wp-incoming");
  if (!dlg.open) dlg.showModal();
}

function onAnswered(session) {
  if (session !== phone.session) return;
  phone.answeredAt = Date.now();
  listen(session);
  render();
}

function onHangup(session) {
  if (session === phone.incoming) {
    phone.incoming = null;
    $("wp-incoming").close();
  }
  if (session !== phone.session) return;
  phone.session = null;
  phone.held = phone.muted = false;
  phone.analyser = null;
  clearInterval(phone.timer);
  phone.timer = 0;
  $("wp-active").hidden = true;
  loadRecent();
}

async function answer() {
  const s = phone.incoming;
  if (!s) return;
  unlockAudio();
  phone.incoming = null;
  $("wp-incoming").close();
  phone.session = s;
  phone.peer = $("wp-caller").textContent;
  render("Connecting…");
  try {
    await phone.sm.answer(s);
  } catch (e) {
    phone.session = null;
    $("wp-active").hidden = true;
    status("Could not answer: " + e.message, "bad", "registered");
  }
}

function render(note) {
  const s = phone.session;
  $("wp-active").hidden = !s;
  if (!s) return;
  $("wp-peer").textContent = phone.peer;
  let state = note || (phone.answeredAt ? (phone.held ? "On hold" : "Talking") : "Ringing…");
  $("wp-state").textContent = state;
  $("wp-hold").textContent = phone.held ? "Resume" : "Hold";
  $("wp-mute").textContent = phone.muted ? "Unmute" : "Mute";
  $("wp-mute").setAttribute("aria-pressed", phone.muted);
  $("wp-hold").setAttribute("aria-pressed", phone.held);
  if (phone.answeredAt && !phone.timer) phone.timer = setInterval(tick, 500);
  tick();
}

function tick() {
  const secs = phone.answeredAt ? Math.floor((Date.now() - phone.answeredAt) / 1000) : 0;
  $("wp-timer").textContent = Math.floor(secs / 60) + ":" + String(secs % 60).padStart(2, "0");
  if (phone.analyser) $("wp-level").value = level();
}

function bindControls() {
  const number = $("wp-number");
  $("wp-call").addEventListener("click", () => call(number.value));
  for (const field of [number, $("wp-transfer-to")]) {
    field.addEventListener("input", () => {
      const clean = dialable(field.value);
      if (field.value !== clean) field.value = clean;
    });
  }
  number.addEventListener("keydown", (e) => {
    if (e.key === "Enter") call(number.value);
  });
  $("wp-keypad").addEventListener("click", (e) => {
    const key = e.target.closest("[data-key]")?.dataset.key;
    if (!key) return;
    if (phone.session && phone.answeredAt) {
      phone.sm.sendDTMF(phone.session, key).catch(() => {});
    } else {
      number.value += key;
    }
  });
  $("wp-hangup").addEventListener("click", () => phone.session && phone.sm.hangup(phone.session).catch(() => {}));
  $("wp-mute").addEventListener("click", () => {
    if (!phone.session) return;
    phone.muted = !phone.muted;
    phone.muted ? phone.sm.mute(phone.session) : phone.sm.unmute(phone.session);
    render();
  });
  $("wp-hold").addEventListener("click", async () => {
    if (!phone.session || !phone.answeredAt || phone.holding) return;
    phone.holding = true; // one re-INVITE at a time: a double click would collide
    try {
      phone.held ? await phone.sm.unhold(phone.session) : await phone.sm.hold(phone.session);
    } catch (e) {
      render("Hold failed: " + e.message);
    } finally {
      phone.holding = false;
    }
  });
  $("wp-transfer").addEventListener("click", () => transfer($("wp-transfer-to").value.trim()));
  $("wp-answer").addEventListener("click", answer);
  $("wp-decline").addEventListener("click", () => {
    const s = phone.incoming;
    phone.incoming = null;
    $("wp-incoming").close();
    if (s) phone.sm.decline(s).catch(() => {});
  });
  for (const id of ["wp-contacts", "wp-recent", "console-grid"]) {
    $(id)?.addEventListener("click", (e) => {
      const ext = e.target.closest("[data-ext]")?.dataset.ext;
      if (!ext) return;
      phone.session && phone.answeredAt && id === "console-grid" ? transfer(ext) : call(ext);
    });
  }
  loadContacts();
  loadRecent();
}

// Audio: browsers start audio only after a click; the call and answer
// buttons are clicks.
function unlockAudio() {
  if (!phone.audioCtx) phone.audioCtx = new AudioContext();
  phone.audioCtx.resume();
  $("wp-audio").play().catch(() => {});
}

function listen(session) {
  const stream = phone.sm.getRemoteMediaStream(session);
  if (!stream || !phone.audioCtx) return;
  const src = phone.audioCtx.createMediaStreamSource(stream);
  const analyser = phone.audioCtx.createAnalyser();
  analyser.fftSize = 4096;
  src.connect(analyser);
  phone.analyser = analyser;
}

function level() {
  const buf = new Float32Array(phone.analyser.fftSize);
  phone.analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const v of buf) sum += v * v;
  return Math.min(1, Math.sqrt(sum / buf.length) * 4);
}

function peakFrequency() {
  const a = phone.analyser;
  if (!a) return 0;
  const bins = new Float32Array(a.frequencyBinCount);
  a.getFloatFrequencyData(bins);
  const hz = a.context.sampleRate / a.fftSize;
  let best = -1;
  for (let i = Math.ceil(100 / hz); i < Math.min(bins.length, 4000 / hz); i++) {
    if (best < 0 || bins[i] > bins[best]) best = i;
  }
  return best < 0 || bins[best] < -70 ? 0 : best * hz;
}

// Lists: contacts (and the console's extensions) and recent calls.
const statusText = { offline: "offline", online: "available", on_call: "on a call", ringing: "ringing" };

async function loadContacts() {
  const list = $("wp-contacts");
  const grid = $("console-grid");
  if (!list && !grid) return;
  const res = await fetch("/api/me/contacts", { credentials: "same-origin" });
  if (!res.ok) return;
  const people = (await res.json()).filter((c) => !c.self);
  if (list) fill(list, people.filter((c) => c.favourite).concat(people.filter((c) => !c.favourite)).slice(0, 30), contactItem);
  if (grid) {
    fill(grid, people, tile);
    const q = $("console-q");
    q?.addEventListener("input", () => filterGrid(q.value));
  }
  watchStatuses();
}

function contactItem(c) {
  const li = el("li");
  const b = el("button", "link call-link", c.name + " · " + c.ext);
  b.type = "button";
  b.dataset.ext = c.ext;
  b.title = "Call " + c.name;
  const s = el("span", "status-dot " + c.status, statusText[c.status] || c.status);
  s.dataset.statusOf = c.ext;
  li.append(b, " ", s);
  return li;
}

function tile(c) {
  const li = el("li", "console-tile " + c.status);
  li.dataset.statusOf = c.ext;
  li.dataset.search = (c.name + " " + c.ext + " " + (c.department || "")).toLowerCase();
  const b = el("button", "", "");
  b.type = "button";
  b.dataset.ext = c.ext;
  b.append(el("strong", "", c.name), el("span", "mono", c.ext), el("span", "tile-status", statusText[c.status] || c.status));
  b.title = "Call " + c.name + ", or transfer the current call there";
  li.append(b);
  return li;
}

function filterGrid(q) {
  q = q.trim().toLowerCase();
  document.querySelectorAll("#console-grid [data-search]").forEach((t) => (t.hidden = q && !t.dataset.search.includes(q)));
}

// Live statuses: the contacts event stream sends every extension's status.
function watchStatuses() {
  const es = new EventSource("/api/me/contacts/events");
  es.addEventListener("contacts", (e) => {
    const statuses = JSON.parse(e.data).statuses || {};
    for (const [ext, s] of Object.entries(statuses)) {
      document.querySelectorAll('[data-status-of="' + CSS.escape(ext) + '"]').forEach((node) => {
        if (node.classList.contains("console-tile")) {
          node.className = "console-tile " + s;
          node.querySelector(".tile-status").textContent = statusText[s] || s;
        } else {
          node.className = "status-dot " + s;
          node.textContent = statusText[s] || s;
        }
      });
    }
  });
}

async function loadRecent() {
  const list = $("wp-recent");
  if (!list) return;
  const res = await fetch("/api/me/calls?per_page=10", { credentials: "same-origin" });
  if (!res.ok) return;
  const calls = (await res.json()).calls || [];
  const me = phone.cfg?.ext;
  fill(list, calls, (c) => {
    const other = c.from === me ? c.to : c.from;
    const li = el("li");
    const b = el("button", "link call-link", (c.from === me ? "→ " : "← ") + (c.from === me ? other : c.from_name || other));
    b.type = "button";
    b.dataset.ext = other;
    b.title = "Call " + other;
    li.append(b, " ", el("span", "muted", new Date(c.start).toLocaleString() + " · " + c.disposition));
    return li;
  });
}

function fill(list, items, make) {
  list.replaceChildren(...(items.length ? items.map(make) : [el("li", "muted", "None yet.")]));
}

function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text) n.textContent = text;
  return n;
}
