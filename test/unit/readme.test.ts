/**
 * The README stays true and short: every variable a service accepts is documented, and nothing
 * else; a newcomer reads it in ten minutes, in a fixed order; its screenshot is of the lab's own
 * ports. Its links, and every other page's, are links.test.ts's.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';
import { LAB_PORTS } from '../../local/system.js';
import { readTexts } from '../support/png.js';
import { facadeSettings } from '../../services/facade/config.js';
import { loggingSettings } from '../../services/logging/config.js';
import { messagesSettings } from '../../services/messages/config.js';
import { configServerSettings } from '../../services/config-server/config.js';

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

  it("shows a screenshot of the dashboard taken on the lab's own ports (LAB_UPDATE_DOCS=1 npm test makes it)", () => {
    const texts = readTexts(readFileSync(join(REPO_ROOT, 'docs', 'dashboard.png')));
    expect(texts['lab:facade']).to.equal(`http://127.0.0.1:${LAB_PORTS.facade}`);
    expect(texts['lab:logging']).to.equal(LAB_PORTS.logging.map((p) => `http://127.0.0.1:${p}/logging`).join(' '));
  });
});
