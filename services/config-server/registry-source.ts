/**
 * Keeps the registry in step with its file. A bad file at start-up is fatal; a bad edit later is
 * logged and the last good registry kept; a good edit is picked up without a restart. The file is
 * re-read by polling because Kubernetes swaps a mounted ConfigMap through a symlink, which file
 * watchers miss.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../lib/log.js';
import { parseRegistry, RegistryError, type Registry } from './registry.js';

export class RegistrySource {
  private lastText: string;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly file: string,
    private registry: Registry,
    text: string,
    private readonly logger: Logger,
  ) {
    this.lastText = text;
  }

  /**
   * Loads the file and starts watching it.
   * @throws RegistryError when the file is missing or invalid
   */
  static async open(file: string, pollMs: number, logger: Logger): Promise<RegistrySource> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new RegistryError(`cannot read registry file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    const source = new RegistrySource(file, parseRegistry(text), text, logger);
    logger.info({ file, services: [...source.registry.keys()] }, 'registry loaded');
    source.timer = setInterval(() => void source.reload(), pollMs);
    source.timer.unref();
    return source;
  }

  current(): Registry {
    return this.registry;
  }

  /** Re-reads the file; public so tests need not wait for the poll. */
  async reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (this.lastText !== '') {
        this.logger.error({ file: this.file, code: (err as NodeJS.ErrnoException).code }, 'registry file unreadable; keeping the last good registry');
      }
      this.lastText = '';
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      this.registry = parseRegistry(text);
      this.logger.info({ file: this.file, services: [...this.registry.keys()] }, 'registry reloaded');
    } catch (err) {
      this.logger.error({ file: this.file, problem: (err as Error).message }, 'registry file invalid; keeping the last good registry');
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
