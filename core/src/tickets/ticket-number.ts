/** Tickets are shown as `T-<number>`; the API accepts either the id or this form. */
export function formatTicketNumber(number: number): string {
  return `T-${number}`;
}

export function parseTicketNumber(text: string): number | null {
  const match = /^T-(\d{1,10})$/i.exec(text.trim());
  return match ? Number(match[1]) : null;
}
