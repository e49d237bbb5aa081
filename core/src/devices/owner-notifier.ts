import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { SettingsService } from '../settings/settings.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { DeviceRow, FaultEpisodeRow } from './entities/device.entity.js';
import { DEVICE_OWNER_NOTIFICATION_DUE, DEVICE_OWNER_NOTIFIED } from './devices.events.js';

type Locale = 'en-US' | 'zh-CN';

export const DEFAULT_TEMPLATES: Record<Locale, string> = {
  'en-US':
    'Hello {{contact.name}}, we detected a problem with your device {{device.name}} ({{device.id}}) at {{device.site}}: {{fault.title}}. ' +
    'Our team is already working on it under ticket {{ticket.number}}. You do not need to do anything; we will keep you informed.',
  'zh-CN':
    '{{contact.name}}您好，我们检测到您位于{{device.site}}的设备 {{device.name}}（{{device.id}}）出现问题：{{fault.title}}。我们已创建工单 {{ticket.number}} 并正在处理，您无需任何操作，我们会及时告知进展。',
};

export function renderTemplate(template: string, values: Record<string, string | null | undefined>): string {
  return template.replace(/\{\{\s*([a-z]+\.[a-zA-Z]+)\s*\}\}/g, (_, key: string) => values[key] ?? '');
}

/**
 * Tells a device's owner about a fault before they notice: when a fault ticket opens (after quiet
 * hours, via a scheduler timer), a message goes out on the owner's preferred channel. The
 * message's idempotency key is the episode id, so a retry never sends twice.
 */
@Injectable()
export class OwnerNotifier implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('devices');
  private subscription?: Closable;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
    private readonly settings: SettingsService,
    private readonly contacts: ContactsService,
    private readonly conversations: ConversationsService,
    private readonly tickets: TicketsService,
  ) {}

  onModuleInit(): void {
    this.settings.define({
      key: 'devices.notificationTemplates',
      description:
        'Owner notification texts per locale; variables {{contact.name}}, {{device.name}}, {{device.id}}, {{device.site}}, {{fault.title}}, {{ticket.number}}',
      default: DEFAULT_TEMPLATES,
      validate: (value) => {
        if (!value || typeof value !== 'object') return 'must be an object keyed by locale (en-US, zh-CN)';
        for (const [locale, text] of Object.entries(value as Record<string, unknown>)) {
          if (!['en-US', 'zh-CN'].includes(locale)) return `unknown locale ${locale}`;
          if (typeof text !== 'string' || text.length < 1 || text.length > 2000) return `${locale} must be a text of 1–2000 characters`;
        }
        return null;
      },
    });
    this.settings.define({
      key: 'devices.notificationInboxes',
      description: 'Inbox to use per channel for owner notifications, e.g. { "email": "<inbox id>" }; otherwise the first inbox of that channel',
      default: {},
      validate: (value) => (value && typeof value === 'object' && !Array.isArray(value) ? null : 'must be an object mapping channel to inbox id'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.consume<EventEnvelope<{ episodeId: string }>>({
      name: 'devices-owner-notifier',
      subject: DEVICE_OWNER_NOTIFICATION_DUE,
      delivery: 'one-instance',
      handler: async (message) => {
        await this.notify(message.data.data.episodeId);
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.close();
  }

  async notify(episodeId: string): Promise<boolean> {
    const manager = this.dataSource.manager;
    const episode = await manager.findOne(FaultEpisodeRow, { where: { id: episodeId } });
    if (!episode || episode.ownerNotified) return false;
    const device = await manager.findOne(DeviceRow, { where: { id: episode.deviceId } });
    if (!device?.ownerContactId) return false;
    const contact = await this.contacts.get(device.ownerContactId);
    const channel = preferredChannel(contact);
    if (!channel) {
      this.logger.warn({ episodeId, deviceId: device.id }, 'owner has no reachable channel; not notified');
      return false;
    }
    const configured = this.settings.get<Record<string, string>>('devices.notificationInboxes')[channel];
    const inbox = configured ? await this.conversations.getInbox(configured) : (await this.conversations.listInboxes(null, { channel }))[0];
    if (!inbox) {
      this.logger.warn({ episodeId, channel }, "no inbox for the owner's channel; not notified");
      return false;
    }
    const locale: Locale = contact.language?.toLowerCase().startsWith('zh')
      ? 'zh-CN'
      : contact.language
        ? 'en-US'
        : (this.settings.get<Locale>('general.defaultLocale') ?? 'en-US');
    const templates = { ...DEFAULT_TEMPLATES, ...this.settings.get<Partial<Record<Locale, string>>>('devices.notificationTemplates') };
    const ticket = episode.ticketId ? await this.tickets.get(SYSTEM_ACTOR, episode.ticketId) : null;
    const text = renderTemplate(templates[locale], {
      'contact.name': contact.name ?? '',
      'device.name': device.name,
      'device.id': device.id,
      'device.site': device.site ?? device.location ?? '',
      'fault.title': episode.title,
      'ticket.number': ticket?.number ?? '',
    });
    const conversation = await this.conversations.createConversation(SYSTEM_ACTOR, {
      contactId: contact.id,
      inboxId: inbox.id,
      priority: 'high',
      tags: ['device-fault'],
      threadKey: `device-fault:${episodeId}`,
    });
    await this.conversations.postMessage(SYSTEM_ACTOR, conversation.id, {
      text,
      idempotencyKey: `device-notify:${episodeId}`,
      authorType: 'system',
      authorId: 'devices',
    });
    if (ticket) await this.tickets.link(SYSTEM_ACTOR, ticket.id, { kind: 'conversation', refId: conversation.id });
    await this.uow.run(async (tx) => {
      await tx.manager.update(FaultEpisodeRow, { id: episodeId }, { ownerNotified: true });
      await tx.emit({
        subject: DEVICE_OWNER_NOTIFIED,
        data: { episodeId, deviceId: device.id, contactId: contact.id, channel, conversationId: conversation.id },
        id: `owner-notified:${episodeId}`,
      });
    });
    return true;
  }
}

function preferredChannel(contact: { attributes: Record<string, unknown>; emails: unknown[]; identities: Array<{ channel: string }> }): string | null {
  const preferred = contact.attributes?.preferredChannel;
  if (typeof preferred === 'string' && preferred) return preferred;
  if (contact.emails?.length) return 'email';
  return contact.identities?.[0]?.channel ?? null;
}
