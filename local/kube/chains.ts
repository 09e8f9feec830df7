/**
 * iptables chains of the local nodes' own: each one is filled with its rules and jumped to first
 * from the built-in chains it hooks, so that nothing kube-proxy or kube-router adds comes before it.
 */
import { sh } from './shell.js';

export interface OwnChain {
  table?: 'filter' | 'nat';
  name: string;
  /** The built-in chains that jump to it, first. */
  hooks: string[];
  rules: string[][];
}

const iptables = (table: string, args: string[], allowFail = false) => sh('iptables', ['-w', '-t', table, ...args], { allowFail });

/** Creates (or empties) the chain, appends its rules, and puts its jumps first in each hook. Idempotent. */
export function installChain({ table = 'filter', name, hooks, rules }: OwnChain): void {
  iptables(table, ['-N', name], true);
  iptables(table, ['-F', name]);
  for (const rule of rules) iptables(table, ['-A', name, ...rule]);
  for (const hook of hooks) {
    while (iptables(table, ['-D', hook, '-j', name], true).ok);
    iptables(table, ['-I', hook, '1', '-j', name]);
  }
}

/** Removes the jumps and the chain; quiet where there is none. */
export function removeChain({ table = 'filter', name, hooks }: OwnChain): void {
  for (const hook of hooks) while (iptables(table, ['-D', hook, '-j', name], true).ok);
  iptables(table, ['-F', name], true);
  iptables(table, ['-X', name], true);
}

/** Packets each rule of the chain has matched, in order. */
export function chainCounters({ table = 'filter', name }: OwnChain): number[] {
  return iptables(table, ['-L', name, '-v', '-n', '-x']).out.split('\n').slice(2).map((line) => Number(line.trim().split(/\s+/)[0]));
}
