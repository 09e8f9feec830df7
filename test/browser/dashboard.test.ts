/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core: no browser
 * download) against a real system of ten processes: a form post listed, three members whose entries
 * add up to the map size, markup shown as text, a killed member shown as gone, a killed logging
 * instance as down and config-server as unreachable, and no card scrolling sideways in any of these.
 * It saves a screenshot to .run/dashboard.png once the page has been shown to be right. With
 * LAB_UPDATE_DOCS=1 it runs on the lab's own ports (which must be free) and also refreshes
 * docs/dashboard.png, the README's screenshot, recording in it the URLs it shows.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../local/repo.js';
import { LAB_PORTS, type LocalSystem } from '../../local/system.js';
import { createTestSystem, stopAll } from '../support/system.js';
import { eventually } from '../support/eventually.js';
import { postForm } from '../support/http.js';
import { missingTool } from '../support/tools.js';
import { withTexts } from '../support/png.js';
import { PARTITION_HOSTS, Partition, partitionUnsupported } from '../../drills/partition.js';
import type { ClusterView } from '../../services/facade/cluster-view.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(REPO_ROOT, '.run', 'dashboard.png');
const README_SCREENSHOT = join(REPO_ROOT, 'docs', 'dashboard.png');
const XSS = '<img src=x onerror="window.__xss=1">';
/** The README's screenshot is made on the lab's ports, as a user sees it after npm start. */
const UPDATE_DOCS = process.env.LAB_UPDATE_DOCS === '1';

/** The widths at which no card may scroll sideways: 1280 px, the common laptop, and up. */
const WIDE_VIEWPORTS = [1280, 1400, 1920];

/** The few DOM members the sideways check reads (this suite is compiled without the DOM library). */
interface Box {
  readonly id: string;
  readonly className: string;
  readonly tagName: string;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly parentElement: Box | null;
}

/**
 * Every box of the page that scrolls sideways, as `name: scrollWidth > clientWidth`: each card, the
 * box that would scroll each table (its nearest ancestor that clips or scrolls, else the page) and
 * the page itself. Runs in the browser.
 */
function sidewaysScrollers(): string[] {
  const { document, getComputedStyle } = globalThis as unknown as {
    document: { querySelectorAll(selector: string): Iterable<Box>; readonly scrollingElement: Box };
    getComputedStyle(box: Box): { overflowX: string };
  };
  const boxes = new Set<Box>([document.scrollingElement, ...document.querySelectorAll('.card')]);
  for (const table of document.querySelectorAll('table')) {
    let box = table.parentElement;
    while (box && box !== document.scrollingElement && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    boxes.add(box ?? document.scrollingElement);
  }
  const name = (box: Box) => box.id ? `#${box.id}` : `${box.tagName.toLowerCase()}${box.className ? `.${box.className.split(' ').join('.')}` : ''}`;
  return [...boxes].filter((box) => box.scrollWidth > box.clientWidth).map((box) => `${name(box)}: ${box.scrollWidth} > ${box.clientWidth}`);
}

describe('dashboard in a browser', function () {
  this.timeout(240_000);
  let system: LocalSystem;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) missingTool(this, 'browser tests', `Chromium not found at ${CHROMIUM}; install Debian's chromium package (apt-get install chromium)`);
    // Members on their own loopback addresses, so that one can be cut off from the others; the
    // README's screenshot shows them as npm start runs them, all on 127.0.0.1.
    system = await createTestSystem(UPDATE_DOCS ? { ports: LAB_PORTS, clusterName: 'lab' } : { memberHosts: PARTITION_HOSTS });
    await system.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (req) => {
      if (!req.url().startsWith(`${system.facadeUrl}/`)) foreignRequests.push(req.url());
    });
    await page.goto(`${system.facadeUrl}/`);
  });
  after(async () => {
    await browser?.close();
    await stopAll();
  });

  const memberRows = () => page.locator('#members tbody tr.member:not(.gone)');
  /** The rows of the registry's logging instances, each with its health as a class. */
  const LOGGING_ROWS = 'table.instances[data-service="logging-service"] tr.instance';

  it('posts a message through the form and lists it with its uuid, time and logging instance', async () => {
    await page.fill('#msg', 'hello from the dashboard');
    await page.click('#post-button');
    await page.locator('#post-result.ok').waitFor({ timeout: 10_000 });
    const row = page.locator('#messages tbody tr', { hasText: 'hello from the dashboard' });
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells[2]).to.equal('hello from the dashboard');
    expect(system.registry()['logging-service']).to.include(cells[3]);
    expect(cells[4]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(cells[1]).to.match(/^\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('shows three members whose owned entries add up to the map size', async () => {
    // The lab's ten messages, through the API, so the entries spread over the members.
    for (let i = 1; i <= 10; i++) expect((await postForm(`${system.facadeUrl}/facade`, { msg: `msg${i}` })).status).to.equal(201);
    await eventually(async () => {
      expect(await memberRows().count()).to.equal(3);
      expect(await page.textContent('#member-count')).to.equal('3');
      const entries = (await page.locator('#members tbody tr.member:not(.gone) td.entries').allTextContents()).map(Number);
      const mapSize = Number(await page.textContent('#map-size'));
      expect(mapSize).to.equal(11);
      expect(entries.reduce((a, b) => a + b, 0)).to.equal(mapSize);
      expect(await page.locator('#messages tbody tr').count()).to.equal(11);
      // Each member's heap, from its Prometheus exporter: used / max MiB (share).
      const heaps = await page.locator('#members tbody tr.member:not(.gone) td.heap').allTextContents();
      expect(heaps).to.have.length(3);
      for (const h of heaps) expect(h).to.match(/^\d+ \/ \d+ MiB \(\d+%\)$/);
    }, { timeoutMs: 20_000, intervalMs: 250 });
    // Every logging instance is registered and ready.
    await eventually(async () => {
      expect(await page.locator(`${LOGGING_ROWS}.ready`).count()).to.equal(3);
    }, { timeoutMs: 10_000, intervalMs: 250 });
    mkdirSync(join(REPO_ROOT, '.run'), { recursive: true });
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(SCREENSHOT, png);
    if (UPDATE_DOCS) {
      const registry = system.registry()['logging-service'].join(' ');
      writeFileSync(README_SCREENSHOT, withTexts(png, { 'lab:facade': system.facadeUrl, 'lab:logging': registry }));
    }
  });

  /** At each of WIDE_VIEWPORTS, no box scrolls sideways; the page is left at 1280 x 900. */
  async function expectNoSidewaysScroll(): Promise<void> {
    const scrolling: Record<number, string[]> = {};
    try {
      for (const width of WIDE_VIEWPORTS) {
        await page.setViewportSize({ width, height: 900 });
        scrolling[width] = await page.evaluate(sidewaysScrollers);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    expect(scrolling).to.deep.equal(Object.fromEntries(WIDE_VIEWPORTS.map((width) => [width, []])));
  }

  it('scrolls no card sideways at 1280, 1400 and 1920 px, every table shown whole', expectNoSidewaysScroll);

  it('shows a message holding markup as its characters and runs nothing', async () => {
    await page.fill('#msg', XSS);
    await page.click('#post-button');
    const row = page.locator('#messages tbody tr', { hasText: 'onerror' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td.text').textContent()).to.equal(XSS);
    expect(await page.locator('#messages img').count()).to.equal(0);
    // `window.__xss` would be set only if the markup had run.
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).to.equal(undefined);
  });

  it('shows a killed member as gone within seconds', async () => {
    const address = system.memberAddress(0);
    system.members[0]!.kill('SIGKILL');
    await eventually(async () => {
      expect(await page.textContent('#member-count')).to.equal('2');
      expect(await memberRows().count()).to.equal(2);
      expect(await page.locator('#members tbody tr.gone td.address').allTextContents()).to.deep.equal([address]);
    }, { timeoutMs: 15_000, intervalMs: 250 });
  });

  it('shows that two members keep fewer backups than configured', async () => {
    await eventually(async () => expect(await page.textContent('#backup-count')).to.equal('2 below it: 2 members keep 1'), { timeoutMs: 15_000, intervalMs: 250 });
  });

  it('scrolls no card sideways with a member gone, at 1280, 1400 and 1920 px', expectNoSidewaysScroll);

  it('shows a member cut off from the cluster as alone, and as a member again once the cut heals', async function () {
    const why = UPDATE_DOCS ? 'members share 127.0.0.1 in the screenshot run' : partitionUnsupported();
    if (why) missingTool(this, 'the dashboard partition test', why);
    const partition = new Partition();
    partition.isolate(system.memberAddress(1), [system.memberAddress(2)]);
    try {
      // Two members cut apart: each is a cluster of one, and whichever one the logging clients
      // do not use is shown alone, by its own account.
      await eventually(async () => {
        expect(await page.locator('#members tbody tr.apart td.state .badge').allTextContents()).to.deep.equal(['alone']);
        expect(await page.textContent('#member-count')).to.equal('1');
      }, { timeoutMs: 30_000, intervalMs: 250 });
    } finally {
      partition.heal();
    }
    await eventually(async () => {
      expect(await page.locator('#members tbody tr.apart').count()).to.equal(0);
      expect(await page.textContent('#member-count')).to.equal('2');
    }, { timeoutMs: 45_000, intervalMs: 250 });
  });

  it('shows a killed logging instance as down and config-server as unreachable', async () => {
    const instance = system.registry()['logging-service'][2]!;
    system.logging[2]!.kill('SIGKILL');
    system.configServer!.kill('SIGKILL');
    await eventually(async () => {
      expect(await page.locator(`${LOGGING_ROWS}.down td.mono`).allTextContents()).to.deep.equal([instance]);
      expect(await page.textContent('#config-server')).to.include('unreachable: ');
    }, { timeoutMs: 15_000, intervalMs: 250 });
  });

  it('scrolls no card sideways with a logging instance down and config-server unreachable, at 1280, 1400 and 1920 px', expectNoSidewaysScroll);

  it('scrolls no card sideways with those errors spelled out at length, at 1280, 1400 and 1920 px', async () => {
    // The facade names a failure in a word (`refused`); Node's own message for it names the address
    // too, with no space to break at. The page is served the view with those messages in place of
    // the words, so the registry card is shown with error texts as long as the lab's ever are.
    const refused = (url: string) => `connect ECONNREFUSED ${new URL(url).host}`;
    const viewUrl = `${system.facadeUrl}/facade/cluster`;
    await page.route(viewUrl, async (route) => {
      const response = await route.fetch();
      const view = (await response.json()) as ClusterView;
      if (view.configServer.reachable === false && view.configServer.url) view.configServer.error = refused(view.configServer.url);
      for (const entry of view.registry) for (const i of entry.instances) if (i.health === 'down') i.detail = refused(i.url);
      await route.fulfill({ response, json: view });
    });
    try {
      const instance = system.registry()['logging-service'][2]!;
      await eventually(async () => {
        expect(await page.locator(`${LOGGING_ROWS}.down td.num`).allTextContents()).to.deep.equal([refused(instance)]);
        expect(await page.textContent('#config-server .badge')).to.equal(`unreachable: ${refused(system.configServerUrl)}`);
      }, { timeoutMs: 15_000, intervalMs: 250 });
      await expectNoSidewaysScroll();
    } finally {
      await page.unroute(viewUrl);
    }
  });

  it('loaded nothing from outside the facade and raised no script error', () => {
    expect(foreignRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});
