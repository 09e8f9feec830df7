/** Where the repository is on disk, for whatever reads or runs its files (scripts, local runs, tests). */
import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing slash: this file runs as dist/local/repo.js, two levels below it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
