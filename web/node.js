// The Orca web console: the node's status, figures from /metrics,
// providers and hooks.
'use strict';

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
