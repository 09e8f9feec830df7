/** `npm start` without Java or Maven: one line saying what to install, exit 1, no stack trace. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';

const javaPath = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();

function start(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'dist/local/start.js')], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('npm start without its prerequisites', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-prereq-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says in one line that Java is needed when there is none', () => {
    const res = start({ PATH: join(dir, 'empty'), HOME: dir });
    expect(res.status).to.equal(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/Java 17 or newer is needed.*install/);
    expect(res.stderr).not.to.match(/\bat .+:\d+:\d+/);
  });

  it('says in one line that Maven is needed when the jar is missing and there is no mvn', () => {
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    symlinkSync(javaPath, join(bin, 'java'));
    // HOME without ~/.m2: the jar is not there, and PATH has java but no mvn.
    const res = start({ PATH: bin, HOME: dir });
    expect(res.status).to.equal(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/Maven is needed once to fetch the Hazelcast 5\.5\.0 jar/);
  });
});
