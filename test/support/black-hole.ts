/**
 * A vanished instance, without iptables: an address where the first two connections are made (the
 * kernel completes them) and then never answered, as kept-alive connections to a lost node are,
 * and where every later connection is never made, as a SYN to a lost node never is. A listening
 * socket with a backlog of 1 in a worker thread whose event loop is parked: nothing is ever
 * accepted, so once the kernel's queue holds two connections it drops every further SYN.
 */
import { Worker } from 'node:worker_threads';

export interface BlackHole {
  url: string;
  close(): Promise<void>;
}

const LISTENER = `
const { workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer(() => {});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  Atomics.store(workerData, 1, server.address().port);
  Atomics.notify(workerData, 1);
  Atomics.wait(workerData, 0, 0);
});
`;

export async function blackHole(): Promise<BlackHole> {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(LISTENER, { eval: true, workerData: shared });
  while (Atomics.load(shared, 1) === 0) await new Promise((r) => setTimeout(r, 5));
  return {
    url: `http://127.0.0.1:${Atomics.load(shared, 1)}`,
    close: async () => {
      Atomics.store(shared, 0, 1);
      Atomics.notify(shared, 0);
      await worker.terminate();
    },
  };
}
