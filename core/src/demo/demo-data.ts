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
