import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { TestCore } from '@switchboard/plugin-sdk/testing';
import { freePort } from '../../../../core/test/harness/servers.mjs';

/** The outbound SMTP sink: a real smtp-server on loopback that keeps every mail it receives, parsed. */
export async function startSmtpSink(): Promise<{ port: number; outbox: ParsedMail[]; close: () => Promise<void> }> {
  const outbox: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        outbox.push(mail);
        callback();
      }, callback);
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, outbox, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Waits for the inbox's conversation holding a message with `text`. */
export function conversationWith(core: TestCore, inboxId: string, text: string, timeoutMs = 15_000) {
  return core.waitFor(
    async () => {
      for (const conversation of await core.conversations(inboxId)) {
        const messages = await core.messages(conversation.id);
        if (messages.some((m) => m.text.includes(text))) return { conversation, messages };
      }
      return undefined;
    },
    timeoutMs,
    `a conversation holding "${text}"`,
  );
}
