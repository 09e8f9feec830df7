/**
 * The dashboard's page. Static markup only: every piece of data is filled in by the script with
 * `textContent`, never as markup. Embedded in a module so the compiled facade carries it with no
 * extra file to copy into the image.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>lab · messages in a Hazelcast cluster</title>
  <link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/dashboard/dashboard.css">
  <script src="/dashboard/dashboard.js" defer></script>
</head>
<body>
  <header>
    <h1>lab <span class="sub">messages in a Hazelcast cluster</span></h1>
    <p id="status" class="status" role="status" aria-live="polite">connecting…</p>
  </header>

  <main>
    <section class="card" id="post-card" aria-labelledby="post-title">
      <h2 id="post-title">Post a message</h2>
      <form id="post-form" method="post" action="/facade" autocomplete="off">
        <label for="msg">Message</label>
        <input id="msg" name="msg" type="text" maxlength="65536" required placeholder="msg1">
        <button id="post-button" type="submit">Post</button>
      </form>
      <p id="post-result" class="result" aria-live="polite"></p>
    </section>

    <section class="card" id="hazelcast-card" aria-labelledby="hz-title">
      <h2 id="hz-title">Hazelcast cluster</h2>
      <dl class="facts">
        <div><dt>members</dt><dd id="member-count">–</dd></div>
        <div><dt>map</dt><dd id="map-name">–</dd></div>
        <div><dt>entries (map size)</dt><dd id="map-size">–</dd></div>
        <div><dt>backup count</dt><dd id="backup-count">–</dd></div>
      </dl>
      <table id="members">
        <caption>Entries each member owns (primary partitions), as in Management Center</caption>
        <thead><tr><th scope="col">member</th><th scope="col">uuid</th><th scope="col" class="num">entries</th><th scope="col">share</th></tr></thead>
        <tbody></tbody>
        <tfoot><tr><th scope="row" colspan="2">sum</th><td id="owned-total" class="num">–</td><td id="owned-check"></td></tr></tfoot>
      </table>
      <p id="hz-source" class="note"></p>
    </section>

    <section class="card" id="registry-card" aria-labelledby="reg-title">
      <h2 id="reg-title">Service registry</h2>
      <p id="config-server" class="note"></p>
      <div id="registry"></div>
    </section>

    <section class="card wide" id="messages-card" aria-labelledby="msg-title">
      <h2 id="msg-title">Stored messages <span id="message-count" class="count"></span></h2>
      <div class="scroll" id="messages-scroll">
        <table id="messages">
          <thead><tr><th scope="col" class="num">#</th><th scope="col">stored at</th><th scope="col">message</th><th scope="col">stored by</th><th scope="col">uuid</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="messages-note" class="note"></p>
    </section>
  </main>

  <footer>
    <p>Data: <a href="/facade/cluster">/facade/cluster</a> · <a href="/facade/messages?limit=100">/facade/messages</a> · <a href="/metrics">/metrics</a>. Refreshes every 2 s.</p>
  </footer>
</body>
</html>
`;
