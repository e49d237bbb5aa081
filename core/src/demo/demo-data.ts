/** Demo content: a Chinese and an English support team, their customers, conversations, tickets and devices. */

export const DEMO_TEAMS = [
  { id: 'support-cn', name: '中文客服 / Support CN' },
  { id: 'support-en', name: 'English support' },
  { id: 'iot-ops', name: '设备运维 / IoT operations' },
];

export const DEMO_AGENTS = [
  { sub: 'demo-li-na', name: '李娜', email: 'li.na@demo.switchboard.local', roles: ['agent'], groups: ['support-cn'] },
  { sub: 'demo-zhang-wei', name: '张伟', email: 'zhang.wei@demo.switchboard.local', roles: ['agent'], groups: ['support-cn', 'iot-ops'] },
  { sub: 'demo-emma', name: 'Emma Clarke', email: 'emma@demo.switchboard.local', roles: ['agent'], groups: ['support-en'] },
  { sub: 'demo-raj', name: 'Raj Patel', email: 'raj@demo.switchboard.local', roles: ['agent'], groups: ['support-en', 'iot-ops'] },
  { sub: 'demo-chen-sup', name: '陈主管', email: 'chen@demo.switchboard.local', roles: ['supervisor'], groups: ['support-cn', 'support-en', 'iot-ops'] },
];

export const DEMO_INBOXES = [
  { key: 'webchat', name: '官网在线咨询 Website chat', channel: 'webchat', teamId: 'support-cn' },
  { key: 'email', name: 'support@example.com', channel: 'email', teamId: 'support-en' },
  { key: 'api', name: 'CRM / App (API)', channel: 'api', teamId: 'iot-ops' },
];

export interface DemoCustomer {
  key: string;
  name: string;
  email?: string;
  phone?: string;
  language: 'zh' | 'en';
  vip?: boolean;
}

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  { key: 'wang-fang', name: '王芳', phone: '+8613800138000', email: 'wangfang@example.cn', language: 'zh', vip: true },
  { key: 'liu-yang', name: '刘洋', phone: '+8613911112222', language: 'zh' },
  { key: 'zhao-min', name: '赵敏', email: 'zhaomin@example.cn', language: 'zh' },
  { key: 'sun-hao', name: '孙浩', phone: '+8618622223333', language: 'zh' },
  { key: 'zhou-jie', name: '周杰', email: 'zhoujie@example.cn', language: 'zh' },
  { key: 'olivia', name: 'Olivia Brown', email: 'olivia.brown@example.com', language: 'en', vip: true },
  { key: 'james', name: 'James Wilson', email: 'james.wilson@example.com', language: 'en' },
  { key: 'sofia', name: 'Sofia Martinez', email: 'sofia.m@example.com', language: 'en' },
  { key: 'noah', name: 'Noah Schmidt', email: 'noah.schmidt@example.de', language: 'en' },
  { key: 'acme', name: 'ACME Cold Chain (运维)', email: 'ops@acme-coldchain.example', language: 'zh' },
];

export interface DemoConversation {
  customer: string;
  inbox: 'webchat' | 'email' | 'api';
  agent?: string;
  /** Days before today. */
  daysAgo: number;
  messages: Array<{ from: 'customer' | 'agent' | 'bot' | 'note'; text: string; afterMinutes: number }>;
  resolve?: boolean;
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  tags?: string[];
  csat?: number;
  ticket?: { subject: string; type: 'question' | 'incident' | 'problem' | 'task'; priority: 'low' | 'normal' | 'high' | 'urgent'; solve?: boolean };
}

export const DEMO_CONVERSATIONS: DemoConversation[] = [
  {
    customer: 'wang-fang',
    inbox: 'webchat',
    agent: 'demo-li-na',
    daysAgo: 12,
    priority: 'high',
    tags: ['路由器', 'router'],
    messages: [
      { from: 'customer', text: '你好，我家的路由器一直闪红灯，上不了网，怎么办？', afterMinutes: 0 },
      { from: 'agent', text: '王女士您好！请先拔掉电源等 30 秒再插上，看看指示灯是否变绿。', afterMinutes: 3 },
      { from: 'customer', text: '重启之后好了，谢谢！', afterMinutes: 9 },
    ],
    resolve: true,
    csat: 5,
  },
  {
    customer: 'liu-yang',
    inbox: 'webchat',
    agent: 'demo-zhang-wei',
    daysAgo: 11,
    tags: ['账单', 'billing'],
    messages: [
      { from: 'customer', text: '这个月的账单为什么多扣了 50 元？', afterMinutes: 0 },
      { from: 'agent', text: '刘先生您好，我查一下您的账户，请稍等。', afterMinutes: 4 },
      { from: 'note', text: '核对后发现是重复扣费，已提交退款。', afterMinutes: 10 },
      { from: 'agent', text: '已为您申请退款，3 个工作日内原路退回。', afterMinutes: 12 },
    ],
    resolve: true,
    csat: 4,
    ticket: { subject: '重复扣费退款 Duplicate charge refund', type: 'task', priority: 'normal', solve: true },
  },
  {
    customer: 'olivia',
    inbox: 'email',
    agent: 'demo-emma',
    daysAgo: 10,
    priority: 'urgent',
    tags: ['outage'],
    messages: [
      { from: 'customer', text: 'Our whole office lost connectivity this morning. This is urgent, we have 40 people idle!', afterMinutes: 0 },
      {
        from: 'agent',
        text: 'Hi Olivia, I am sorry about this. I have escalated it to our network team and will update you within 30 minutes.',
        afterMinutes: 6,
      },
      { from: 'agent', text: 'The upstream fault is fixed; connectivity should be back. Could you confirm?', afterMinutes: 55 },
      { from: 'customer', text: 'Confirmed, we are back online. Thanks for the quick help.', afterMinutes: 70 },
    ],
    resolve: true,
    csat: 5,
    ticket: { subject: 'Office outage at Olivia Brown Ltd', type: 'incident', priority: 'urgent', solve: true },
  },
  {
    customer: 'james',
    inbox: 'email',
    agent: 'demo-raj',
    daysAgo: 9,
    tags: ['delivery'],
    messages: [
      { from: 'customer', text: 'Where is my replacement unit? Order #44821 was shipped a week ago.', afterMinutes: 0 },
      { from: 'agent', text: 'Hi James, the courier shows it arrives tomorrow before noon. Tracking: SF1029384756.', afterMinutes: 25 },
    ],
    resolve: true,
    csat: 3,
  },
  {
    customer: 'zhao-min',
    inbox: 'webchat',
    daysAgo: 8,
    messages: [
      { from: 'customer', text: '营业时间是几点到几点？', afterMinutes: 0 },
      { from: 'bot', text: '我们的在线客服时间是周一至周五 9:00–18:00，节假日除外。', afterMinutes: 0 },
    ],
    resolve: true,
  },
  {
    customer: 'sofia',
    inbox: 'email',
    agent: 'demo-emma',
    daysAgo: 7,
    tags: ['refund'],
    messages: [
      { from: 'customer', text: 'I want to return the speaker I bought, it crackles at high volume.', afterMinutes: 0 },
      { from: 'agent', text: 'Sorry to hear that, Sofia. I have created a return label and sent it to your email.', afterMinutes: 8 },
    ],
    resolve: true,
    csat: 4,
    ticket: { subject: 'Return: speaker crackling', type: 'question', priority: 'low', solve: true },
  },
  {
    customer: 'sun-hao',
    inbox: 'webchat',
    agent: 'demo-li-na',
    daysAgo: 6,
    tags: ['投诉'],
    messages: [
      { from: 'customer', text: '你们的安装师傅迟到了两个小时，太过分了！', afterMinutes: 0 },
      { from: 'agent', text: '孙先生，非常抱歉给您带来不便。我们已记录投诉，并为您补偿一个月服务费。', afterMinutes: 5 },
    ],
    resolve: true,
    csat: 2,
  },
  {
    customer: 'noah',
    inbox: 'email',
    agent: 'demo-raj',
    daysAgo: 5,
    messages: [
      { from: 'customer', text: 'Can I upgrade my plan to 1 Gbit without changing the contract end date?', afterMinutes: 0 },
      { from: 'agent', text: 'Yes, Noah. The upgrade keeps your end date; the new price applies from the next bill.', afterMinutes: 14 },
    ],
    resolve: true,
    csat: 5,
  },
  {
    customer: 'zhou-jie',
    inbox: 'webchat',
    agent: 'demo-zhang-wei',
    daysAgo: 4,
    messages: [
      { from: 'customer', text: '发票抬头写错了，能重开吗？', afterMinutes: 0 },
      { from: 'agent', text: '可以的，请提供正确的抬头和税号，我们 1 个工作日内重开。', afterMinutes: 2 },
    ],
    resolve: true,
    csat: 5,
  },
  {
    customer: 'wang-fang',
    inbox: 'email',
    agent: 'demo-emma',
    daysAgo: 3,
    messages: [
      { from: 'customer', text: 'Hello, I am traveling abroad next month. Does my plan include roaming in Japan?', afterMinutes: 0 },
      { from: 'agent', text: 'Hi Ms Wang, roaming in Japan is included: 5 GB per month at no extra cost.', afterMinutes: 30 },
    ],
    resolve: true,
    csat: 4,
  },
  {
    customer: 'liu-yang',
    inbox: 'webchat',
    daysAgo: 2,
    messages: [
      { from: 'customer', text: '怎么修改宽带密码？', afterMinutes: 0 },
      { from: 'bot', text: '登录 App → 我的 → 宽带设置 → 修改密码。需要人工帮忙请回复“人工”。', afterMinutes: 0 },
      { from: 'customer', text: '人工', afterMinutes: 2 },
    ],
  },
  {
    customer: 'james',
    inbox: 'email',
    agent: 'demo-raj',
    daysAgo: 1,
    priority: 'high',
    messages: [
      { from: 'customer', text: 'The replacement unit also fails to boot. This is the second one!', afterMinutes: 0 },
      { from: 'note', text: 'Second DOA unit from batch B-2026-09. Check with logistics.', afterMinutes: 20 },
    ],
    ticket: { subject: 'Second replacement unit dead on arrival', type: 'problem', priority: 'high' },
  },
  {
    customer: 'sofia',
    inbox: 'webchat',
    daysAgo: 0,
    messages: [{ from: 'customer', text: 'Hi, is anyone there? My return label does not scan at the post office.', afterMinutes: 0 }],
  },
  {
    customer: 'zhao-min',
    inbox: 'webchat',
    agent: 'demo-li-na',
    daysAgo: 0,
    messages: [
      { from: 'customer', text: '我想办理宽带续约，有什么优惠吗？', afterMinutes: 0 },
      { from: 'agent', text: '赵女士您好，续约两年可享 8 折，另送一台 Wi-Fi 6 路由器。', afterMinutes: 1 },
    ],
  },
  {
    customer: 'acme',
    inbox: 'api',
    agent: 'demo-zhang-wei',
    daysAgo: 0,
    priority: 'urgent',
    tags: ['冷库', 'device'],
    messages: [{ from: 'customer', text: '上海 2 号冷库温度报警，请尽快派人检查！Cold room 2 in Shanghai is alarming.', afterMinutes: 0 }],
  },
];

export const DEMO_CANNED = [
  { name: '路由器重启 Router restart', shortcut: 'router', body: '{{contact.name}}您好！请先拔掉路由器电源，等待 30 秒后再插上，指示灯变绿即可恢复。' },
  { name: 'Greeting', shortcut: 'hi', body: 'Hello {{contact.name}}, thanks for contacting us. How can I help?' },
  { name: '问候 Greeting (zh)', shortcut: 'nihao', body: '{{contact.name}}您好，很高兴为您服务，请问有什么可以帮您？' },
  { name: 'Refund policy', shortcut: 'refund', body: 'Refunds are returned to the original payment method within 3 business days.' },
  { name: '退款说明 Refund (zh)', shortcut: 'tuikuan', body: '退款将在 3 个工作日内原路退回，请留意账户。' },
  { name: 'Closing', shortcut: 'bye', body: 'Is there anything else I can help with? Have a great day!' },
];

export const DEMO_DEVICES = [
  {
    id: 'CR-SH-01',
    name: '上海 1 号冷库 Cold room 1',
    model: 'ColdRoom X200',
    site: 'Shanghai',
    owner: 'acme',
    firmware: '2.4.1',
    base: { temperature: -18, humidity: 62, power_kw: 4.1 },
  },
  {
    id: 'CR-SH-02',
    name: '上海 2 号冷库 Cold room 2',
    model: 'ColdRoom X200',
    site: 'Shanghai',
    owner: 'acme',
    firmware: '2.4.1',
    base: { temperature: -18, humidity: 60, power_kw: 4.3 },
    fault: true,
  },
  {
    id: 'CR-SZ-01',
    name: '深圳冷库 Cold room SZ',
    model: 'ColdRoom X200',
    site: 'Shenzhen',
    owner: 'acme',
    firmware: '2.3.9',
    base: { temperature: -20, humidity: 58, power_kw: 4.0 },
  },
  {
    id: 'RT-BJ-0042',
    name: '北京 Wi-Fi 6 路由器',
    model: 'Router AX3000',
    site: 'Beijing',
    owner: 'wang-fang',
    firmware: '1.8.0',
    base: { temperature: 48, cpu: 22, clients: 9 },
  },
  {
    id: 'RT-LON-0007',
    name: 'London office router',
    model: 'Router AX3000',
    site: 'London',
    owner: 'olivia',
    firmware: '1.8.0',
    base: { temperature: 51, cpu: 35, clients: 41 },
  },
  {
    id: 'RT-BER-0003',
    name: 'Berlin home router',
    model: 'Router AX3000',
    site: 'Berlin',
    owner: 'noah',
    firmware: '1.7.2',
    base: { temperature: 45, cpu: 12, clients: 4 },
  },
];

export interface DemoKbEntry {
  kind: 'faq' | 'article';
  title: string;
  questions: string[];
  /** Rich text (the knowledge base's allow-list). */
  answer: string;
  language: 'zh' | 'en';
  tags: string[];
  audience?: 'public' | 'internal';
  /** Variants added in a second version (so the history has a diff to show). */
  laterVariants?: string[];
}

/** Published knowledge base: what the bot answers on the web chat and what assist suggests to agents. */
export const DEMO_KB: DemoKbEntry[] = [
  {
    kind: 'faq',
    title: '路由器指示灯闪红灯怎么办？',
    questions: ['路由器指示灯闪红灯怎么办？', '路由器一直闪红灯上不了网', '路由器红灯亮了', 'Wi-Fi 连不上，路由器亮红灯'],
    answer:
      '<p>红灯表示路由器没有连上外网。请按以下步骤处理：</p><ol><li>拔掉路由器电源，等待 30 秒后重新插上；</li><li>检查入户网线是否插紧（WAN 口）；</li><li>等待约 2 分钟，指示灯变绿即恢复。</li></ol><p>如果仍是红灯，请回复<strong>转人工</strong>，客服会为您远程检测。</p>',
    language: 'zh',
    tags: ['路由器', '故障'],
  },
  {
    kind: 'faq',
    title: '退款多久到账？',
    questions: ['退款多久到账？', '退款什么时候能到', '申请退款后多久退回', '钱什么时候退给我'],
    laterVariants: ['退款几天能到账', '退款一直没到怎么办'],
    answer: '<p>退款审核通过后，会在 <strong>3 个工作日内</strong>原路退回到您的支付账户。信用卡退款以发卡行入账时间为准。</p>',
    language: 'zh',
    tags: ['退款', '账单'],
  },
  {
    kind: 'faq',
    title: '怎么查询订单物流？',
    questions: ['怎么查询订单物流？', '我的快递到哪了', '订单发货了吗', '物流信息在哪看'],
    answer: '<p>您可以在<strong>我的订单</strong>页面查看物流信息，也可以直接发送订单号（如 SO-20240001），机器人会为您查询。</p>',
    language: 'zh',
    tags: ['订单', '物流'],
  },
  {
    kind: 'faq',
    title: '冷库温度报警如何处理？',
    questions: ['冷库温度报警如何处理？', '冷库温度过高报警', '冷库报警了怎么办'],
    answer:
      '<p>请先确认冷库门已关紧、除霜没有在运行。若 15 分钟内温度仍高于 -10°C，系统会自动创建工单并通知运维工程师上门。</p><ul><li>紧急电话：400-800-1234</li><li>设备状态可在 App 的<strong>设备</strong>页查看</li></ul>',
    language: 'zh',
    tags: ['冷库', '设备'],
  },
  {
    kind: 'faq',
    title: '如何开具发票？',
    questions: ['如何开具发票？', '怎么开发票', '我要开发票', '可以开增值税发票吗'],
    answer: '<p>订单完成后，可在<strong>我的订单 → 申请发票</strong>中填写抬头和税号，电子发票会在 1 个工作日内发送到您的邮箱。</p>',
    language: 'zh',
    tags: ['发票', '账单'],
  },
  {
    kind: 'faq',
    title: 'How long does a refund take?',
    questions: ['How long does a refund take?', 'When will I get my money back?', 'refund processing time', 'How many days for a refund'],
    laterVariants: ['my refund has not arrived yet', 'refund still pending'],
    answer:
      '<p>Once approved, refunds go back to the original payment method within <strong>3 business days</strong>. Card refunds may take a little longer to show, depending on your bank.</p>',
    language: 'en',
    tags: ['refund', 'billing'],
  },
  {
    kind: 'faq',
    title: 'My router light is blinking red',
    questions: ['My router light is blinking red', 'router shows a red light', 'no internet and the router is red', 'How do I fix a red router light?'],
    answer:
      '<p>A red light means the router has no internet connection.</p><ol><li>Unplug the router, wait 30 seconds and plug it back in.</li><li>Check that the cable in the WAN port is firmly connected.</li><li>Wait about two minutes: the light should turn green.</li></ol><p>Still red? Type <strong>agent</strong> and a colleague will check the line remotely.</p>',
    language: 'en',
    tags: ['router', 'fault'],
  },
  {
    kind: 'faq',
    title: 'How do I return a product?',
    questions: ['How do I return a product?', 'I want to return my order', 'return policy', 'Can I send it back?'],
    answer:
      '<p>You can return any product within <strong>30 days</strong> of delivery. Start the return from <em>My orders → Return</em>; we email you a prepaid label. See the <a href="https://example.com/returns">returns policy</a>.</p>',
    language: 'en',
    tags: ['returns', 'orders'],
  },
  {
    kind: 'faq',
    title: 'Where is my order?',
    questions: ['Where is my order?', 'track my parcel', 'has my order shipped', 'delivery status'],
    answer: '<p>Send your order number (for example <code>SO-20240001</code>) and I will look it up, or open <em>My orders</em> to see the tracking link.</p>',
    language: 'en',
    tags: ['orders', 'shipping'],
  },
  {
    kind: 'article',
    title: '内部：远程重置客户路由器 / Internal: remote router reset',
    questions: ['如何远程重置客户路由器', 'remote router reset procedure'],
    answer:
      '<h3>步骤 / Steps</h3><ol><li>在设备页确认路由器在线 / Check the router is online on the device page.</li><li>在 ACS 控制台执行 <code>factory-reset</code> / Run <code>factory-reset</code> in the ACS console.</li><li>提醒客户 5 分钟后重新连接 Wi-Fi / Ask the customer to reconnect after 5 minutes.</li></ol>',
    language: 'zh',
    tags: ['路由器', 'internal'],
    audience: 'internal',
  },
];

/**
 * Bot flows. `order_status` calls the ERP (a placeholder URL: replace it with your own; offline,
 * the call fails and the flow hands over politely). `invoice_request` collects the order number
 * and e-mail and hands the request to an agent with both in the hand-over note.
 */
export const DEMO_FLOWS = [
  `# Order status: asks for the order number, queries the ERP and branches on its answer.
# Replace erp.example.com with your ERP (add the host to the inbox's allowedPrivateHosts if it is on your network).
name: order_status
description: Where is my order? / 查订单
trigger:
  intents: [order_status]
  minConfidence: 0.6
  phrases: ['where is my order', 'order status', 'track my order', '查订单', '订单状态', '我的订单到哪了']
timeoutSeconds: 300
timeoutMessage:
  en: 'I stopped the order lookup since we did not hear back. Write again any time.'
  zh: '您较长时间没有回复，订单查询已结束，如需帮助请随时留言。'
steps:
  - id: ask_order
    type: ask
    slot: order_number
    entity: order_number
    prompt:
      en: 'Sure. What is your order number? It looks like SO-20240001.'
      zh: '好的，请提供您的订单号（格式如 SO-20240001）。'
    invalid:
      en: "That doesn't look like an order number (for example SO-20240001). Please check and send it again."
      zh: '这不是有效的订单号（格式如 SO-20240001），请核对后重新发送。'
    maxAttempts: 3
    onFail: handover
  - id: lookup
    type: call
    http:
      method: GET
      url: 'https://erp.example.com/api/orders/{{slots.order_number}}'
      timeoutMs: 3000
    result: order
    next:
      - when: { path: results.order.data.status, equals: shipped }
        goto: shipped
      - when: { path: results.order.httpStatus, equals: 404 }
        goto: not_found
      - goto: other
    onError: unavailable
  - id: shipped
    type: reply
    text:
      en: 'Order {{slots.order_number}} has shipped with {{results.order.data.carrier}}, expected on {{results.order.data.eta}}.'
      zh: '订单 {{slots.order_number}} 已由 {{results.order.data.carrier}} 发出，预计 {{results.order.data.eta}} 送达。'
    end: true
  - id: not_found
    type: reply
    text:
      en: "I couldn't find order {{slots.order_number}}. Please check the number."
      zh: '没有找到订单 {{slots.order_number}}，请核对订单号。'
    end: true
  - id: other
    type: reply
    text:
      en: 'Order {{slots.order_number}} is {{results.order.data.status}}.'
      zh: '订单 {{slots.order_number}} 当前状态：{{results.order.data.status}}。'
    end: true
  - id: unavailable
    type: handover
    text:
      en: "I can't reach the order system right now, so I'm passing order {{slots.order_number}} to a colleague."
      zh: '暂时无法连接订单系统，已将订单 {{slots.order_number}} 转给人工客服处理。'
`,
  `# Invoice request: collects the order number and the e-mail address, then hands over to billing.
name: invoice_request
description: Request an invoice / 申请发票
trigger:
  phrases: ['request an invoice', 'need an invoice', '申请发票', '开发票']
timeoutSeconds: 600
steps:
  - id: ask_order
    type: ask
    slot: order_number
    entity: order_number
    prompt:
      en: 'Which order is the invoice for? (for example SO-20240001)'
      zh: '请问需要为哪个订单开发票？（如 SO-20240001）'
    invalid:
      en: 'Please send an order number such as SO-20240001.'
      zh: '请发送有效的订单号，例如 SO-20240001。'
  - id: ask_email
    type: ask
    slot: email
    entity: email
    prompt:
      en: 'Which e-mail address should we send the invoice to?'
      zh: '电子发票发送到哪个邮箱？'
    invalid:
      en: 'That does not look like an e-mail address.'
      zh: '邮箱格式不正确，请重新输入。'
  - id: to_billing
    type: handover
    text:
      en: 'Thanks! Billing will send the invoice for {{slots.order_number}} to {{slots.email}} within one business day.'
      zh: '好的！财务同事会在 1 个工作日内将订单 {{slots.order_number}} 的发票发送到 {{slots.email}}。'
`,
];

/** Bot settings on the web-chat inbox (merged into the defaults). */
export const DEMO_BOT_CONFIG = {
  enabled: true,
  defaultLanguage: 'zh',
  greeting: {
    zh: '您好！我是智能客服小 S，可以帮您查订单、开发票、解答常见问题。',
    en: 'Hi! I am the virtual assistant: I can track orders, request invoices and answer common questions.',
  },
  businessHours: { timezone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5], open: '09:00', close: '18:00' },
  offHoursMessage: {
    zh: '现在是非工作时间（工作日 9:00–18:00），常见问题我仍可以为您解答。',
    en: 'Our team is offline (weekdays 9:00–18:00 Shanghai time); I can still help with common questions.',
  },
  askFeedback: true,
  flows: ['order_status', 'invoice_request'],
};

/**
 * Questions the knowledge base cannot answer, asked on the web chat yesterday: recorded as the bot
 * records a low-confidence turn, so mining proposes them as a new FAQ; the agent's reply in the
 * first conversation becomes an agent-answer proposal (the learning loop).
 */
export const DEMO_UNANSWERED = [
  { customer: 'zhao-min', text: '请问能寄到香港吗？', agentReply: '可以的，香港地区由顺丰配送，3–5 个工作日送达，运费 30 元。' },
  { customer: 'sun-hao', text: '能寄到香港吗？运费多少？' },
  { customer: 'liu-yang', text: '香港地址能寄到吗' },
];
