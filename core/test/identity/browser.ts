/** A tiny browser for login tests: follows redirects and keeps cookies per host (like a user agent would). */
export class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (!cookies) this.jar.set(host, (cookies = new Map()));
    return cookies;
  }

  cookie(url: string, name: string): string | undefined {
    return this.cookies(url).get(name);
  }

  private store(url: string, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === '') this.cookies(url).delete(name);
      else this.cookies(url).set(name, decodeURIComponent(value));
    }
  }

  /** One request with this browser's cookies, no redirect following. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const cookies = [...this.cookies(url)].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
    const headers = new Headers(init.headers);
    if (cookies) headers.set('cookie', cookies);
    this.visited.push(url);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, response);
    return response;
  }

  /**
   * Follows redirects (GET) until a non-redirect answer or until the next URL satisfies `stopAt`;
   * returns the last response and URL.
   */
  async navigate(url: string, options: { stopAt?: (url: URL) => boolean; maxHops?: number } = {}): Promise<{ response: Response; url: string }> {
    let current = url;
    for (let hop = 0; hop < (options.maxHops ?? 10); hop++) {
      const response = await this.request(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      const next = new URL(location, current);
      if (options.stopAt?.(next)) return { response, url: next.toString() };
      current = next.toString();
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
