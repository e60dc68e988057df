// The Orca web console: plain JavaScript over the node's HTTP API (SPEC §7).
// One page serves three paths; the path says what to draw:
//   /               node status, flows, journeys (filters in the query)
//   /flows/{name}   one flow: its picture, versions, draft and actions
//   /orders/{id}    one order's journeys: steps, fulfillment, timeline
// Live updates come from GET /v1/stream, read with fetch so that the token
// goes in a header. Every text from the node is put in the page as text,
// never as markup.
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

// -- flows ------------------------------------------------------------------

/** The lifecycle buttons a flow has now, for this token's role. */
function flowActions(f, after) {
  const name = f.name;
  const path = '/v1/flows/' + encodeURIComponent(name);
  const button = (label, op, role) => may(role) ? h('button', {
    type: 'button',
    'aria-label': label + ' ' + name,
    onclick: event => {
      if (op === 'stop' && !confirm('Stop ' + name + '? It takes no new orders until it is published again.')) return;
      act(label + ' ' + name, () => api('POST', path + '/' + op), after, event);
    },
  }, label) : null;
  const published = f.status === 'Published';
  const hasDraft = (f.draft_version || 0) > (f.latest_version || 0);
  return h('div', {class: 'actions', 'data-for': 'flow:' + name},
    !published || hasDraft ? button('Publish', 'publish', 'admin') : null,
    published ? button('Stop', 'stop', 'admin') : null,
    published && !f.paused ? button('Pause', 'pause', 'operator') : null,
    f.paused ? button('Resume', 'resume', 'operator') : null);
}

function flowRow(f, after) {
  if (f.damaged) {
    return h('tr', {}, h('td', {}, f.name),
      h('td', {colspan: 6, class: 'error'}, 'damaged: ' + f.damaged));
  }
  return h('tr', {'data-flow': f.name},
    h('th', {scope: 'row'}, flowLink(f.name)),
    h('td', {}, f.type),
    h('td', {}, h('span', {class: 'badge flow-' + f.status}, f.status)),
    h('td', {class: 'num'}, f.latest_version || '–'),
    h('td', {}, f.paused ? h('span', {class: 'badge state-paused'}, 'paused') : 'no'),
    h('td', {}, time(f.created_on)),
    h('td', {}, flowActions(f, after)));
}

async function flowsSection() {
  const section = h('section', {id: 'flows', 'aria-labelledby': 'flows-title'},
    h('h2', {id: 'flows-title'}, 'Flows'));
  const draw = async () => {
    const {flows} = await api('GET', '/v1/flows');
    const rows = flows.map(f => flowRow(f, draw));
    const body = flows.length === 0
      ? h('p', {}, 'No flows yet: create one with ',
          h('code', {}, 'POST /v1/flows'), ' or ', h('code', {}, 'orcactl flow create'), '.')
      : table(null, ['Name', 'Type', 'Status', 'Version', 'Paused', 'Created on', 'Actions'],
              rows, {id: 'flow-table'});
    fill(section, section.firstChild, body);
  };
  await draw();
  every(10000, () => draw().catch(() => {}));
  return section;
}

async function showFlow(name) {
  const query = new URLSearchParams(location.search);
  const version = query.get('version');
  const path = '/v1/flows/' + encodeURIComponent(name);
  const main = document.getElementById('main');
  document.title = name + ' · Orca';

  const draw = async () => {
    const {flows} = await api('GET', '/v1/flows');
    const record = flows.find(f => f.name === name);
    if (!record) throw new ApiError(404, 'no flow ' + JSON.stringify(name));
    const detail = await api('GET', path + (version ? '?version=' + encodeURIComponent(version) : ''));
    const shown = detail.version === 0
      ? 'draft of version ' + record.draft_version
      : 'version ' + detail.version;
    const versions = detail.versions.map(v => h('tr', {},
      h('th', {scope: 'row'}, h('a', {href: '/flows/' + encodeURIComponent(name) + '?version=' + v}, 'version ' + v)),
      h('td', {class: 'num'}, detail.held[String(v)] || 0),
      h('td', {}, h('a', {href: '/?flow=' + encodeURIComponent(name)}, 'journeys'))));
    fill(main, 
      h('p', {class: 'crumbs'}, h('a', {href: '/'}, 'Node'), ' › flow'),
      h('h1', {}, name),
      h('p', {}, detail.description || ''),
      h('dl', {class: 'facts'},
        h('dt', {}, 'Status'), h('dd', {}, h('span', {class: 'badge flow-' + record.status}, record.status),
                                 record.paused ? h('span', {class: 'badge state-paused'}, 'paused') : null),
        h('dt', {}, 'Type'), h('dd', {}, detail.type),
        h('dt', {}, 'Latest version'), h('dd', {}, record.latest_version || 'none published'),
        h('dt', {}, 'Created on'), h('dd', {}, time(record.created_on)),
        h('dt', {}, 'Shown'), h('dd', {}, shown)),
      flowActions(record, draw),
      h('section', {'aria-labelledby': 'picture-title'},
        h('h2', {id: 'picture-title'}, 'Picture'),
        h('figure', {id: 'flow-picture', class: 'picture'}, h('p', {}, 'Drawing…'))),
      h('section', {'aria-labelledby': 'versions-title'},
        h('h2', {id: 'versions-title'}, 'Versions'),
        detail.versions.length === 0 ? h('p', {}, 'Not published yet.')
          : table(null, ['Version', 'Journeys held', ''], versions)),
      h('section', {'aria-labelledby': 'definition-title'},
        h('h2', {id: 'definition-title'}, 'Definition (' + shown + ')'),
        h('details', {}, h('summary', {}, 'Show the JSON'),
          h('pre', {}, JSON.stringify(detail.definition, null, 2)))));
    drawPicture(path, version);
  };
  await draw();
}

async function drawPicture(path, version) {
  const figure = document.getElementById('flow-picture');
  try {
    const svg = await api('GET', path + '/diagram?format=svg' +
                          (version ? '&version=' + encodeURIComponent(version) : ''));
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    const picture = document.importNode(doc.documentElement, true);
    if (picture.nodeName !== 'svg') throw new Error('the picture is not SVG');
    // Graphviz escapes every label; still, nothing active is let in.
    for (const e of [picture, ...picture.querySelectorAll('*')]) {
      if (e.localName === 'script' || e.localName === 'foreignObject') {
        e.remove();
        continue;
      }
      for (const a of [...e.attributes])
        if (a.name.startsWith('on') || a.localName === 'href') e.removeAttribute(a.name);
    }
    // Drawn at its own size, smaller only to fit a laptop's width: on a
    // phone the figure scrolls rather than shrink the labels out of sight.
    const width = parseFloat(picture.getAttribute('width') || '0') * 4 / 3;
    picture.removeAttribute('width');
    picture.removeAttribute('height');
    if (width > 0) {
      picture.style.maxWidth = width + 'px';
      picture.style.minWidth = Math.min(width, 640) + 'px';
    }
    picture.setAttribute('role', 'img');
    picture.setAttribute('aria-label', 'the flow as a graph of its steps');
    fill(figure, picture);
  } catch (e) {
    fill(figure, h('p', {class: 'error'}, 'No picture: ' + e.message));
  }
}

// -- journeys ---------------------------------------------------------------

const JOURNEY_COLUMNS = ['Order', 'Flow', 'Version', 'State', 'Steps', 'Invoice', 'Updated'];

function journeyRow(r) {
  return labelled(h('tr', {'data-journey': r.order_id + '\u0000' + r.flow},
    h('th', {scope: 'row'}, orderLink(r.order_id)),
    h('td', {}, flowLink(r.flow)),
    h('td', {class: 'num'}, r.version),
    h('td', {}, badge(r.state)),
    h('td', {class: 'num'}, r.steps.length),
    h('td', {}, r.invoice_id || ''),
    h('td', {}, time(r.updated_on))), JOURNEY_COLUMNS);
}

async function journeysSection(flows) {
  const query = new URLSearchParams(location.search);
  const filter = {
    flow: query.get('flow') || '',
    state: query.get('state') || '',
    order: query.get('order') || '',
    after: query.get('after') || '',
  };
  const form = h('form', {class: 'filters', method: 'get', action: '/', role: 'search'},
    h('label', {}, 'Flow ',
      h('select', {name: 'flow'}, h('option', {value: ''}, 'any'),
        flows.map(f => h('option', {value: f.name, selected: f.name === filter.flow}, f.name)))),
    h('label', {}, 'State ',
      h('select', {name: 'state'}, h('option', {value: ''}, 'any'),
        STATES.map(s => h('option', {value: s, selected: s === filter.state}, s)))),
    h('label', {}, 'Order id ', h('input', {name: 'order', value: filter.order, size: 14})),
    h('button', {type: 'submit'}, 'Show'));
  let records;
  let next = null;
  if (filter.order) {
    try {
      const path = '/v1/orders/' + encodeURIComponent(filter.order) + '/journeys' +
        (filter.flow ? '?flow=' + encodeURIComponent(filter.flow) : '');
      records = (await api('GET', path)).journeys;
    } catch (e) {
      if (e.status !== 404) throw e;
      records = [];
    }
    if (filter.state) records = records.filter(r => r.state === filter.state);
  } else {
    const params = new URLSearchParams({limit: String(PAGE)});
    for (const k of ['flow', 'state', 'after']) if (filter[k]) params.set(k, filter[k]);
    const page = await api('GET', '/v1/journeys?' + params);
    records = page.journeys;
    next = page.next;
  }
  const rows = h('tbody', {});
  rows.append(...records.map(journeyRow));
  const box = table(null, JOURNEY_COLUMNS, [],
                    {id: 'journey-table'});
  box.querySelector('table').replaceChild(rows, box.querySelector('tbody'));
  const paging = h('p', {class: 'paging'});
  if (filter.after) {
    const first = new URLSearchParams(query);
    first.delete('after');
    paging.append(h('a', {href: '/?' + first + '#journeys'}, 'First page'), ' ');
  }
  if (next) {
    const more = new URLSearchParams(query);
    more.set('after', next);
    paging.append(h('a', {href: '/?' + more + '#journeys', rel: 'next'}, 'Next page'));
  }
  const empty = h('p', {class: 'empty', hidden: records.length > 0}, 'No journeys match.');

  // A journey the stream reports replaces its row, or joins the first page.
  onJourney(r => {
    if (filter.flow && r.flow !== filter.flow) return;
    if (filter.order && r.order_id !== filter.order) return;
    const key = r.order_id + '\u0000' + r.flow;
    const old = [...rows.children].find(tr => tr.dataset.journey === key);
    if (filter.state && r.state !== filter.state) {
      if (old) old.remove();
      return;
    }
    const row = journeyRow(r);
    if (old) old.replaceWith(row);
    else if (!filter.after) rows.prepend(row);
    else return;
    while (rows.children.length > PAGE) rows.lastElementChild.remove();
    row.classList.add('fresh');
    empty.hidden = true;
  });

  return h('section', {id: 'journeys', 'aria-labelledby': 'journeys-title'},
    h('h2', {id: 'journeys-title'}, 'Journeys'), form, empty, box, paging);
}

// -- the node ---------------------------------------------------------------

/** Sums of Prometheus samples by one label, e.g. orders by status. */
function samples(text, metric, label) {
  const out = {};
  const pattern = new RegExp('^' + metric + '\\{([^}]*)\\} (\\S+)$');
  for (const line of text.split('\n')) {
    const m = line.match(pattern);
    if (!m) continue;
    const l = m[1].match(new RegExp(label + '="([^"]*)"'));
    if (!l) continue;
    out[l[1]] = (out[l[1]] || 0) + Number(m[2]);
  }
  return out;
}

async function nodeSection() {
  const section = h('section', {id: 'node', 'aria-labelledby': 'node-title'});
  const draw = async () => {
    const [s, metrics, providers, hooks] = await Promise.all([
      api('GET', '/v1/node'), api('GET', '/metrics'),
      api('GET', '/v1/providers'), api('GET', '/v1/hooks')]);
    const orders = samples(metrics, 'orca_orders_total', 'status');
    const ended = samples(metrics, 'orca_journeys_ended_total', 'state');
    const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    fill(section, 
      h('h2', {id: 'node-title'}, 'Node'),
      h('div', {class: 'cards'},
        h('dl', {class: 'facts card', id: 'node-status'},
          fact('Listening', s.listen), fact('Up since', time(s.started_on)),
          fact('Flows', s.flows + ' (' + s.published + ' published, ' + s.paused + ' paused)'),
          fact('Journeys in memory', s.running_journeys),
          fact('Journeys waiting in the store', s.passivated_journeys),
          fact('Orders in flight', s.orders_in_flight),
          fact('Commits', s.commits),
          fact('Store', Math.round(s.map_size / 1048576) + ' MiB of ' +
                        Math.round(s.max_map_size / 1048576) + ' MiB' +
                        (s.storage_full ? ' — FULL' : ''))),
        h('dl', {class: 'facts card', id: 'node-metrics'},
          fact('Orders accepted', orders.accepted || 0),
          fact('Duplicates', orders.duplicate || 0),
          fact('Rejected', orders.rejected || 0),
          ['completed', 'failed', 'cancelled'].map(
            st => fact('Journeys ' + st, ended[st] || 0)))),
      table('Providers', ['Id', 'Kind', 'Connected'], providers.providers.map(p =>
        h('tr', {}, h('th', {scope: 'row'}, p.id), h('td', {}, p.kind),
          h('td', {}, p.connected ? 'yes' : 'no')))),
      hooks.hooks.length === 0 ? null
        : table('Hooks', ['Name', 'URL', 'Backlog', 'Delivered', 'Failed attempts', 'Last error'],
          hooks.hooks.map(k => h('tr', {}, h('th', {scope: 'row'}, k.name), h('td', {}, k.url),
            h('td', {class: 'num'}, k.backlog), h('td', {class: 'num'}, k.delivered),
            h('td', {class: 'num'}, k.failed_attempts), h('td', {}, k.last_error || '')))));
  };
  await draw();
  // The figures change with every journey: redrawn at most every two
  // seconds while the stream reports changes, and every ten otherwise.
  let pending = false;
  const later = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; draw().catch(() => {}); }, 2000);
  };
  onJourney(later);
  every(10000, later);
  return section;
}

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

// -- one order --------------------------------------------------------------

function stepsTable(steps) {
  return table('Steps', ['Step', 'Kind', 'Path', 'Outcome', 'Attempts', 'Error'],
    steps.map(s => h('tr', {class: 'outcome-' + s.outcome},
      h('th', {scope: 'row'}, s.name),
      h('td', {}, s.action || s.element),
      h('td', {}, s.path),
      h('td', {}, h('span', {class: 'badge outcome-' + s.outcome}, s.outcome)),
      h('td', {class: 'num'}, s.attempts),
      h('td', {class: 'error'}, s.error || ''))));
}

function timelineList(entries) {
  return h('ol', {class: 'timeline'}, entries.map(t => h('li', {},
    h('time', {}, time(t.at).replace(' UTC', '') + '.' + String(t.at % 1000).padStart(3, '0')),
    ' ', h('span', {class: 'kind'}, t.kind), ' ',
    t.step ? h('strong', {}, t.step) : null, t.step ? ' ' : null,
    h('span', {}, t.detail))));
}

/** What a replay answered, drawn under the journey it replayed. */
function replayView(v) {
  return [
    h('h4', {}, 'Replay of version ' + v.recorded_version + ' against version ' + v.version),
    h('p', {}, 'recorded ', badge(v.recorded_state), ', replayed ', badge(v.replayed_state),
      v.diverges ? ' — diverges: ' + v.divergence : ' — the same'),
    timelineList(v.timeline)];
}

/** One journey. `replays` keeps the last replay of each flow's journey,
 *  so that it stays on the page when the page is redrawn. */
function journeyArticle(r, reload, replays) {
  const base = '/v1/orders/' + encodeURIComponent(r.order_id) + '/journeys/' +
    encodeURIComponent(r.flow);
  const label = r.flow + ' of ' + r.order_id;
  const replayOut = h('div', {class: 'replay', 'aria-live': 'polite'},
    replays.has(r.flow) ? replayView(replays.get(r.flow)) : null);
  const replay = may('operator') ? h('button', {
    type: 'button', 'aria-label': 'Replay ' + label,
    onclick: event => act('Replay ' + label, async () => {
      replays.set(r.flow, await api('POST', base + '/replay'));
    }, reload, event),
  }, 'Replay') : null;
  const redrive = may('operator') && r.state === 'failed' ? h('button', {
    type: 'button', 'aria-label': 'Redrive ' + label,
    onclick: event => act('Redrive ' + label, () => api('POST', base + '/redrive'), reload, event),
  }, 'Redrive') : null;
  const fulfillment = r.fulfillment_orders.length === 0 ? h('p', {}, 'No fulfillment orders.')
    : table('Fulfillment orders', ['Id', 'Source', 'Lines', 'Sent'],
      r.fulfillment_orders.map(f => h('tr', {}, h('th', {scope: 'row'}, f.id),
        h('td', {}, f.source), h('td', {}, f.lines.join(', ')), h('td', {}, f.sent ? 'yes' : 'no'))));
  return h('article', {class: 'journey', 'data-flow': r.flow},
    h('h2', {}, flowLink(r.flow), ' ', h('span', {class: 'muted'}, 'version ' + r.version), ' ',
      badge(r.state)),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Invoice'), h('dd', {class: 'invoice'}, r.invoice_id || 'none yet'),
      h('dt', {}, 'Started'), h('dd', {}, time(r.created_on)),
      h('dt', {}, 'Updated'), h('dd', {}, time(r.updated_on))),
    h('div', {class: 'actions', 'data-for': 'journey:' + r.flow}, replay, redrive),
    stepsTable(r.steps), fulfillment,
    h('h3', {}, 'Timeline'), timelineList(r.timeline || []), replayOut);
}

async function showOrder(id) {
  const main = document.getElementById('main');
  const replays = new Map();
  document.title = id + ' · Orca';
  const draw = async () => {
    let journeys;
    try {
      journeys = (await api('GET', '/v1/orders/' + encodeURIComponent(id) + '/journeys')).journeys;
    } catch (e) {
      if (e.status !== 404) throw e;
      journeys = [];
    }
    fill(main, 
      h('p', {class: 'crumbs'}, h('a', {href: '/'}, 'Node'), ' › order'),
      h('h1', {}, 'Order ', id),
      journeys.length === 0 ? h('p', {}, 'The node has no journey for this order.') : null,
      journeys.map(r => journeyArticle(r, draw, replays)));
  };
  await draw();
  // The stream's records have no timeline: the order is read again.
  let pending = false;
  onJourney(r => {
    if (r.order_id !== id || pending) return;
    pending = true;
    setTimeout(() => { pending = false; draw().catch(() => {}); }, 200);
  });
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
