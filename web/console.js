// The Orca web console: plain JavaScript over the node's HTTP API (SPEC §7).
// One page serves three paths; the path says what to draw:
//   /               node status, flows, journeys (filters in the query)
//   /flows/{name}   one flow: its picture, versions, draft and actions
//   /orders/{id}    one order's journeys: steps, fulfillment, timeline
// Live updates come from GET /v1/stream, read with fetch so that the token
// goes in a header. Every text from the node is put in the page as text,
// never as markup.
//
// This file has what every page uses: building blocks, the API, tokens, the
// stream, and the start. flows.js, journeys.js and node.js draw the parts of
// the pages; they are loaded before the page starts.
'use strict';

const ROLES = ['reader', 'submitter', 'operator', 'admin'];
const STATES = ['received', 'running', 'waiting', 'paused', 'completed',
                'failed', 'cancelled', 'skipped'];
const PAGE = 50; // journeys a page

const session = {
  token: sessionStorage.getItem('orca.token') || '',
  caller: null, // {role, name, tokens}
};

// -- the page's building blocks ----------------------------------------------

/** Appends children to `e`: nodes, text, and arrays of them; null,
 *  undefined and false are left out. */
function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Replaces the children of `e`. */
function fill(e, ...children) {
  e.replaceChildren();
  return append(e, children);
}

/** An element with attributes and children (strings become text). */
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  return append(e, children);
}

function time(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function badge(state) {
  return h('span', {class: 'badge state-' + state}, state);
}

/** A table in a box that scrolls sideways on narrow screens. */
/** Names each cell of a row after its column, for the narrow layout
 *  (console.css shows a row as a card there, each value under its name). */
function labelled(tr, headers) {
  [...tr.children].forEach((cell, i) => {
    if (headers[i]) cell.setAttribute('data-label', headers[i]);
  });
  return tr;
}

function table(caption, headers, rows, attrs) {
  for (const tr of rows.flat()) labelled(tr, headers);
  return h('div', {class: 'table-box'},
    h('table', attrs || {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map(t => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, rows)));
}

function flowLink(name) {
  return h('a', {href: '/flows/' + encodeURIComponent(name)}, name);
}

function orderLink(id) {
  return h('a', {href: '/orders/' + encodeURIComponent(id)}, id);
}

function notify(text, isError) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.className = isError ? 'notice error' : 'notice';
  n.hidden = false;
}

function may(role) {
  return session.caller !== null && session.caller.role !== null &&
    ROLES.indexOf(session.caller.role) >= ROLES.indexOf(role);
}

// -- the API ----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(extra) {
  const out = Object.assign({}, extra);
  if (session.token) out.Authorization = 'Bearer ' + session.token;
  return out;
}

async function api(method, path, body) {
  const init = {method, headers: headers()};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const type = r.headers.get('Content-Type') || '';
  const data = type.startsWith('application/json') ? await r.json()
    : await r.text();
  if (!r.ok) {
    const message = data && data.error ? data.error : r.status + ' ' + r.statusText;
    if (r.status === 401) askForToken(message);
    throw new ApiError(r.status, message);
  }
  return data;
}

/** Runs an action a button asked for, says what happened and redraws
 *  with `after`. The button is disabled meanwhile (no second click), and
 *  the keyboard's focus goes to the button in the same place of the same
 *  group after the redraw (Pause becomes Resume), or to the notice. */
async function act(label, work, after, event) {
  const button = event && event.currentTarget;
  const group = button && button.closest('[data-for]');
  const key = group && group.dataset.for;
  const place = group ? [...group.querySelectorAll('button')].indexOf(button) : 0;
  if (button) button.disabled = true;
  try {
    await work();
    notify(label + ': done');
  } catch (e) {
    notify(label + ': ' + e.message, true);
  }
  try {
    if (after) await after();
  } catch (e) {
    notify(label + ': the page could not be redrawn: ' + e.message, true);
  }
  if (button) button.disabled = false;
  if (button && !button.isConnected) {
    const again = key === undefined ? null : [...document.querySelectorAll('[data-for]')]
      .find(g => g.dataset.for === key);
    const buttons = again ? [...again.querySelectorAll('button')] : [];
    const target = buttons[Math.min(place, buttons.length - 1)] || document.getElementById('notice');
    target.focus();
  }
}

// -- tokens -----------------------------------------------------------------

async function whoAmI() {
  session.caller = await api('GET', '/v1/token');
  const who = document.getElementById('who');
  fill(who);
  if (!session.caller.tokens) return true;
  if (session.caller.role === null) return false;
  who.append(h('span', {}, (session.caller.name || 'token') + ' · ' +
                            session.caller.role + ' '),
    h('button', {type: 'button', class: 'quiet', onclick: forgetToken},
      'Forget token'));
  return true;
}

function forgetToken() {
  sessionStorage.removeItem('orca.token');
  session.token = '';
  location.reload();
}

function askForToken(message) {
  const dialog = document.getElementById('token-dialog');
  const error = document.getElementById('token-error');
  error.hidden = !message || !session.token;
  error.textContent = message || '';
  if (!dialog.open) dialog.showModal();
  document.getElementById('token-input').focus();
}

function tokenEntered(event) {
  event.preventDefault();
  const input = document.getElementById('token-input');
  session.token = input.value.trim();
  sessionStorage.setItem('orca.token', session.token);
  input.value = '';
  document.getElementById('token-dialog').close();
  start();
}

// -- the live stream ----------------------------------------------------------

// What the page drawn listens to; cleared when the page is drawn again.
const listeners = [];
const timers = [];

function onJourney(f) {
  listeners.push(f);
}

function every(ms, f) {
  timers.push(setInterval(f, ms));
}

function setLive(on) {
  const live = document.getElementById('live');
  live.textContent = on ? 'live' : 'offline';
  live.classList.toggle('on', on);
}

// The stream is ended when the page is left: a browser may keep a left page
// (and its connections) for the back button, and it allows only a few
// connections to one node.
let streamAbort = null;
window.addEventListener('pagehide', () => {
  if (streamAbort) streamAbort.abort();
});

/** Follows the stream; `connected` draws the page anew each time the
 *  stream (re)connects, so that nothing that changed while it was down is
 *  missed. */
async function follow(connected) {
  let drawn = false;
  for (;;) {
    try {
      streamAbort = new AbortController();
      const r = await fetch('/v1/stream', {
        headers: headers({Accept: 'text/event-stream'}),
        signal: streamAbort.signal,
      });
      if (!r.ok) throw new ApiError(r.status, 'stream refused');
      setLive(true);
      await connected();
      drawn = true;
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        text += decoder.decode(value, {stream: true});
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          dispatch(text.slice(0, end));
          text = text.slice(end + 2);
        }
      }
    } catch (e) {
      // Reconnect below: the node restarted, or the network went away.
      // A page not drawn yet is drawn without live updates meanwhile.
      if (!drawn) {
        await connected();
        drawn = true;
      }
    }
    setLive(false);
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

function dispatch(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (event !== 'journey' || data.length === 0) return;
  const record = JSON.parse(data.join('\n'));
  for (const f of listeners) {
    try {
      f(record);
    } catch (e) {
      notify('A live update failed: ' + e.message, true);
    }
  }
}

// -- the root page -----------------------------------------------------------

async function showHome() {
  const main = document.getElementById('main');
  document.title = 'Orca';
  const {flows} = await api('GET', '/v1/flows');
  const [node, flowList, journeys] = await Promise.all(
    [nodeSection(), flowsSection(), journeysSection(flows)]);
  fill(main, h('h1', {class: 'hidden'}, 'Orca node'), flowList, journeys, node);
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView();
  }
}

// -- start ------------------------------------------------------------------

async function route() {
  const main = document.getElementById('main');
  listeners.length = 0;
  timers.splice(0).forEach(clearInterval);
  try {
    const path = location.pathname;
    let m;
    if (path === '/') await showHome();
    else if ((m = path.match(/^\/flows\/([^/]+)$/))) await showFlow(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/orders\/([^/]+)$/))) await showOrder(decodeURIComponent(m[1]));
    else fill(main, h('h1', {}, 'Not found'), h('p', {}, h('a', {href: '/'}, 'Back to the node')));
  } catch (e) {
    fill(main, h('h1', {}, 'Something went wrong'), h('p', {class: 'error'}, e.message));
  }
}

let following = false;

async function start() {
  try {
    if (!(await whoAmI())) {
      askForToken(session.token ? 'unknown token' : '');
      return;
    }
  } catch (e) {
    fill(document.getElementById('main'), h('h1', {}, 'The node does not answer'),
      h('p', {class: 'error'}, e.message));
    return;
  }
  if (following) {
    await route();
  } else {
    following = true;
    follow(route);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token-form').addEventListener('submit', tokenEntered);
  // Escape does not close the question: without a token there is no page.
  document.getElementById('token-dialog').addEventListener('cancel', e => e.preventDefault());
  start();
});
