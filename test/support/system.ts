/**
 * Test systems: the real processes of local/system.ts on free loopback ports, in a temp folder,
 * with every process's output kept (and printed only when a test asks). `stopAll()` in an
 * `after` hook tears down everything any test started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSystem, freeSystemPorts, type SystemOptions } from '../../local/system.js';

const started: { system: LocalSystem; dir: string }[] = [];

export const testPorts = freeSystemPorts;

/** A LocalSystem on free ports with its own cluster name; not started yet. */
export async function createTestSystem(options: Partial<SystemOptions> = {}): Promise<LocalSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-test-'));
  const system = new LocalSystem({
    ports: await testPorts(),
    runDir: dir,
    clusterName: `lab-test-${process.pid}-${started.length}`,
    logLevel: 'info',
    startTimeoutMs: 120_000,
    ...options,
  });
  started.push({ system, dir });
  return system;
}

/** Stops every system created by this process and removes their folders. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map(async ({ system, dir }) => {
    await system.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  }));
}
