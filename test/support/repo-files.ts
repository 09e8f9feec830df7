/** The repository's files as git sees them, for tests that read or copy every one of a kind. */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo.js';

/**
 * The files git tracks in `repo`, and the new ones it does not ignore (a page written but not yet
 * added counts, `dist/` and `.run/` never do), less any deleted from the work tree; relative paths
 * with `/`, sorted. @throws Error when `repo` is not a git work tree
 */
export function repoFiles(repo: string = REPO_ROOT): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((p) => p !== '' && statSync(join(repo, p), { throwIfNoEntry: false })?.isFile());
  return [...new Set(listed)].sort();
}
