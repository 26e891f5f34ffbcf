"use strict";
// The sandbox page: draws one persona's chat and streams changes from the emulator.
const chat = document.getElementById("chat");
const intro = document.getElementById("intro");
const select = document.getElementById("persona");
const composer = document.getElementById("composer");
const input = document.getElementById("text");
const preview = document.getElementById("preview");
const fileInput = document.getElementById("file");
const startBar = document.getElementById("start-bar");
const startButton = document.getElementById("start");
const menu = document.getElementById("menu");
const menuButton = document.getElementById("menu-button");
const toast = document.getElementById("toast");
const MAX_UPLOAD = 10 * 1024 * 1024;  // page.py's MAX_UPLOAD
const MAX_CAPTION = 1024;
let persona = localStorage.getItem("umid-persona") || "supporter-en";
let source = null;
let commands = [];

async function api(path, body) {
  const response = await fetch(path, body ? {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  } : {});
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

function time(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function fileUrl(fileId) {
  return "/api/file?persona=" + encodeURIComponent(persona) + "&file_id=" + encodeURIComponent(fileId);
}

function size(bytes) {
  if (bytes === undefined) return "";
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function media(message) {
  const box = document.createElement("div");
  if (message.photo) {
    const photo = message.photo;
    if (photo.available) {
      const img = document.createElement("img");
      img.className = "photo";
      img.src = fileUrl(photo.file_id);
      img.alt = "Photo";
      img.width = photo.width;
      img.height = photo.height;
      img.draggable = !message.protect;
      box.appendChild(img);
    } else {
      box.className = "placeholder";
      box.textContent = "🖼 Photo";
    }
  }
  if (message.document) {
    const doc = message.document;
    const name = doc.file_name || "File";
    const link = document.createElement(doc.available ? "a" : "div");
    link.className = "document";
    if (doc.available) {
      link.href = fileUrl(doc.file_id);
      link.target = "_blank";
      link.rel = "noopener";
      link.setAttribute("aria-label", "Open " + name + (doc.file_size ? ", " + size(doc.file_size) : ""));
    }
    const icon = document.createElement("span");
    icon.className = "doc-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "📄";
    const label = document.createElement("span");
    label.className = "doc-label";
    const title = document.createElement("b");
    title.textContent = name;
    const detail = document.createElement("small");
    detail.textContent = size(doc.file_size) || doc.mime_type || "";
    label.append(title, detail);
    link.append(icon, label);
    box.appendChild(link);
  }
  return box;
}

function draw(message) {
  let row = document.getElementById("m" + message.id);
  const fresh = !row;
  if (fresh) {
    row = document.createElement("div");
    row.id = "m" + message.id;
  }
  row.className = "row " + (message.from_bot ? "in" : "out") + (message.protect ? " protected" : "");
  row.replaceChildren();
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (message.photo || message.document) bubble.appendChild(media(message));
  const text = document.createElement("div");
  text.className = "text";
  // The emulator sends HTML it has already parsed and rebuilt from Telegram's tag set.
  text.innerHTML = message.html;
  text.querySelectorAll(".spoiler").forEach(s => s.addEventListener("click", () => s.classList.add("open")));
  if (message.html) bubble.appendChild(text);
  row.appendChild(bubble);
  if (message.keyboard && message.keyboard.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    for (const buttons of message.keyboard) {
      const keys = document.createElement("div");
      keys.className = "keys";
      for (const b of buttons) {
        if (b.url) {
          const a = document.createElement("a");
          a.href = b.url; a.target = "_blank"; a.rel = "noopener"; a.textContent = b.text;
          keys.appendChild(a);
          continue;
        }
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.text;
        button.addEventListener("click", () => api("/api/press", {persona, message_id: message.id, data: b.callback_data}).catch(show));
        keys.appendChild(button);
      }
      keyboard.appendChild(keys);
    }
    row.appendChild(keyboard);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (message.edited ? "edited · " : "") + time(message.date) + (message.protect ? " · 🔒" : "");
  row.appendChild(meta);
  if (fresh) {
    chat.appendChild(row);
  }
  chat.scrollTop = chat.scrollHeight;
  updateEmpty();
}

function remove(message) {
  const row = document.getElementById("m" + message.id);
  if (!row) return;
  row.classList.add("deleting");
  setTimeout(() => { row.remove(); updateEmpty(); }, 320);
}

// An empty chat shows the bot's description and a START button instead of the
// composer, as Telegram does before the first message.
function updateEmpty() {
  const empty = !chat.querySelector(".row:not(.deleting)");
  const starting = document.activeElement === startButton;
  intro.hidden = !empty;
  startBar.hidden = !empty;
  composer.hidden = empty;
  if (empty) menu.hidden = true;
  if (!empty && starting) input.focus();
}

let toastTimer = null;
function show(text, ms) {
  toast.textContent = String(text instanceof Error ? text.message : text);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, ms || 4000);
}

function alertBox(text) {
  document.getElementById("alert-text").textContent = text;
  document.getElementById("alert").showModal();
}

function drawMenu() {
  menu.replaceChildren();
  for (const c of commands) {
    const item = document.createElement("button");
    item.type = "button";
    const name = document.createElement("b");
    name.textContent = "/" + c.command;
    const desc = document.createElement("span");
    desc.textContent = c.description;
    item.append(name, desc);
    item.addEventListener("click", () => { toggleMenu(false); sendText("/" + c.command); });
    menu.appendChild(item);
  }
}

function toggleMenu(open) {
  menu.hidden = !open;
  menuButton.setAttribute("aria-expanded", String(open));
}

// The selector names the language the bot now speaks to each persona, which the
// emulator reads from the chat's command menu (page.py, spoken_language).
async function refreshLabels() {
  const list = await api("/api/personas");
  for (const p of list) {
    const option = [...select.options].find(o => o.value === p.key);
    if (option) option.textContent = p.label;
  }
}

// The stream is opened first and its events held until the chat is drawn: a message the
// bot sent between fetching the chat and opening the stream used to appear only on
// reload. draw() replaces a message by its id, so an event the fetched chat already
// holds is drawn twice to the same place.
async function load() {
  if (source) source.close();
  const stream = new EventSource("/api/events?persona=" + encodeURIComponent(persona));
  source = stream;
  let held = [];
  const apply = (event) => {
    if (event.type === "message" || event.type === "edit") draw(event.message);
    else if (event.type === "delete") remove(event.message);
    else if (event.type === "answer" && event.text) (event.alert ? alertBox : show)(event.text);
    else if (event.type === "commands") {
      api("/api/chat?persona=" + encodeURIComponent(persona)).then(s => { commands = s.commands; drawMenu(); });
      refreshLabels().catch(show);
    }
  };
  stream.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (held) held.push(event); else apply(event);
  };
  await new Promise((resolve) => {
    stream.addEventListener("open", resolve, {once: true});
    stream.addEventListener("error", resolve, {once: true});
  });
  if (source !== stream) return;  // another persona was chosen meanwhile
  const state = await api("/api/chat?persona=" + encodeURIComponent(persona));
  if (source !== stream) return;
  document.getElementById("bot-name").textContent = state.bot;
  // Telegram asks "What can this bot do?" only when the bot has a description to answer.
  document.getElementById("intro-title").hidden = !state.description;
  document.getElementById("description").textContent = state.description || "No messages here yet.";
  commands = state.commands;
  drawMenu();
  chat.replaceChildren(intro);
  state.messages.forEach(draw);
  updateEmpty();
  const waiting = held;
  held = null;
  waiting.forEach(apply);
  updateEmpty();
}

// Telegram Desktop's own shorthand: **bold** and __italic__ are sent as entities and
// the marks dropped. Ctrl+B and Ctrl+I put the marks around the selection, and the
// preview shows what will arrive. Offsets are in UTF-16 code units, as the Bot API
// counts them, which is what a JavaScript string's indices already are.
function parseFormatting(source) {
  const marks = [];
  const pattern = /\*\*|__/g;
  let found;
  while ((found = pattern.exec(source))) marks.push({at: found.index, mark: found[0]});
  const pairs = [];
  const open = {};
  for (const m of marks) {
    const opener = open[m.mark];
    if (!opener) { open[m.mark] = m; continue; }
    open[m.mark] = null;
    if (m.at > opener.at + 2) pairs.push([opener, m]);
  }
  // Telegram lets entities nest but not half overlap: such a pair stays as typed.
  const kept = [];
  for (const [a, b] of pairs.sort((x, y) => x[0].at - y[0].at)) {
    const crosses = kept.some(([c, d]) => (a.at < c.at && c.at < b.at && b.at < d.at)
      || (c.at < a.at && a.at < d.at && d.at < b.at));
    if (!crosses) kept.push([a, b]);
  }
  const used = new Set(kept.flat());
  const where = new Map();
  let text = "";
  let last = 0;
  for (const m of marks) {
    if (!used.has(m)) continue;
    text += source.slice(last, m.at);
    where.set(m, text.length);
    last = m.at + 2;
  }
  text += source.slice(last);
  const entities = kept
    .map(([a, b]) => ({type: a.mark === "**" ? "bold" : "italic", offset: where.get(a), length: where.get(b) - where.get(a)}))
    .filter(e => e.length > 0)
    .sort((x, y) => x.offset - y.offset || y.length - x.length);
  return {text, entities};
}

function formatted(text, entities) {
  const root = document.createDocumentFragment();
  const stack = [{node: root, end: Infinity}];
  let next = 0;
  let run = "";
  const flush = () => { if (run) { stack[stack.length - 1].node.append(run); run = ""; } };
  for (let at = 0; at <= text.length; at++) {
    while (stack.length > 1 && stack[stack.length - 1].end === at) { flush(); stack.pop(); }
    while (next < entities.length && entities[next].offset === at) {
      flush();
      const entity = entities[next++];
      const node = document.createElement(entity.type === "bold" ? "b" : "i");
      stack[stack.length - 1].node.append(node);
      stack.push({node, end: at + entity.length});
    }
    if (at < text.length) run += text[at];
  }
  flush();
  return root;
}

function composed() {
  return parseFormatting(input.value.trim());
}

function refreshComposer() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 168) + "px";
  const {text, entities} = composed();
  preview.hidden = entities.length === 0;
  preview.replaceChildren(...(entities.length ? [formatted(text, entities)] : []));
}

function wrapSelection(mark) {
  const start = input.selectionStart;
  const end = input.selectionEnd;
  const before = input.value.slice(0, start);
  const inside = input.value.slice(start, end);
  const after = input.value.slice(end);
  if (before.endsWith(mark) && after.startsWith(mark)) {
    input.value = before.slice(0, -mark.length) + inside + after.slice(mark.length);
    input.setSelectionRange(start - mark.length, end - mark.length);
  } else {
    input.value = before + mark + inside + mark + after;
    input.setSelectionRange(start + mark.length, end + mark.length);
  }
  refreshComposer();
}

async function sendText(text, entities) {
  if (!text.trim()) return;
  await api("/api/send", {persona, text, entities: entities || []}).catch(show);
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// A picture goes as a photo, anything else as a document (the emulator decides, as
// Telegram does); the composer's text goes with it as the caption.
async function attach(file) {
  if (file.size > MAX_UPLOAD) {
    show("“" + file.name + "” is " + size(file.size) + ": files of up to 10 MB can be sent here.", 6000);
    return;
  }
  const {text, entities} = composed();
  if (text.length > MAX_CAPTION) {
    show("A caption has at most " + MAX_CAPTION + " characters; this one has " + text.length + ".", 6000);
    return;
  }
  const data = await readAsBase64(file);
  const kept = input.value;
  input.value = "";
  refreshComposer();
  try {
    await api("/api/send", {persona, text, entities, file: {name: file.name, type: file.type, data}});
  } catch (error) {
    input.value = kept;
    refreshComposer();
    show(error, 6000);
  }
}

composer.addEventListener("submit", async (e) => {
  e.preventDefault();
  const kept = input.value;
  const {text, entities} = composed();
  if (!text.trim()) return;
  input.value = "";
  refreshComposer();
  try {
    await api("/api/send", {persona, text, entities});
  } catch (error) {
    input.value = kept;  // nothing typed is lost to a refusal
    refreshComposer();
    show(error, 6000);
  }
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    composer.requestSubmit();
  } else if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
    const key = e.key.toLowerCase();
    if (key === "b" || key === "i") {
      e.preventDefault();
      wrapSelection(key === "b" ? "**" : "__");
    }
  }
});
input.addEventListener("input", refreshComposer);
document.getElementById("attach").addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  fileInput.value = "";
  if (file) attach(file).catch(show);
});
startButton.addEventListener("click", () => sendText("/start"));
menuButton.addEventListener("click", () => toggleMenu(menu.hidden));
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !menu.hidden) { toggleMenu(false); menuButton.focus(); }
});
select.addEventListener("change", () => {
  persona = select.value;
  localStorage.setItem("umid-persona", persona);
  load().catch(show);
});

api("/api/personas").then((list) => {
  for (const p of list) {
    const option = document.createElement("option");
    option.value = p.key;
    option.textContent = p.label;
    select.appendChild(option);
  }
  if (!list.some(p => p.key === persona)) persona = list[0].key;
  select.value = persona;
  return load();
}).catch(show);
