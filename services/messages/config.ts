/** Settings of the messages service; see the README's settings table. */
import { z } from 'zod';
import { commonSettings, loadConfig, port } from '../../lib/config.js';

export const messagesSettings = {
  ...commonSettings,
  PORT: port(8082),
  /** The stub's answer (the lab's text). */
  MESSAGES_TEXT: z.string().min(1).max(10_000).default("I'm not implemented yet ^_^"),
};

export type MessagesConfig = ReturnType<typeof loadMessagesConfig>;

export const loadMessagesConfig = (env: Record<string, string | undefined>) => loadConfig(messagesSettings, env);
