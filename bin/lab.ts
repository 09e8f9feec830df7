#!/usr/bin/env node
/**
 * The one entry point of the image: `node dist/bin/lab.js <facade|logging|messages|config-server>`.
 * Reads the environment once, starts the service, and stops it cleanly on SIGTERM/SIGINT.
 */
import { ConfigError, type CommonConfig } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { runUntilSignalled } from '../lib/lifecycle.js';
import { SERVICES, isServiceName, type ServiceModule } from '../services/index.js';

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!isServiceName(name)) {
    process.stderr.write(`usage: lab <${Object.keys(SERVICES).join('|')}>\n`);
    process.exit(2);
  }
  const mod: ServiceModule<CommonConfig> = await SERVICES[name]();
  let config;
  try {
    config = mod.loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  try {
    const running = await mod.start(config, logger);
    runUntilSignalled(running, logger, config.SHUTDOWN_TIMEOUT_MS);
  } catch (err) {
    logger.fatal({ err }, `${name} failed to start: ${(err as Error).message}`);
    logger.flush();
    setImmediate(() => process.exit(1));
  }
}

void main();
