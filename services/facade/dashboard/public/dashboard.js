/*
 * The dashboard's script, plain ES2020 for the browser, served as it is by the facade. It polls
 * /facade/cluster and /facade/messages and renders every value with textContent / text nodes,
 * never as markup, so a message like <img src=x onerror=…> shows its characters and runs nothing.
 */
'use strict';
(function () {
  var POLL_MS = 2000;
  /** A page of the message list; the list is read incrementally with ?after=<last uuid>. */
  var PAGE = 1000;
  /** Rows kept in the table; older ones are dropped from the page (the map keeps them). */
  var MAX_ROWS = 500;

  var messages = [];        // the newest MAX_ROWS messages, creation order
  var messageCount = 0;     // every message read so far
  var lastUuid = null;
  var seenMembers = new Map(); // uuid -> address: members seen since the page was opened
  var lastMapSize = null;

  function $(id) { return document.getElementById(id); }

  /** Creates an element; children are elements or strings, and strings always become text nodes. */
  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  function setText(id, text) { $(id).textContent = text; }

  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok) throw new Error(body && body.error ? body.error.message : 'HTTP ' + res.status);
        return body;
      });
    });
  }

  function shortUuid(uuid) { return uuid.slice(0, 8); }

  function time(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso || '');
    return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }

  // ---- cluster -------------------------------------------------------------------------------

  function badge(state, text) { return el('span', 'badge ' + state, [text]); }

  function mib(bytes) { return Math.round(bytes / (1024 * 1024)); }

  /** A member's heap cell: used / max MiB and the share, from its exporter; '–' where it has none. */
  function heapCell(v) {
    if (!v || v.heapUsedBytes === null || v.heapUsedBytes === undefined) {
      var none = el('td', 'num heap', ['–']);
      none.title = 'no heap reported: the member has no metrics exporter, or it did not answer';
      return none;
    }
    var max = v.heapMaxBytes;
    var text = mib(v.heapUsedBytes) + (max ? ' / ' + mib(max) + ' MiB (' + Math.round((100 * v.heapUsedBytes) / max) + '%)' : ' MiB');
    var cell = el('td', 'num heap', [text]);
    cell.title = 'heap in use / the most it may use (-Xmx), from the member\'s Prometheus exporter';
    return cell;
  }

  function renderHazelcast(view) {
    var hz = view.hazelcast;
    var body = $('members').tBodies[0];
    var rows = [];
    if (!hz) {
      setText('member-count', '–');
      setText('map-size', '–');
      setText('owned-total', '–');
      $('owned-check').replaceChildren();
      var source = $('hz-source');
      source.className = 'note error';
      source.textContent = view.hazelcastError || 'the cluster could not be read';
    } else {
      var live = new Set();
      var views = new Map();
      hz.memberViews.forEach(function (v) { views.set(v.address, v); });
      // Beyond 10,000 entries logging shares the map size out by the partitions each member owns.
      var estimated = hz.entriesCounted === 'estimated';
      hz.members.forEach(function (m) {
        live.add(m.uuid);
        seenMembers.set(m.uuid, m.address);
        var meter = document.createElement('meter');
        meter.min = 0;
        meter.max = Math.max(hz.mapSize, 1);
        meter.value = m.ownedEntries;
        var share = hz.mapSize > 0 ? Math.round((100 * m.ownedEntries) / hz.mapSize) + '%' : '–';
        var row = el('tr', 'member', [
          el('td', 'mono address', [m.address]),
          el('td', 'mono', [shortUuid(m.uuid)]),
          el('td', 'num entries', [(estimated ? '≈ ' : '') + m.ownedEntries]),
          el('td', 'share', [meter, ' ' + share]),
          heapCell(views.get(m.address)),
        ]);
        row.title = m.uuid;
        rows.push(row);
      });
      // A member that answers but is not in this cluster split off (a partition, a long pause) and
      // has not merged back yet: it is shown by its own account, in place of its old row.
      var apart = new Map();
      hz.memberViews.forEach(function (v) {
        if (!v.inClientCluster && v.clusterSize !== null) apart.set(v.address, v);
      });
      seenMembers.forEach(function (address, uuid) {
        if (live.has(uuid) || apart.has(address)) return;
        rows.push(el('tr', 'member gone', [el('td', 'mono address', [address]), el('td', 'mono', [shortUuid(uuid)]), el('td', 'num state', ['gone']),
          el('td', 'state', ['left the cluster']), el('td', 'num heap', [''])]));
      });
      apart.forEach(function (v) {
        var state = v.clusterSize === 1 ? 'alone' : 'apart: in a cluster of ' + v.clusterSize;
        var row = el('tr', 'member apart', [el('td', 'mono address', [v.address]), el('td', 'mono', ['']), el('td', 'num state', [badge('warn', state)]),
          el('td', 'state', ['split off; writes refused there until it merges back']), heapCell(v)]);
        row.title = 'this member answers, but is not in the cluster the logging instances use';
        rows.push(row);
      });
      setText('member-count', String(hz.members.length));
      setText('map-name', hz.mapName);
      setText('map-size', String(hz.mapSize));
      setText('backup-count', hz.backupCount === null ? 'not reported' : String(hz.backupCount));
      $('backup-count').title = hz.backupCount === null
        ? 'the logging service was not told the backup count the member configuration declares'
        : 'synchronous backups of each entry, as the member configuration declares';
      // n members keep at most n - 1 backups of an entry: fewer than configured, and one more loss may lose some.
      if (hz.backupCount !== null && hz.members.length > 0 && hz.members.length - 1 < hz.backupCount) {
        $('backup-count').append(' ', badge('warn', 'below it: ' + hz.members.length + ' members keep ' + (hz.members.length - 1)));
      }
      setText('owned-total', String(hz.ownedEntriesTotal));
      $('owned-check').replaceChildren(hz.ownedEntriesTotal === hz.mapSize
        ? badge('ok', '= map size')
        : badge('warn', '≠ map size: partitions are moving'));
      var src = $('hz-source');
      src.className = 'note';
      src.textContent = (hz.connected ? 'as seen by the Hazelcast client of ' : 'disconnected: last view of ') + hz.reportedBy +
        (estimated ? ' · entries per member ≈ the map size shared out by the partitions each owns' : '');
      lastMapSize = hz.mapSize;
    }
    body.replaceChildren.apply(body, rows);
  }

  function renderRegistry(view) {
    var cs = view.configServer;
    var line = $('config-server');
    line.replaceChildren(
      'config-server ',
      el('span', 'mono', [cs.url || '(not configured)']),
      ' ',
      cs.reachable === true ? badge('ready', 'reachable') : cs.reachable === false ? badge('down', 'unreachable: ' + (cs.error || '')) : ''
    );
    var entries = view.registry.map(function (entry) {
      var rows = entry.instances.map(function (i) {
        return el('tr', 'instance ' + i.health, [
          el('td', 'mono', [i.url]),
          el('td', '', [badge(i.health, i.health === 'not-ready' ? 'not ready' : i.health)]),
          i.latencyMs === null ? el('td', 'num detail', [i.detail]) : el('td', 'num', [i.latencyMs + ' ms']),
        ]);
      });
      if (rows.length === 0) rows.push(el('tr', '', [el('td', '', ['(no instances)'])]));
      var title = el('h3', '', [entry.name]);
      if (entry.usedFor) title.appendChild(el('span', 'used', ['the facade’s ' + entry.usedFor + ' service']));
      var table = el('table', 'instances', [el('tbody', '', rows)]);
      table.dataset.service = entry.name;
      return el('div', 'registry-entry', [title, table]);
    });
    var box = $('registry');
    box.replaceChildren.apply(box, entries);
  }

  function refreshCluster() {
    return getJson('/facade/cluster').then(function (view) {
      renderHazelcast(view);
      renderRegistry(view);
    });
  }

  // ---- messages ------------------------------------------------------------------------------

  function renderMessages() {
    var body = $('messages').tBodies[0];
    var first = messageCount - messages.length;
    var rows = messages.map(function (m, i) {
      var when = el('td', 'mono', [time(m.storedAt)]);
      when.title = String(m.storedAt || '');
      var row = el('tr', 'message', [
        el('td', 'num', [first + i + 1]),
        when,
        el('td', 'text', [m.msg]),
        el('td', 'mono', [String(m.loggedBy || '')]),
        el('td', 'mono', [m.uuid]),
      ]);
      row.dataset.uuid = m.uuid;
      return row;
    });
    var scroller = $('messages-scroll');
    var atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
    body.replaceChildren.apply(body, rows);
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    setText('message-count', '(' + messageCount + ')');
    $('messages-note').className = 'note';
    setText('messages-note', messageCount > messages.length
      ? 'Showing the latest ' + messages.length + ' of ' + messageCount + '.'
      : messageCount === 0 ? 'No message stored yet.' : '');
  }

  function resetMessages() {
    messages = [];
    messageCount = 0;
    lastUuid = null;
  }

  /** Reads what is new since the last uuid seen, page by page. */
  function readNew() {
    // The map never shrinks while the system runs; if it did, the system was restarted: read it again.
    if (lastMapSize !== null && lastMapSize < messageCount) resetMessages();
    function next() {
      var url = '/facade/messages?limit=' + PAGE + (lastUuid ? '&after=' + encodeURIComponent(lastUuid) : '');
      return getJson(url).then(function (page) {
        var got = page.messages;
        if (got.length > 0) {
          messages = messages.concat(got).slice(-MAX_ROWS);
          messageCount += got.length;
          lastUuid = got[got.length - 1].uuid;
        }
        return got.length === PAGE ? next() : undefined;
      });
    }
    return next().then(renderMessages, function (err) {
      var note = $('messages-note');
      note.className = 'note error';
      note.textContent = 'Messages cannot be read right now: ' + err.message;
    });
  }

  /** Reads run one after another (the poll and a post may ask at once), so no page is appended twice. */
  var reading = Promise.resolve();
  function refreshMessages() {
    var done = reading.then(readNew);
    reading = done.catch(function () { return undefined; });
    return done;
  }

  // ---- posting -------------------------------------------------------------------------------

  function onSubmit(event) {
    event.preventDefault();
    var input = $('msg');
    var button = $('post-button');
    var result = $('post-result');
    button.disabled = true;
    fetch('/facade', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ msg: input.value }),
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (res.status !== 201) throw new Error(body && body.error ? body.error.message : 'HTTP ' + res.status);
        result.className = 'result ok';
        result.replaceChildren('Stored as ', el('span', 'mono', [body.message.uuid]), ' by ', el('span', 'mono', [body.loggedBy]));
        input.value = '';
        return refreshMessages();
      });
    }).catch(function (err) {
      result.className = 'result error';
      result.textContent = 'Not stored: ' + err.message;
    }).then(function () {
      button.disabled = false;
      input.focus();
    });
  }

  // ---- polling -------------------------------------------------------------------------------

  function tick() {
    // The cluster first: its map size tells whether the message list must be read again.
    refreshCluster().then(function () {
      var status = $('status');
      status.className = 'status live';
      status.textContent = 'live · updated ' + new Date().toLocaleTimeString([], { hour12: false });
      return refreshMessages();
    }, function (err) {
      var status = $('status');
      status.className = 'status broken';
      status.textContent = 'cannot reach the facade (' + err.message + ') · retrying';
    }).then(function () {
      setTimeout(tick, POLL_MS);
    });
  }

  $('post-form').addEventListener('submit', onSubmit);
  tick();
})();
