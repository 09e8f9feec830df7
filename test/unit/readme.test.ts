/** The README's settings table stays true: every variable a service accepts is documented, and nothing else. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/hazelcast.js';
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
});
