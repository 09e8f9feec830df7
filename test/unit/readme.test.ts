/**
 * The README stays true and short: every variable a service accepts is documented, and nothing
 * else; a newcomer reads it in ten minutes, in a fixed order; no relative link or anchor in it, in docs/ or in
 * the chart's README is broken, and every page of docs/ that code, chart or configs name exists.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { LAB_PORTS } from '../../local/system.js';
import { readTexts } from '../support/png.js';
import { facadeSettings } from '../../services/facade/config.js';
import { loggingSettings } from '../../services/logging/config.js';
import { messagesSettings } from '../../services/messages/config.js';
import { configServerSettings } from '../../services/config-server/config.js';

/** The relative targets of a Markdown file's links and images, without `#anchors`; code is left out. */
function relativeLinks(markdown: string): string[] {
  return relativeLinksWithAnchors(markdown).map((t) => t.path).filter((t) => t !== ''); // '': an anchor of the same page
}

/** The relative targets of a Markdown file's links and images, each with its `#anchor` if any; code is left out. */
function relativeLinksWithAnchors(markdown: string): { path: string; anchor?: string }[] {
  const prose = markdown.replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  return targets
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t)) // http:, https:, mailto: …
    .map((t) => {
      const [path, anchor] = t.split('#');
      return { path: decodeURIComponent(path!), anchor };
    });
}

/** The anchors GitHub gives a Markdown page's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, '');
  return new Set([...prose.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')));
}

/** Folders and files whose text may name a page of docs/ (code, chart, values, configs, scripts). */
const NAMING_DOCS = ['bin', 'lib', 'services', 'local', 'drills', 'scripts', 'bench', 'test', 'charts', 'hazelcast', 'k8s', '.ci', 'Dockerfile', 'skaffold.yaml', 'package.json'];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => filesUnder(join(path, entry)));
}

describe('README', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('\n## ', readme.indexOf('## Settings') + 5));
  const documented = new Set([...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

  it('documents exactly the settings the services accept', () => {
    const accepted = new Set([facadeSettings, loggingSettings, messagesSettings, configServerSettings].flatMap((s) => Object.keys(s)));
    expect([...documented].sort()).to.deep.equal([...accepted].sort());
  });

  it('shows the two commands and the test command', () => {
    for (const cmd of ['npm install', 'npm start', 'npm test']) expect(readme).to.include(cmd);
  });

  it('reads in ten minutes: at most 350 lines', () => {
    const lines = readme.endsWith('\n') ? readme.split('\n').length - 1 : readme.split('\n').length;
    expect(lines).to.be.at.most(350);
  });

  it('has its sections in order: the two commands, the API, deploy, architecture, settings', () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    const wanted = [/commands/i, /\bAPI\b/, /Deploy/i, /Architecture/i, /Settings/i];
    const positions = wanted.map((re) => headings.findIndex((h) => re.test(h)));
    for (const [i, at] of positions.entries()) expect(at, `a level-2 heading matching ${wanted[i]} in ${JSON.stringify(headings)}`).to.be.at.least(0);
    expect(positions, `the order of ${JSON.stringify(headings)}`).to.deep.equal([...positions].sort((a, b) => a - b));
  });

  it("has no broken relative link or anchor, in README.md, docs/*.md or the chart's README", () => {
    const files = ['README.md', join('charts', 'lab', 'README.md'), ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
    const broken: string[] = [];
    let links = 0;
    let anchors = 0;
    for (const file of files) {
      const path = join(REPO_ROOT, file);
      for (const { path: target, anchor } of relativeLinksWithAnchors(readFileSync(path, 'utf8'))) {
        links++;
        const resolved = target === '' ? path : join(dirname(path), target);
        if (!existsSync(resolved)) broken.push(`${file} → ${target} (${relative(REPO_ROOT, resolved)} does not exist)`);
        else if (anchor && resolved.endsWith('.md')) {
          anchors++;
          if (!headingAnchors(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${file} → ${target}#${anchor} (no such heading)`);
        }
      }
    }
    expect(links, 'links checked').to.be.greaterThan(10);
    expect(anchors, 'anchors checked').to.be.greaterThan(3);
    expect(broken).to.deep.equal([]);
  });

  it('names only pages of docs/ that exist, and headings they have, in code, chart, values and configs', () => {
    const broken: string[] = [];
    let named = 0;
    for (const file of NAMING_DOCS.flatMap((p) => filesUnder(join(REPO_ROOT, p)))) {
      if (/\.(png|svg|sum|tgz)$/.test(file)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/(?<![\w/.-])docs\/([\w.-]+\.(?:md|svg|png))(?:#([\w-]+))?/g)) {
        named++;
        const page = join(REPO_ROOT, 'docs', m[1]!);
        if (!existsSync(page)) broken.push(`${relative(REPO_ROOT, file)}: docs/${m[1]} does not exist`);
        else if (m[2] && !headingAnchors(readFileSync(page, 'utf8')).has(m[2])) broken.push(`${relative(REPO_ROOT, file)}: docs/${m[1]}#${m[2]} has no such heading`);
      }
    }
    expect(named, 'references found').to.be.greaterThan(10);
    expect(broken).to.deep.equal([]);
  });

  it('gives headings the anchors GitHub gives them', () => {
    expect([...headingAnchors('# `skaffold dev` on the node\n## Open-loop latency at a fixed offered rate (issue 14)\n```\n# not a heading\n```\n')])
      .to.deep.equal(['skaffold-dev-on-the-node', 'open-loop-latency-at-a-fixed-offered-rate-issue-14']);
  });

  it('finds relative links, and leaves out web links, anchors and code', () => {
    const md = [
      'See [the API](guide/api.md#errors), ![shot](guide/a%20b.png) and [web](https://example.com/x.md).',
      '[here](#settings) `[not](a-link.md)`',
      '```sh',
      'echo [x](in-code.md)',
      '```',
      '- a list',
      '  ```json',
      '  {"a": "[y](indented-code.md)"}',
      '  ```',
    ].join('\n');
    expect(relativeLinks(md)).to.deep.equal(['guide/api.md', 'guide/a b.png']);
  });

  it("shows a screenshot of the dashboard taken on the lab's own ports (LAB_UPDATE_DOCS=1 npm test makes it)", () => {
    const texts = readTexts(readFileSync(join(REPO_ROOT, 'docs', 'dashboard.png')));
    expect(texts['lab:facade']).to.equal(`http://127.0.0.1:${LAB_PORTS.facade}`);
    expect(texts['lab:logging']).to.equal(LAB_PORTS.logging.map((p) => `http://127.0.0.1:${p}/logging`).join(' '));
  });
});
