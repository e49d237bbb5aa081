/**
 * What tickets need to know about contacts (VIP for SLA policy choice). The contacts module
 * owns contacts; this small port keeps tickets independent of its internals. The default
 * answers "not VIP"; `TicketsModule` wires the real lookup when ContactsService is present.
 */
export interface TicketContactDirectory {
  isVip(contactId: string): Promise<boolean>;
}

export const TICKET_CONTACT_DIRECTORY = Symbol('TICKET_CONTACT_DIRECTORY');

export const NO_VIP_DIRECTORY: TicketContactDirectory = { isVip: async () => false };
