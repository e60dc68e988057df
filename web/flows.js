// The Orca web console: flows, their lifecycle buttons, and a flow's page
// (/flows/{name}) with its picture, versions and draft.
'use strict';

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
