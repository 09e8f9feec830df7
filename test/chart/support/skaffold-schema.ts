/**
 * The official skaffold/v4beta14 JSON schema, taken from the skaffold Go module through the Go
 * module proxy (the module ships its schemas under docs-v2/), so the test needs no file outside
 * the repository. The file's sha256 is pinned here: the Go checksum database has no entry for
 * this module version, so it is fetched with GOSUMDB=off and checked against the pin instead.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingTool } from '../../support/tools.js';

/** The first skaffold release whose module carries the v4beta14 schema. */
export const SKAFFOLD_MODULE = 'github.com/GoogleContainerTools/skaffold/v2@v2.19.0';
const SCHEMA_IN_MODULE = join('docs-v2', 'content', 'en', 'schemas', 'v4beta14.json');
const SCHEMA_SHA256 = '7c29a621995d2c6143d3c423c8e3d3dfb25703a49fd1cf77644b54168414b39e';

/**
 * Downloads the module into Go's module cache (once; later runs read the cache) and returns the
 * parsed schema. Without `go` the suite fails in CI and is skipped elsewhere.
 * @throws when the download fails or the file does not match the pinned sha256
 */
export function skaffoldSchema(ctx: Mocha.Context): object {
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOSUMDB: 'off' };
  const res = spawnSync('go', ['mod', 'download', '-json', SKAFFOLD_MODULE], { encoding: 'utf8', env, cwd: '/', timeout: 300_000 });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    missingTool(ctx, 'skaffold schema tests', 'go not found on PATH; it fetches the skaffold schema from the Go module proxy');
  }
  let dir: string | undefined;
  try {
    dir = (JSON.parse(res.stdout) as { Dir?: string }).Dir;
  } catch {
    // reported below with go's own words
  }
  if (res.status !== 0 || !dir) throw new Error(`go mod download ${SKAFFOLD_MODULE} failed: ${(res.stdout + res.stderr).trim().slice(0, 500)}`);
  const file = join(dir, SCHEMA_IN_MODULE);
  if (!existsSync(file)) throw new Error(`${SKAFFOLD_MODULE} has no ${SCHEMA_IN_MODULE}`);
  const text = readFileSync(file);
  const sha = createHash('sha256').update(text).digest('hex');
  if (sha !== SCHEMA_SHA256) throw new Error(`${file}: sha256 ${sha}, expected the pinned ${SCHEMA_SHA256}`);
  return JSON.parse(text.toString('utf8')) as object;
}
