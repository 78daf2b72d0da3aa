// GET / — the wine list (li.wine), the form (#name, #kind, #year, #add), the greeting (#greeting) and
// the version and color (#version). Rendered on the server; a small script adds wines through the API
// without a reload (the form also works without JavaScript: it posts to / and is redirected back).
import { KINDS, MAX_YEAR, MIN_YEAR, type Wine } from './wines.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One wine as the page lists it (the script builds the same markup). */
export function wineItem(wine: Wine): string {
  const label = wine.label ? ` <a class="label" href="${escapeHtml(wine.label)}">label</a>` : '';
  return `<li class="wine" data-id="${wine.id}"><span class="name">${escapeHtml(wine.name)}</span> <span class="kind">${escapeHtml(wine.kind)}</span> <span class="year">${wine.year}</span>${label}</li>`;
}

export interface PageModel {
  wines: Wine[];
  greeting: string;
  version: string;
  color: string;
  /** A message shown above the list (e.g. the database is not answering). */
  notice?: string;
}

const SCRIPT = `
const form = document.getElementById('add-form');
const list = document.getElementById('wines');
const notice = document.getElementById('notice');
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { name: form.elements.name.value, kind: form.elements.kind.value, year: Number(form.elements.year.value) };
  const response = await fetch('/api/wines', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status !== 201) { notice.textContent = answer.error || ('error ' + response.status); return; }
  notice.textContent = '';
  list.insertAdjacentHTML('beforeend', '<li class="wine" data-id="' + answer.id + '"><span class="name">' + esc(answer.name) + '</span> <span class="kind">' + esc(answer.kind) + '</span> <span class="year">' + answer.year + '</span></li>');
  form.reset();
});
setInterval(async () => {
  try {
    const config = await (await fetch('/api/config')).json();
    if (typeof config.greeting === 'string') document.getElementById('greeting').textContent = config.greeting;
  } catch {}
}, 5000);
`;

/** The whole page. */
export function renderPage(model: PageModel): string {
  const options = KINDS.map((kind) => `<option value="${escapeHtml(kind)}">${escapeHtml(kind)}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wine cellar</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}li.wine{margin:.2em 0}#notice{color:#a00}#version{color:#666;font-size:.8em}</style>
</head>
<body>
<h1 id="greeting">${escapeHtml(model.greeting)}</h1>
<p id="notice">${escapeHtml(model.notice ?? '')}</p>
<ul id="wines">
${model.wines.map(wineItem).join('\n')}
</ul>
<form id="add-form" method="post" action="/">
<label>Name <input id="name" name="name" required maxlength="200"></label>
<label>Kind <select id="kind" name="kind">${options}</select></label>
<label>Year <input id="year" name="year" type="number" min="${MIN_YEAR}" max="${MAX_YEAR}" required></label>
<button id="add" type="submit">Add</button>
</form>
<p id="version">wine-cellar ${escapeHtml(model.version)} (${escapeHtml(model.color)})</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
