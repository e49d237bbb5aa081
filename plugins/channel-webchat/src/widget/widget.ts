/**
 * The Switchboard web-chat widget. Embed with
 *   <script src="https://support.example.com/plugins/webchat/widget.js" data-inbox="INBOX_ID" async></script>
 * Optional: data-locale="zh-CN|en-US", and for signed-in users data-user-id, data-user-name and
 * data-user-hash (hex HMAC-SHA256 of the user id with the site secret, computed by your backend).
 *
 * It sends through the web-chat plugin's HTTP API and receives through the core's realtime
 * gateway (/ws, `switchboard.v1`), resuming from the last seen sequence number after a reload
 * or reconnect. Everything renders as text (never as HTML) inside a shadow root.
 */

type Locale = 'en-US' | 'zh-CN';

const TEXT: Record<Locale, Record<string, string>> = {
  'en-US': {
    title: 'Chat with us',
    placeholder: 'Type a message…',
    send: 'Send',
    attach: 'Attach a file',
    open: 'Open chat',
    close: 'Close chat',
    offline: 'We are offline right now. Leave a message and we will reply by email.',
    message: 'Your message',
    leave: 'Leave a message',
    thanks: 'Thanks! We received your message ({n}) and will reply by email.',
    start: 'Start chat',
    name: 'Name',
    email: 'Email',
    phone: 'Phone',
    orderNumber: 'Order number',
    required: 'Please fill in',
    tooLarge: 'The file is too large',
    badType: 'This file type is not allowed',
    download: 'Download',
    fileFailed: 'The file could not be opened',
    failed: 'Not sent. Tap to retry.',
    you: 'You',
    agent: 'Support',
  },
  'zh-CN': {
    title: '在线客服',
    placeholder: '请输入消息…',
    send: '发送',
    attach: '添加附件',
    open: '打开聊天',
    close: '关闭聊天',
    offline: '客服暂时不在线。请留言，我们会通过邮件回复您。',
    message: '留言内容',
    leave: '提交留言',
    thanks: '感谢留言！我们已收到（{n}），会通过邮件回复您。',
    start: '开始咨询',
    name: '姓名',
    email: '邮箱',
    phone: '电话',
    orderNumber: '订单号',
    required: '请填写',
    tooLarge: '文件太大',
    badType: '不支持此文件类型',
    download: '下载',
    fileFailed: '无法打开该文件',
    failed: '发送失败，点击重试',
    you: '我',
    agent: '客服',
  },
};

interface SessionReply {
  visitorId: string;
  sessionToken: string;
  gatewayToken: string;
  conversationId: string | null;
  verified: boolean;
  online: boolean;
  config: {
    title: Partial<Record<Locale, string>>;
    preChatForm: { enabled: boolean; fields: Array<{ name: string; required: boolean }> };
    maxAttachmentBytes: number;
    allowedAttachmentTypes: string[];
  };
}

interface WireMessage {
  id: string;
  seq: number;
  direction: 'in' | 'out';
  authorType: string;
  text: string;
  attachments?: Array<{ id?: string; name: string }> | null;
}

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script || !script.dataset.inbox) return;
  const inbox = script.dataset.inbox;
  const base = new URL(script.src).origin;
  const api = `${base}/plugins/webchat/${encodeURIComponent(inbox)}`;
  const wanted = (script.dataset.locale || navigator.language || 'en-US').toLowerCase();
  const locale: Locale = wanted.startsWith('zh') ? 'zh-CN' : 'en-US';
  const t = TEXT[locale];
  const storeKey = `sb-webchat:${inbox}`;
  const stored = (): { visitorId?: string; formDone?: boolean } => {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || '{}');
    } catch {
      return {};
    }
  };
  const save = (patch: Record<string, unknown>) => {
    try {
      localStorage.setItem(storeKey, JSON.stringify({ ...stored(), ...patch }));
    } catch {
      // private mode: the chat still works for this page view
    }
  };

  let session: SessionReply | undefined;
  let socket: WebSocket | undefined;
  let lastSeq = 0;
  let reconnectDelay = 500;
  const seen = new Set<string>();
  let form: Record<string, string> | undefined;

  // ---------------------------------------------------------------- DOM
  const host = document.createElement('div');
  host.setAttribute('data-switchboard-webchat', '');
  const root = host.attachShadow({ mode: 'open' });
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const style = el('style');
  style.textContent = `
    [hidden]{display:none!important}
    :host{all:initial;font:14px/1.4 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif}
    .bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25);z-index:2147483646}
    .panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 120px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden;z-index:2147483647;color:#111}
    .panel.open{display:flex}
    header{background:#2563eb;color:#fff;padding:12px 14px;font-weight:600}
    .notice{background:#fef3c7;padding:8px 12px;font-size:13px}
    ol{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none}
    li{margin:6px 0;display:flex}
    li span{padding:8px 10px;border-radius:10px;max-width:80%;white-space:pre-wrap;word-break:break-word;background:#f1f5f9}
    li.in{justify-content:flex-end} li.in span{background:#dbeafe}
    li.failed span{background:#fee2e2;cursor:pointer}
    form{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb;align-items:flex-end}
    form.pre{flex-direction:column;align-items:stretch;border:0}
    textarea,input{flex:1;font:inherit;border:1px solid #cbd5e1;border-radius:8px;padding:8px;resize:none}
    button.send,button.start{background:#2563eb;color:#fff;border:0;border-radius:8px;padding:8px 12px;cursor:pointer}
    label.attach{cursor:pointer;padding:8px 4px} label.attach input{display:none}
    button.file{display:block;background:none;border:0;padding:2px 0;color:#1d4ed8;text-decoration:underline;cursor:pointer;font:inherit;text-align:left}
    .error{color:#b91c1c;font-size:12px;padding:0 12px}
  `;
  const bubble = el('button', { class: 'bubble', 'aria-label': t.open, part: 'bubble' }, '💬');
  const panel = el('section', { class: 'panel', role: 'dialog', 'aria-label': t.title });
  const header = el('header', {}, t.title);
  const notice = el('div', { class: 'notice', hidden: '' }, t.offline);
  const list = el('ol', { 'aria-live': 'polite' });
  const error = el('div', { class: 'error', role: 'alert' });
  const composer = el('form', { class: 'composer' });
  const input = el('textarea', { rows: '2', placeholder: t.placeholder, 'aria-label': t.placeholder, name: 'message' });
  const attachLabel = el('label', { class: 'attach', title: t.attach }, '📎');
  const file = el('input', { type: 'file', 'aria-label': t.attach });
  attachLabel.append(file);
  const sendButton = el('button', { class: 'send', type: 'submit' }, t.send);
  composer.append(attachLabel, input, sendButton);
  const preForm = el('form', { class: 'pre', hidden: '' });
  const offlineForm = el('form', { class: 'pre offline', hidden: '', novalidate: '' });
  panel.append(header, notice, list, error, preForm, offlineForm, composer);
  root.append(style, bubble, panel);

  bubble.addEventListener('click', () => {
    const open = panel.classList.toggle('open');
    bubble.setAttribute('aria-label', open ? t.close : t.open);
    if (open) input.focus();
  });

  const render = (key: string, direction: 'in' | 'out', text: string, extra?: string): HTMLLIElement => {
    let item = root.querySelector<HTMLLIElement>(`li[data-key="${CSS.escape(key)}"]`);
    if (!item) {
      item = el('li', { class: direction, 'data-key': key });
      item.append(el('span'));
      list.append(item);
    }
    item.firstElementChild!.textContent = extra ? `${text}\n${extra}` : text;
    list.scrollTop = list.scrollHeight;
    return item;
  };

  // Stored files open as downloads: fetched with the session token, saved through a blob URL.
  const openFile = async (id: string, name: string) => {
    try {
      const response = await fetch(`${api}/attachments/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${session?.sessionToken ?? ''}` } });
      if (!response.ok) throw new Error(String(response.status));
      const url = URL.createObjectURL(await response.blob());
      const link = el('a', { href: url, download: name });
      root.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch {
      error.textContent = t.fileFailed;
    }
  };

  const showMessage = (message: WireMessage) => {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    lastSeq = Math.max(lastSeq, message.seq);
    const plain = (message.attachments ?? []).filter((a) => !a.id);
    const files = plain.map((a) => `📎 ${a.name}`).join('\n');
    const item = render(message.id, message.direction === 'in' ? 'in' : 'out', message.text, files || undefined);
    for (const attachment of message.attachments ?? []) {
      if (!attachment.id) continue;
      const button = el('button', { class: 'file', type: 'button', title: t.download }, `📎 ${attachment.name}`);
      const id = attachment.id;
      button.addEventListener('click', () => void openFile(id, attachment.name));
      item.firstElementChild!.append(button);
    }
  };

  // ---------------------------------------------------------------- network
  const post = async <T>(path: string, body: unknown, auth?: string): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data as { error?: { code?: string } }).error?.code || String(response.status));
    return data as T;
  };

  const user = script.dataset.userId ? { id: script.dataset.userId, hash: script.dataset.userHash || '', name: script.dataset.userName } : undefined;

  const connect = () => {
    if (!session?.conversationId) return;
    socket?.close();
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, ['switchboard.v1', `visitor.${session.gatewayToken}`]);
    socket = ws;
    ws.onopen = () => {
      reconnectDelay = 500;
      ws.send(JSON.stringify({ event: 'subscribe', data: { topic: 'conversation', id: session!.conversationId, afterSeq: lastSeq } }));
    };
    ws.onmessage = (event) => {
      let frame: { event: string; data: { message?: WireMessage } };
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (frame.event === 'message' && frame.data.message) showMessage(frame.data.message);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      // 4001: the token expired; get a fresh session, then resume where we were.
      const again = event.code === 4001 ? start : connect;
      setTimeout(() => void again(), reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15_000);
    };
  };

  const start = async () => {
    try {
      session = await post<SessionReply>('/session', { visitorId: stored().visitorId, user });
    } catch (failure) {
      error.textContent = String((failure as Error).message);
      setTimeout(() => void start(), reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15_000);
      return;
    }
    save({ visitorId: session.visitorId });
    const title = session.config.title[locale];
    if (title) header.textContent = title;
    notice.hidden = session.online;
    if (session.online) buildPreChat();
    else buildOffline();
    connect();
  };

  const buildPreChat = () => {
    const pre = session!.config.preChatForm;
    if (!pre.enabled || !pre.fields.length || stored().formDone || session!.conversationId) return;
    preForm.replaceChildren();
    for (const field of pre.fields) {
      const fieldInput = el('input', {
        name: field.name,
        placeholder: `${t[field.name] || field.name}${field.required ? ' *' : ''}`,
        'aria-label': t[field.name] || field.name,
      });
      if (field.name === 'email') fieldInput.type = 'email';
      if (field.required) fieldInput.required = true;
      preForm.append(fieldInput);
    }
    preForm.append(el('button', { class: 'start', type: 'submit' }, t.start));
    preForm.hidden = false;
    composer.hidden = true;
  };

  preForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const field of session!.config.preChatForm.fields) {
      const value = (preForm.querySelector<HTMLInputElement>(`input[name="${field.name}"]`)?.value || '').trim();
      if (field.required && !value) {
        error.textContent = `${t.required}: ${t[field.name] || field.name}`;
        return;
      }
      if (value) values[field.name] = value;
    }
    form = values;
    save({ formDone: true });
    error.textContent = '';
    preForm.hidden = true;
    composer.hidden = false;
    input.focus();
  });

  // ---------------------------------------------------------------- offline: a message that becomes a ticket
  const buildOffline = () => {
    offlineForm.replaceChildren();
    const nameInput = el('input', { name: 'name', placeholder: t.name, 'aria-label': t.name, autocomplete: 'name' });
    const emailInput = el('input', {
      name: 'email',
      type: 'email',
      placeholder: `${t.email}${session!.verified ? '' : ' *'}`,
      'aria-label': t.email,
      autocomplete: 'email',
    });
    emailInput.required = !session!.verified;
    const text = el('textarea', { name: 'offline-message', rows: '4', placeholder: `${t.message} *`, 'aria-label': t.message });
    text.required = true;
    offlineForm.append(nameInput, emailInput, text, el('button', { class: 'start', type: 'submit' }, t.leave));
    offlineForm.hidden = false;
    preForm.hidden = true;
    composer.hidden = true;
  };

  offlineForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (name: string) => (offlineForm.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[name="${name}"]`)?.value || '').trim();
    const text = value('offline-message');
    const email = value('email');
    if (!text) return void (error.textContent = `${t.required}: ${t.message}`);
    if (!email && !session!.verified) return void (error.textContent = `${t.required}: ${t.email}`);
    error.textContent = '';
    const button = offlineForm.querySelector('button');
    button?.setAttribute('disabled', '');
    const clientMessageId = `o${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    try {
      const reply = await post<{ conversationId: string; messageId: string; ticketNumber: string; gatewayToken: string }>(
        '/offline',
        { clientMessageId, text, email: email || undefined, name: value('name') || undefined },
        session!.sessionToken,
      );
      seen.add(reply.messageId);
      render(reply.messageId, 'in', text);
      offlineForm.hidden = true;
      notice.textContent = t.thanks.replace('{n}', reply.ticketNumber);
      const first = session!.conversationId !== reply.conversationId;
      session = { ...session!, conversationId: reply.conversationId, gatewayToken: reply.gatewayToken };
      if (first || !socket || socket.readyState > 1) connect();
    } catch (failure) {
      error.textContent = `${t.failed} (${(failure as Error).message})`;
    } finally {
      button?.removeAttribute('disabled');
    }
  });

  const readFile = (chosen: File): Promise<string> =>
    new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(',')[1] || '');
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(chosen);
    });

  const send = async (text: string, clientMessageId: string, attachment?: { filename: string; contentType: string; dataBase64: string }) => {
    const item = render(clientMessageId, 'in', text, attachment ? `📎 ${attachment.filename}` : undefined);
    item.classList.remove('failed');
    try {
      const reply = await post<{ conversationId: string; messageId: string; gatewayToken: string }>(
        '/messages',
        { clientMessageId, text, form, attachments: attachment ? [attachment] : undefined },
        session!.sessionToken,
      );
      form = undefined;
      seen.add(reply.messageId);
      item.setAttribute('data-key', reply.messageId);
      if (session!.conversationId !== reply.conversationId || session!.gatewayToken !== reply.gatewayToken) {
        const first = !session!.conversationId;
        session = { ...session!, conversationId: reply.conversationId, gatewayToken: reply.gatewayToken };
        if (first || !socket || socket.readyState > 1) connect();
      }
    } catch (failure) {
      item.classList.add('failed');
      item.title = t.failed;
      item.onclick = () => void send(text, clientMessageId, attachment);
      error.textContent = `${t.failed} (${(failure as Error).message})`;
    }
  };

  composer.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const chosen = file.files?.[0];
    if ((!text && !chosen) || !session) return;
    error.textContent = '';
    let attachment: { filename: string; contentType: string; dataBase64: string } | undefined;
    if (chosen) {
      if (chosen.size > session.config.maxAttachmentBytes) return void (error.textContent = t.tooLarge);
      if (!session.config.allowedAttachmentTypes.includes(chosen.type)) return void (error.textContent = t.badType);
      attachment = { filename: chosen.name, contentType: chosen.type, dataBase64: await readFile(chosen) };
      file.value = '';
    }
    input.value = '';
    await send(text || chosen!.name, `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`, attachment);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  const mount = () => {
    document.body.append(host);
    void start();
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
