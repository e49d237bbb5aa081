import { describe, expect, it } from '@jest/globals';
import { KbIndex } from '../../src/nlp/retrieval.js';
import { RetrievalService } from '../../src/nlp/retrieval.service.js';

const KB = [
  {
    id: 'refund',
    questions: ['How do I get a refund?', 'I want my money back', 'refund policy', '怎么退款', '钱什么时候退回来'],
    text: 'Refunds go back to the original payment method within 5 days.',
  },
  { id: 'shipping', questions: ['How long does delivery take?', 'when will my parcel arrive', 'shipping time', '多久能到货', '快递几天到'] },
  { id: 'password', questions: ['I forgot my password', 'reset password', "can't log in", '忘记密码', '登录不了怎么办'] },
  { id: 'invoice', questions: ['Can I get an invoice?', 'send me a receipt', 'VAT invoice', '怎么开发票', '要收据'] },
  { id: 'cancel', questions: ['cancel my order', 'how to cancel a purchase', 'stop my order', '取消订单', '不想要了怎么取消'] },
];

describe('KB retrieval', () => {
  it('ranks the right entry first for paraphrases in en and zh (traditional too)', () => {
    const index = new KbIndex(KB);
    expect(index.trainedOn).toBeGreaterThan(0);
    const cases: Array<[string, string]> = [
      ['I would like my money refunded', 'refund'],
      ['how many days until the package arrives', 'shipping'],
      ['password reset please', 'password'],
      ['need a receipt for my purchase', 'invoice'],
      ['我想取消刚下的订单', 'cancel'],
      ['忘記密碼了', 'password'],
      ['我要退款，钱会退到哪里', 'refund'],
    ];
    for (const [query, id] of cases) expect([query, index.search(query, 3)[0]?.id]).toEqual([query, id]);
  });

  it('returns top k with scores in [0, 1], best first', () => {
    const hits = new KbIndex(KB).search('refund for my order', 3);
    expect(hits.length).toBeLessThanOrEqual(3);
    for (const hit of hits) expect(hit.score).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score);
  });

  it('serves several KBs through the service and handles garbage', () => {
    const service = new RetrievalService();
    service.index('kb1', KB);
    expect(service.search('kb1', 'reset password', 1)[0].id).toBe('password');
    expect(service.search('kb1', '', 3)).toEqual([]);
    expect(service.search('kb1', '😀😀', 3)).toEqual([]);
    expect(service.search('nope', 'refund', 3)).toEqual([]);
  });
});
