"use strict";
// The sandbox page: draws one persona's chat and streams changes from the emulator.
const chat = document.getElementById("chat");
const select = document.getElementById("persona");
const input = document.getElementById("text");
const menu = document.getElementById("menu");
const toast = document.getElementById("toast");
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
  // The emulator sends HTML it has already parsed and rebuilt from Telegram's tag set.
  bubble.innerHTML = (message.kind !== "text" ? (message.kind === "photo" ? "🖼 " : "📄 ") : "") + message.html;
  bubble.querySelectorAll(".spoiler").forEach(s => s.addEventListener("click", () => s.classList.add("open")));
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
}

function remove(message) {
  const row = document.getElementById("m" + message.id);
  if (!row) return;
  row.classList.add("deleting");
  setTimeout(() => row.remove(), 320);
}

let toastTimer = null;
function show(text) {
  toast.textContent = String(text);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 2600);
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
    item.addEventListener("click", () => { menu.hidden = true; sendText("/" + c.command); });
    menu.appendChild(item);
  }
}

async function load() {
  const state = await api("/api/chat?persona=" + encodeURIComponent(persona));
  document.getElementById("bot-name").textContent = state.bot;
  commands = state.commands;
  drawMenu();
  chat.replaceChildren();
  state.messages.forEach(draw);
  if (source) source.close();
  source = new EventSource("/api/events?persona=" + encodeURIComponent(persona));
  source.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (event.type === "message" || event.type === "edit") draw(event.message);
    else if (event.type === "delete") remove(event.message);
    else if (event.type === "answer" && event.text) (event.alert ? alertBox : show)(event.text);
    else if (event.type === "commands") api("/api/chat?persona=" + encodeURIComponent(persona)).then(s => { commands = s.commands; drawMenu(); });
  };
}

async function sendText(text) {
  if (!text.trim()) return;
  await api("/api/send", {persona, text}).catch(show);
}

document.getElementById("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  input.value = "";
  sendText(text);
});
document.getElementById("menu-button").addEventListener("click", () => { menu.hidden = !menu.hidden; });
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
