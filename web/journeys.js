// The Orca web console: the journey list (filters, paging, live rows) and
// an order's page (/orders/{id}) with each journey's steps, fulfillment
// orders, timeline, replay and redrive.
'use strict';

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
